"""Staff need a second factor: enrolment with TOTP, the code step of the admin sign-in,
single-use recovery codes, and a superuser's reset of a colleague's factors."""

import io
import re
import time
from base64 import b32encode

import pyotp
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staffauth.services import recovery_codes_regenerate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
STAFF_PAGES = ["/admin/", "/admin/tickets/ticket/", "/dashboard/", "/admin/auth/user/"]


@pytest.fixture
def mfa_on(settings):
    settings.STAFF_MFA_REQUIRED = True
    # django-otp delays the next try after a wrong code by a second: off for tests that
    # send a wrong code then the right one.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _totp_device(user) -> tuple[TOTPDevice, pyotp.TOTP]:
    device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    return device, pyotp.TOTP(b32encode(device.bin_key).decode())


def _code(totp: pyotp.TOTP, steps_ahead: int = 0) -> str:
    # A code is accepted once per 30-second step; the next step's code is still inside
    # django-otp's tolerance of one step, so a test can sign in twice without waiting.
    return totp.at(time.time() + 30 * steps_ahead)


def _password_step(client, username=None, password=PASSWORD, next_url="/admin/"):
    return client.post(
        "/admin/login/",
        {"username": username or "operator", "password": password, "next": next_url},
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_without_a_factor_cannot_open_staff_pages(client, mfa_on, supervisor, path):
    client.force_login(supervisor)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/account/security/"


def test_without_enforcement_staff_sign_in_with_a_password(client, settings, operator):
    settings.STAFF_MFA_REQUIRED = False
    assert _password_step(client).status_code == 302
    index = client.get("/admin/")
    assert index.status_code == 200
    assert 'href="/account/security/"' in index.content.decode()


def test_group_enforcement_leaves_other_staff_alone_but_not_superusers(
    client, mfa_on, settings, operator, supervisor
):
    settings.STAFF_MFA_GROUPS = ["Вторая линия"]
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    client.force_login(supervisor)
    assert client.get("/admin/")["Location"] == "/account/security/"


def test_enrol_totp_shows_a_qr_code_and_ten_recovery_codes(client, mfa_on, operator):
    client.force_login(operator)
    page = client.get("/account/security/totp/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)

    response = client.post("/account/security/totp/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</li>", response.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=operator).confirmed
    # The session that enrolled has proved the factor: staff pages open.
    assert client.get("/admin/").status_code == 200


def test_enrolment_refuses_a_wrong_code(client, mfa_on, operator):
    client.force_login(operator)
    page = client.get("/account/security/totp/").content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500000) % 1000000:06d}"
    response = client.post("/account/security/totp/", {"code": wrong})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=operator, confirmed=True).exists()
    assert client.get("/admin/")["Location"] == "/account/security/"


def test_sign_in_asks_for_the_code_after_the_password(client, mfa_on, operator):
    _, totp = _totp_device(operator)
    response = _password_step(client, next_url="/admin/tickets/ticket/")
    assert response["Location"] == "/admin/login/verify/"
    assert not _signed_in(client)  # the password alone opens nothing
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    response = client.post("/admin/login/verify/", {"code": _code(totp)})
    assert response["Location"] == "/admin/tickets/ticket/"
    assert _signed_in(client)
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused(client, mfa_on, operator):
    _, totp = _totp_device(operator)
    _password_step(client)
    wrong = f"{(int(_code(totp)) + 500000) % 1000000:06d}"
    response = client.post("/admin/login/verify/", {"code": wrong})
    assert response.status_code == 200
    assert not _signed_in(client)
    assert client.post("/admin/login/verify/", {"code": _code(totp)}).status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, mfa_on, settings, operator):
    settings.AXES_FAILURE_LIMIT = 3
    _, totp = _totp_device(operator)
    _password_step(client)
    for _ in range(3):
        client.post("/admin/login/verify/", {"code": "000000"})
    assert client.post("/admin/login/verify/", {"code": _code(totp)}).status_code == 429
    assert not _signed_in(client)


