"""Staff sign-in is throttled: N failures lock the account and the address for a while.

django-axes counts failures per username and per client address separately (the
address from helpdesk/client_address.py, so a forged X-Forwarded-For changes nothing).
"""

import logging

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5


def _sign_in(client, username, password, address="10.0.0.1", **extra):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **extra,
    )


def _fail(client, username, times, address="10.0.0.1", **extra):
    for _ in range(times):
        response = _sign_in(client, username, "wrong-password", address, **extra)
        assert response.status_code in (200, 429)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_account_is_locked_after_the_failure_limit_with_a_russian_page(
    client, operator, translations
):
    _fail(client, "operator", 5)
    response = _sign_in(client, "operator", PASSWORD, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа" in response.content.decode()
    assert "15 минут" in response.content.decode()
    assert not _signed_in(client)


def test_four_failures_do_not_lock(client, operator):
    _fail(client, "operator", 4)
    assert _sign_in(client, "operator", PASSWORD).status_code == 302
    assert _signed_in(client)


def test_the_account_is_locked_from_any_address(client, operator):
    _fail(client, "operator", 5, address="10.0.0.1")
    assert _sign_in(client, "operator", PASSWORD, address="10.0.0.99").status_code == 429


def test_the_address_is_locked_for_any_account(client, operator):
    colleague = UserFactory(username="colleague")
    _fail(client, "operator", 5, address="10.0.0.1")
    assert _sign_in(client, colleague.username, PASSWORD, address="10.0.0.1").status_code == 429


def test_an_ipv6_client_is_locked_by_its_64_network(client, operator):
    """Axes keeps the address in an IP column (`inet` on PostgreSQL): the /64 key must be
    an address there, and hopping inside one's own /64 gives no fresh address."""
    colleague = UserFactory(username="colleague")
    for host in range(1, 6):
        _fail(client, "operator", 1, address=f"2001:db8:1:2::{host}")
    response = _sign_in(client, colleague.username, PASSWORD, address="2001:db8:1:2::99")
    assert response.status_code == 429
    assert (
        _sign_in(client, colleague.username, PASSWORD, address="2001:db8:1:3::1").status_code == 302
    )


def test_a_sign_in_without_a_client_address_still_works(client, operator):
    """Test clients and some socket setups have no REMOTE_ADDR: no crash on PostgreSQL."""
    client.force_login(operator)
    assert _signed_in(client)


def test_failures_on_one_account_do_not_lock_another_account_elsewhere(client, operator):
    colleague = UserFactory(username="colleague")
    _fail(client, "operator", 6, address="10.0.0.1")
    assert _sign_in(client, colleague.username, PASSWORD, address="10.0.0.2").status_code == 302
    assert _signed_in(client)


def test_a_successful_sign_in_resets_the_count(client, operator):
    _fail(client, "operator", 4)
    assert _sign_in(client, "operator", PASSWORD).status_code == 302
    client.logout()
    _fail(client, "operator", 4)
    assert _sign_in(client, "operator", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_does_not_give_a_fresh_address(client, settings, operator):
    settings.TRUSTED_PROXIES = []
    for n in range(5):
        _sign_in(client, f"guess{n}", "x", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    response = _sign_in(client, "operator", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 429


def test_clients_behind_a_trusted_proxy_are_counted_apart(client, settings, operator):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for n in range(5):
        _sign_in(client, f"guess{n}", "x", HTTP_X_FORWARDED_FOR="203.0.113.5")
    response = _sign_in(client, "operator", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert response.status_code == 302


def test_a_superuser_unlocks_an_account_from_the_user_list(client, operator, supervisor):
    _fail(client, "operator", 5, address="10.0.0.1")
    admin_client = type(client)()
    admin_client.force_login(supervisor)
    response = admin_client.post(
        "/admin/auth/user/",
        {"action": "unlock_sign_in", "_selected_action": [operator.pk]},
        REMOTE_ADDR="10.0.0.50",
    )
    assert response.status_code == 302
    assert _sign_in(client, "operator", PASSWORD, address="10.0.0.1").status_code == 302


def test_a_staff_member_without_superuser_cannot_unlock(client, operator):
    colleague = UserFactory(username="colleague")
    colleague.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    _fail(client, "operator", 5)
    other = type(client)()
    other.force_login(colleague)
    response = other.post(
        "/admin/auth/user/",
        {"action": "unlock_sign_in", "_selected_action": [operator.pk]},
        REMOTE_ADDR="10.0.0.50",
    )
    assert response.status_code == 200  # "no action selected": the action is not offered
    assert _sign_in(client, "operator", PASSWORD).status_code == 429


def test_axes_reset_command_unlocks(client, operator):
    _fail(client, "operator", 5)
    call_command("axes_reset_username", "operator")
    assert _sign_in(client, "operator", PASSWORD).status_code == 302


def test_sign_ins_are_not_narrated_in_the_log_but_lockouts_are(client, operator, caplog):
    caplog.set_level(logging.INFO)
    _sign_in(client, "operator", PASSWORD)
    assert not [r for r in caplog.records if r.name.startswith("axes")]

    _fail(client, "operator", 5)
    axes_records = [r for r in caplog.records if r.name.startswith("axes")]
    assert axes_records
    assert all(r.levelno >= logging.WARNING for r in axes_records)
