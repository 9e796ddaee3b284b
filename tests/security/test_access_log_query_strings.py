"""Access logs keep the path, never the query string: status and chat links carry their
secret token there (`/appeal/SP-0042/?t=…`)."""

import io
import logging

import pytest
from daphne.access import AccessLogGenerator

from helpdesk.serve import HelpdeskCommandLineInterface, QuerylessLogServer

TOKEN = "s3cr3t-status-token"


def _server(stream: io.StringIO) -> QuerylessLogServer:
    return QuerylessLogServer(
        application=None, endpoints=["tcp:port=0"], action_logger=AccessLogGenerator(stream)
    )


def test_web_server_access_log_leaves_out_the_query_string():
    stream = io.StringIO()
    _server(stream).log_action(
        "http",
        "complete",
        {
            "path": f"/appeal/SP-0042/?t={TOKEN}",
            "status": 200,
            "method": "GET",
            "client": "10.0.0.2:5000",
            "time_taken": 0.01,
            "size": 100,
        },
    )

    assert '"GET /appeal/SP-0042/"' in stream.getvalue()
    assert TOKEN not in stream.getvalue()


def test_web_server_access_log_leaves_out_the_websocket_query_string():
    stream = io.StringIO()
    _server(stream).log_action(
        "websocket", "connecting", {"path": f"/ws/chat/?token={TOKEN}", "client": "10.0.0.2:1"}
    )

    assert "/ws/chat/" in stream.getvalue()
    assert TOKEN not in stream.getvalue()


def test_web_server_refuses_proxy_headers():
    with pytest.raises(SystemExit):
        HelpdeskCommandLineInterface().run(["--proxy-headers", "helpdesk.asgi:application"])


def test_runserver_request_log_leaves_out_the_query_string(caplog):
    with caplog.at_level(logging.INFO, logger="django.channels.server"):
        logging.getLogger("django.channels.server").info(
            "HTTP %(method)s %(path)s %(status)s [%(time_taken).2f, %(client)s]",
            {
                "method": "GET",
                "path": f"/appeal/SP-0042/?t={TOKEN}",
                "status": 200,
                "time_taken": 0.01,
                "client": "127.0.0.1:5000",
            },
        )

    assert "GET /appeal/SP-0042/ 200" in caplog.text
    assert TOKEN not in caplog.text
