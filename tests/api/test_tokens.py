"""Issuing and revoking tokens: the command, the admin, the audit log."""

import io

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken
from api.services import api_token_authenticate
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _create(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", "create", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_command_prints_a_working_token_once_and_audits_it(api_user, queue):
    raw = _create(
        "--user",
        "api-op",
        "--scopes",
        "tickets:read,tickets:write",
        "--queues",
        "navigator",
        "--expires",
        "30",
    )
    token = ApiToken.objects.get()
    assert raw.startswith(f"hd_{token.prefix}_")
    assert token.scopes == ["tickets:read", "tickets:write"]
    assert list(token.queues.all()) == [queue]
    assert token.expires_at is not None
    assert api_token_authenticate(raw=raw, address="127.0.0.1") == token
    event = AuditEvent.objects.get(action="api_token.created")
    assert raw not in str(event.details) and token.prefix in event.object_label


def test_command_refuses_unknown_scope_user_or_queue(api_user):
    with pytest.raises(CommandError, match="tickets:everything"):
        _create("--user", "api-op", "--scopes", "tickets:everything")
    with pytest.raises(CommandError, match="no such user"):
        _create("--user", "nobody", "--scopes", "tickets:read")
    with pytest.raises(CommandError, match="no such queue"):
        _create("--user", "api-op", "--scopes", "tickets:read", "--queues", "nowhere")
    assert not ApiToken.objects.exists()


def test_command_refuses_a_non_staff_user(db):
    UserFactory(username="citizen", is_staff=False)
    with pytest.raises(CommandError):
        _create("--user", "citizen", "--scopes", "tickets:read")


def test_command_revokes_by_prefix_and_audits_it(api_user):
    raw = _create("--user", "api-op", "--scopes", "tickets:read")
    prefix = ApiToken.objects.get().prefix
    call_command("api_token", "revoke", f"hd_{prefix}_", stdout=io.StringIO())
    assert api_token_authenticate(raw=raw, address="") is None
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_admin_shows_the_new_token_once_and_stores_only_its_hash(client, supervisor, api_user):
    client.force_login(supervisor)
    response = client.post(
        "/admin/api/apitoken/add/",
        {"name": "Портал", "user": api_user.pk, "scopes": ["tickets:read"], "queues": []},
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    html = response.content.decode()
    start = html.index('id="api-token"')
    raw = html[html.index(">", start) + 1 : html.index("</code>", start)]
    assert raw.startswith(f"hd_{token.prefix}_")
    assert api_token_authenticate(raw=raw, address="") == token
    assert "no-store" in response["Cache-Control"]
    change = client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert raw not in change
    assert AuditEvent.objects.filter(action="api_token.created", actor=supervisor).exists()


def test_admin_non_superuser_may_issue_tokens_only_for_themselves(client, api_user, db):
    from django.contrib.auth.models import Permission

    manager = UserFactory(username="manager")
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="api"))
    client.force_login(manager)
    client.post(
        "/admin/api/apitoken/add/",
        {"name": "Чужой", "user": api_user.pk, "scopes": ["tickets:read"]},
    )
    assert not ApiToken.objects.exists()


def test_admin_revoke_action(client, supervisor, make_token):
    raw = make_token()
    token = ApiToken.objects.get()
    client.force_login(supervisor)
    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert api_token_authenticate(raw=raw, address="") is None
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=supervisor).exists()


def test_admin_pages_render_and_never_show_a_secret(client, supervisor, make_token):
    raw = make_token()
    token = ApiToken.objects.get()
    client.force_login(supervisor)
    for url in (
        "/admin/api/apitoken/",
        "/admin/api/apitoken/add/",
        f"/admin/api/apitoken/{token.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert raw.split("_", 2)[2] not in response.content.decode()
        assert token.secret_hash not in response.content.decode()