def test_a_recovery_code_works_once(client, mfa_on, operator):
    _totp_device(operator)
    code = recovery_codes_regenerate(user=operator)[0]
    _password_step(client)
    assert client.post("/admin/login/verify/", {"code": code})["Location"] == "/admin/"
    client.logout()
    _password_step(client)
    assert client.post("/admin/login/verify/", {"code": code}).status_code == 200
    assert not _signed_in(client)


def test_a_password_only_session_of_a_user_with_a_factor_is_sent_to_the_code_step(
    client, settings, operator
):
    # Even without enforcement: once enrolled, the factor is always asked for.
    settings.STAFF_MFA_REQUIRED = False
    _totp_device(operator)
    client.force_login(operator)
    assert client.get("/admin/")["Location"].startswith("/admin/login/verify/")
    # ... and cannot add a factor of its own on the security page.
    assert client.get("/account/security/totp/")["Location"].startswith("/admin/login/verify/")


def test_removing_a_factor_needs_the_password(client, mfa_on, operator):
    device, totp = _totp_device(operator)
    recovery_codes_regenerate(user=operator)
    _password_step(client)
    client.post("/admin/login/verify/", {"code": _code(totp)})

    remove = {"kind": "totp", "device": device.pk}
    client.post("/account/security/remove/", {**remove, "password": "wrong-password"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    client.post("/account/security/remove/", {**remove, "password": PASSWORD})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not StaticDevice.objects.filter(user=operator).exists()


def test_a_superuser_resets_a_colleagues_factors_and_ends_their_sessions(
    client, mfa_on, operator, supervisor
):
    device, totp = _totp_device(operator)
    recovery_codes_regenerate(user=operator)
    _password_step(client)
    client.post("/admin/login/verify/", {"code": _code(totp)})
    assert client.get("/admin/").status_code == 200

    boss = type(client)()
    _, boss_totp = _totp_device(supervisor)
    _password_step(boss, username="supervisor")
    boss.post("/admin/login/verify/", {"code": _code(boss_totp)})
    response = boss.post(
        "/admin/auth/user/",
        {"action": "reset_second_factors", "_selected_action": [operator.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert not StaticDevice.objects.filter(user=operator).exists()
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    # Next sign-in: password only, then enrolment.
    _password_step(client)
    assert client.get("/admin/")["Location"] == "/account/security/"


def test_staff_without_superuser_cannot_reset_factors(client, operator):
    colleague = UserFactory(username="colleague", is_superuser=False)
    colleague.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    _totp_device(operator)
    client.force_login(colleague)
    client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factors", "_selected_action": [operator.pk]},
    )
    assert TOTPDevice.objects.filter(user=operator).exists()


def test_mfa_reset_command(operator, capsys):
    _totp_device(operator)
    recovery_codes_regenerate(user=operator)
    call_command("mfa_reset", "operator")
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert not StaticDevice.objects.filter(user=operator).exists()
    assert "2 second-factor device(s) removed" in capsys.readouterr().out


def test_security_page_in_russian(client, operator, translations):
    client.force_login(operator)
    page = client.get("/account/security/totp/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Отсканируйте QR-код" in page


def test_seed_demo_says_how_to_enrol(settings):
    settings.STAFF_MFA_REQUIRED = True
    out = io.StringIO()
    call_command("seed_demo", tickets=5, seed=1, stdout=out)
    assert "/account/security/" in out.getvalue()
    assert "staff pages need it" in out.getvalue()


def test_createsuperuser_then_password_sign_in_leads_to_enrolment(client, mfa_on):
    call_command("createsuperuser", username="root", email="root@example.org", interactive=False)
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.get(username="root")
    root.set_password(PASSWORD)
    root.save()
    response = _password_step(client, username="root")
    assert response["Location"] == "/admin/"
    assert client.get("/admin/")["Location"] == "/account/security/"
    assert client.get("/account/security/").status_code == 200
