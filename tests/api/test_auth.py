"""Who gets in: bearer tokens in the header only, hashed, scoped, revocable, expiring."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken
from api.services import api_token_revoke
from tests.api.conftest import ApiClient
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


def _error(response) -> dict:
    return response.json()["error"]


def test_no_token_is_401_with_bearer_challenge(client, api_user):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _error(response)["code"] == "not_authenticated"


def test_malformed_authorization_header_is_401(client, api_user):
    response = client.get(URL, HTTP_AUTHORIZATION="Bearer two parts")
    assert response.status_code == 401
    assert _error(response)["code"] == "malformed_token"


def test_unknown_token_is_401(client, api_user):
    response = client.get(URL, HTTP_AUTHORIZATION="Bearer hd_deadbeef_notasecret")
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_token"


def test_wrong_secret_for_a_known_prefix_is_401(client, make_token):
    raw = make_token()
    forged = raw[: raw.rindex("_") + 1] + "x" * 43
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401


def test_valid_token_lists_tickets(api):
    assert api.get(URL).status_code == 200


def test_revoked_token_is_401(client, make_token):
    raw = make_token()
    api_token_revoke(token=ApiToken.objects.get())
    assert ApiClient(client, raw).get(URL).status_code == 401


def test_expired_token_is_401(client, make_token):
    raw = make_token(expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiClient(client, raw).get(URL).status_code == 401


def test_token_of_a_deactivated_user_is_401(client, make_token, api_user):
    raw = make_token()
    api_user.is_active = False
    api_user.save(update_fields=["is_active"])
    assert ApiClient(client, raw).get(URL).status_code == 401


def test_token_without_the_scope_is_403(api_as):
    response = api_as(["contacts:read"]).get(URL)
    assert response.status_code == 403
    assert _error(response)["code"] == "scope_missing"


def test_read_only_token_cannot_write(api_as, queue):
    ticket = TicketFactory(queue=queue)
    response = api_as(["tickets:read"]).post(
        f"/api/v1/tickets/{ticket.pk}/transition/", {"status": "open"}
    )
    assert response.status_code == 403
    assert _error(response)["code"] == "scope_missing"


@pytest.mark.parametrize("name", ["token", "access_token", "api_key"])
def test_token_in_query_string_is_refused_even_with_a_valid_header(api, name):
    response = api.get(URL, {name: api.token})
    assert response.status_code == 401
    assert _error(response)["code"] == "token_in_query"


def test_token_value_in_any_query_parameter_is_refused(api):
    response = api.get(URL, {"q": api.token})
    assert response.status_code == 401
    assert _error(response)["code"] == "token_in_query"


def test_token_is_stored_hashed_never_in_clear(make_token):
    raw = make_token()
    token = ApiToken.objects.get()
    secret = raw.split("_", 2)[2]
    assert raw.startswith(f"hd_{token.prefix}_")
    assert secret not in token.secret_hash
    assert len(token.secret_hash) == 64


def test_last_use_time_and_client_address_are_recorded_through_trusted_proxy(api, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    api.get(URL, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    assert token.last_used_ip == "198.51.100.7"


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(api, settings):
    settings.TRUSTED_PROXIES = []
    api.get(URL, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert ApiToken.objects.get().last_used_ip == "203.0.113.9"


def test_staff_without_ticket_permissions_gets_403(client, make_token):
    editor = UserFactory(username="kb-editor")
    response = ApiClient(client, make_token(user=editor)).get(URL)
    assert response.status_code == 403
    assert _error(response)["code"] == "not_staff"


def test_session_of_a_non_staff_user_gets_403(client, db):
    citizen = UserFactory(username="citizen", is_staff=False)
    client.force_login(citizen)
    assert client.get(URL).status_code == 403
