"""ASGI entry point: HTTP through Django's WSGI handler on a fixed thread pool,
websockets through Channels.

Every view is synchronous. Django's own ASGI handler runs each request through a fresh
thread and several async hops, which costs 2-3x the CPU of the view itself on a short
request (docs/bench-history.md, "Public appeal intake": 480 vs 1,330 "hello" requests/s on
this machine). `helpdesk.http_bridge` (a2wsgi's bridge on daemon threads, so that a
request still running at shutdown cannot keep the process alive) hands the request to a
pool of `HTTP_THREADS` threads instead; each thread keeps its database connection
(CONN_MAX_AGE) like a WSGI worker thread.
The same process still serves the chat websockets.

Once everything is imported, the start-up heap is frozen and full garbage collections
move to a timer (`helpdesk/gc_schedule.py`): they were the chat's latency tail.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# Django must be set up before anything imports models (the chat routing does).
django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns as chat_websockets  # noqa: E402
from helpdesk.gc_schedule import schedule_full_collections  # noqa: E402
from helpdesk.http_bridge import WSGIBridge  # noqa: E402
from telephony.routing import websocket_urlpatterns as telephony_websockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIBridge(django_wsgi_app, workers=settings.HTTP_THREADS),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(chat_websockets + telephony_websockets))
        ),
    }
)

schedule_full_collections(settings.GC_FULL_COLLECTION_SECONDS)
