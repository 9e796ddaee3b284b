"""The OpenAPI schema: committed, current, served, and its docs page needs no CDN."""

import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


def test_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command(
        "spectacular",
        "--lang",
        "en",
        "--validate",
        "--file",
        str(generated),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert generated.read_text() == COMMITTED.read_text(), (
        "docs/openapi.yaml is out of date: run `make openapi` and commit it"
    )


def test_schema_is_openapi_3_1_with_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.1")
    for path in (
        "/api/v1/tickets/",
        "/api/v1/tickets/{id}/",
        "/api/v1/tickets/{id}/messages/",
        "/api/v1/tickets/{id}/transition/",
        "/api/v1/tickets/{id}/escalate/",
        "/api/v1/tickets/{id}/links/",
        "/api/v1/tickets/{id}/assign/",
        "/api/v1/contacts/",
        "/api/v1/queues/",
        "/api/v1/canned-responses/",
        "/api/v1/kb/articles/",
        "/api/v1/kb/search/",
        "/api/v1/callbacks/",
        "/api/v1/calls/",
    ):
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_docs_page_loads_its_assets_from_our_own_static_files(client):
    html = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
