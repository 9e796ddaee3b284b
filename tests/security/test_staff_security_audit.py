"""Second-factor changes and "sign out everywhere" land in the audit log, with who did it."""

import re

import pyotp
import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _enrol(client) -> pyotp.TOTP:
    page = client.get("/account/security/totp/").content.decode()
    totp = pyotp.TOTP(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
    assert client.post("/account/security/totp/", {"code": totp.now()}).status_code == 200
    return totp


def test_enrolling_and_removing_a_factor_are_recorded(client, operator):
    client.force_login(operator)
    _enrol(client)
    [enrolled] = _events("mfa.enrolled")
    assert (enrolled.actor_id, enrolled.object_ref) == (operator.pk, f"auth.user:{operator.pk}")
    assert _events("mfa.recovery_codes_issued")

    device = TOTPDevice.objects.get(user=operator)
    client.post(
        "/account/security/remove/",
        {"kind": "totp", "device": device.pk, "password": "secret-pass-123"},
    )
    [removed] = _events("mfa.removed")
    assert removed.actor_id == operator.pk


def test_a_reset_by_a_superuser_is_recorded_with_the_superuser_as_actor(
    client, operator, supervisor
):
    TOTPDevice.objects.create(user=operator, name="TOTP", confirmed=True)
    client.force_login(supervisor)
    client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factors", "_selected_action": [operator.pk]},
        REMOTE_ADDR="10.1.2.3",
    )
    [reset] = _events("mfa.reset")
    assert reset.actor_id == supervisor.pk
    assert reset.object_ref == f"auth.user:{operator.pk}"
    assert reset.address == "10.1.2.3"
    assert reset.details == {"devices": 1, "sessions_ended": 0}


def test_the_mfa_reset_command_is_recorded_without_an_actor(operator):
    TOTPDevice.objects.create(user=operator, name="TOTP", confirmed=True)
    call_command("mfa_reset", "operator")
    [reset] = _events("mfa.reset")
    assert reset.actor_id is None
    assert reset.object_ref == f"auth.user:{operator.pk}"


def test_signing_out_everywhere_is_recorded(client, operator):
    client.force_login(operator)
    client.post("/account/security/sessions/")
    [revoked] = _events("auth.sessions_revoked")
    assert revoked.actor_id == operator.pk
