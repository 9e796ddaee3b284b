"""Staff sessions end after STAFF_SESSION_IDLE_MINUTES idle and STAFF_SESSION_MAX_HOURS
in all, on "sign out everywhere", and (other sessions) on a password change."""

import re

import pyotp
import pytest

from staffauth.sessions import LAST_SEEN, SIGNED_IN_AT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _age_session(client, **seconds_ago):
    """Move the session's clocks back instead of waiting."""
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] -= ago
    session.save()


def _sign_in(client, username="operator"):
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302


def test_staff_session_ends_after_the_idle_timeout(client, settings, operator):
    settings.STAFF_SESSION_IDLE_MINUTES = 30
    _sign_in(client)
    _age_session(client, **{LAST_SEEN: 31 * 60})
    response = client.get("/admin/")
    assert response["Location"].startswith("/admin/login/?next=/admin/")
    assert not _signed_in(client)


def test_activity_keeps_the_session(client, settings, operator):
    settings.STAFF_SESSION_IDLE_MINUTES = 30
    _sign_in(client)
    _age_session(client, **{LAST_SEEN: 29 * 60, SIGNED_IN_AT: 29 * 60})
    assert client.get("/admin/").status_code == 200
    _age_session(client, **{LAST_SEEN: 29 * 60, SIGNED_IN_AT: 29 * 60})
    assert client.get("/admin/").status_code == 200


def test_staff_session_ends_after_the_absolute_lifetime(client, settings, operator):
    settings.STAFF_SESSION_MAX_HOURS = 12
    _sign_in(client)
    _age_session(client, **{SIGNED_IN_AT: 12 * 3600 + 60})
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert not _signed_in(client)


def test_a_non_staff_session_is_not_touched(client, settings):
    citizen = UserFactory(username="citizen", is_staff=False)
    client.force_login(citizen)
    client.get("/kb/")
    assert SIGNED_IN_AT not in client.session
    assert _signed_in(client)


def test_sign_out_everywhere_ends_the_other_sessions_only(client, operator):
    other = type(client)()
    _sign_in(client)
    _sign_in(other)
    assert other.get("/admin/").status_code == 200

    response = client.post("/account/security/sessions/")
    assert response["Location"] == "/account/security/"
    assert client.get("/admin/").status_code == 200
    assert other.get("/admin/")["Location"].startswith("/admin/login/")
    assert not _signed_in(other)


def test_a_password_change_ends_the_other_sessions(client, operator):
    other = type(client)()
    _sign_in(client)
    _sign_in(other)
    response = client.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    # Django's update_session_auth_hash keeps the session that changed it...
    assert client.get("/admin/").status_code == 200
    # ...and the session hash of every other one no longer matches.
    assert other.get("/admin/")["Location"].startswith("/admin/login/")
    assert not _signed_in(other)


def test_enrolling_a_factor_ends_the_other_sessions(client, operator):
    other = type(client)()
    _sign_in(client)
    _sign_in(other)  # e.g. someone who knew the password
    page = client.get("/account/security/totp/").content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    client.post("/account/security/totp/", {"code": pyotp.TOTP(secret).now()})
    assert client.get("/admin/").status_code == 200
    assert not _signed_in(other)


def _queries(client, django_assert_max_num_queries, path="/kb/") -> int:
    client.get(path)  # warm up: caches, last-seen stamp
    with django_assert_max_num_queries(1000) as captured:
        client.get(path)
    return len(captured)


def test_staff_checks_add_no_query_to_a_request(
    client, settings, operator, django_assert_max_num_queries
):
    _sign_in(client)
    with_checks = _queries(client, django_assert_max_num_queries)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("staffauth.")]
    assert _queries(client, django_assert_max_num_queries) == with_checks
