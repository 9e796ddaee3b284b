"""ASGI entry for bench/http_floor.py: Django's own ASGI handler or the project's way
(Django's WSGI handler on a thread pool via a2wsgi, as helpdesk/asgi.py does)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floor.settings")

if os.environ.get("FLOOR_HANDLER") == "django-asgi":
    from django.core.asgi import get_asgi_application

    application = get_asgi_application()
else:
    from a2wsgi import WSGIMiddleware
    from django.core.wsgi import get_wsgi_application

    application = WSGIMiddleware(get_wsgi_application(), workers=10)
