"""The project's ASGI application plus one slow intake request, for the shutdown tests.

`POST /slow-intake/?seconds=S&marker=PATH` writes a whole appeal (contact, ticket, first
message, auto-reply outbox row) in one transaction, touches PATH once the writes are in
(so the test knows the request is in flight), then holds the transaction open for S
seconds before committing: a request that a shutdown either lets finish or cuts. Every
other request goes to the real project.
"""

import os
import time
from pathlib import Path
from urllib.parse import parse_qs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_wsgi_app = get_wsgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402

from helpdesk.asgi import application as project_application  # noqa: E402
from helpdesk.http_bridge import WSGIBridge  # noqa: E402
from tickets.models import Contact, Queue, Ticket  # noqa: E402
from tickets.services import ticket_create  # noqa: E402

SLOW_PATH = "/slow-intake/"


def slow_intake(environ, start_response):
    query = parse_qs(environ["QUERY_STRING"])
    seconds = float(query["seconds"][0])
    marker = Path(query["marker"][0])
    close_old_connections()
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                full_name="Медленный Заявитель", email="slow@example.com"
            )
            ticket = ticket_create(
                queue=Queue.objects.get(slug=query["queue"][0]),
                requester=contact,
                channel=Ticket.Channel.WEB,
                subject="slow intake",
                text="written in one transaction",
            )
            marker.touch()
            time.sleep(seconds)
    finally:
        connection.close()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [ticket.reference.encode()]


def dispatch(environ, start_response):
    if environ["PATH_INFO"] == SLOW_PATH:
        return slow_intake(environ, start_response)
    return django_wsgi_app(environ, start_response)


application = ProtocolTypeRouter(
    {
        "http": WSGIBridge(dispatch, workers=settings.HTTP_THREADS),
        "websocket": project_application.application_mapping["websocket"],
    }
)
