"""Recovery codes pass a second factor, so the database must not hold them readable: a
leaked backup or a read-only SQL hole would otherwise hand out every staff account's
factor. They are stored as salted one-way hashes, compared in constant time, used once,
and shown only when they are made."""

import importlib
import re

import pytest
from django.apps import apps
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staffauth.models import RecoveryCode
from staffauth.services import recovery_codes_regenerate, second_factor_verify

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"


@pytest.fixture
def mfa_on(settings):
    settings.STAFF_MFA_REQUIRED = True
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def enrolled(operator):
    TOTPDevice.objects.create(user=operator, name="TOTP", confirmed=True)
    return operator


def _sign_in_with(client, code: str):
    client.post("/admin/login/", {"username": "operator", "password": PASSWORD})
    return client.post("/admin/login/verify/", {"code": code})


class TestRecoveryCodesAreStoredHashed:
    def test_no_recovery_code_is_readable_in_the_database(self, enrolled):
        codes = recovery_codes_regenerate(user=enrolled)

        stored = list(RecoveryCode.objects.values_list("code_hash", flat=True))
        assert len(stored) == len(codes) == 10
        assert not StaticToken.objects.exists()
        for code in codes:
            bare = code.replace("-", "")
            assert not any(code in row or bare in row for row in stored)
        assert all(row.startswith("pbkdf2_sha256$") for row in stored)
        # Salted: the same code would not give the same row twice.
        assert len(set(stored)) == len(stored)

    def test_a_stored_hash_does_not_pass_the_second_factor(self, client, mfa_on, enrolled):
        recovery_codes_regenerate(user=enrolled)
        stolen = RecoveryCode.objects.first().code_hash
        assert _sign_in_with(client, stolen).status_code == 200
        assert "_auth_user_id" not in client.session

    def test_a_plain_text_static_token_is_not_accepted(self, client, mfa_on, enrolled):
        # What django-otp's own addstatictoken command writes: readable, so never valid.
        recovery_codes_regenerate(user=enrolled)
        device = StaticDevice.objects.get(user=enrolled)
        StaticToken.objects.create(device=device, token="plaintext1")
        assert _sign_in_with(client, "plaintext1").status_code == 200
        assert "_auth_user_id" not in client.session

    def test_a_code_signs_in_once_however_it_is_typed(self, client, mfa_on, enrolled):
        code = recovery_codes_regenerate(user=enrolled)[3]
        typed = " " + code.replace("-", " ").upper() + " "
        assert _sign_in_with(client, typed)["Location"] == "/admin/"
        assert RecoveryCode.objects.count() == 9
        client.logout()
        assert _sign_in_with(client, code).status_code == 200
        assert "_auth_user_id" not in client.session

    def test_a_code_is_used_only_by_its_owner(self, enrolled, supervisor):
        code = recovery_codes_regenerate(user=enrolled)[0]
        recovery_codes_regenerate(user=supervisor)
        assert second_factor_verify(user=supervisor, token=code) is None
        assert second_factor_verify(user=enrolled, token=code) is not None

    def test_new_codes_end_the_old_ones(self, enrolled):
        old = recovery_codes_regenerate(user=enrolled)
        recovery_codes_regenerate(user=enrolled)
        assert second_factor_verify(user=enrolled, token=old[0]) is None
        assert RecoveryCode.objects.count() == 10

    def test_the_migration_hashes_existing_plain_codes_and_they_still_work(self, enrolled):
        device = StaticDevice.objects.create(user=enrolled, name="Recovery codes", confirmed=True)
        StaticToken.objects.create(device=device, token="abcdefgh")
        StaticToken.objects.create(device=device, token="ijklmnop")
        migration = importlib.import_module(
            "staffauth.migrations.0003_hash_existing_recovery_codes"
        )

        migration.hash_plain_codes(apps, None)

        assert not StaticToken.objects.exists()
        rows = list(RecoveryCode.objects.filter(device=device).values_list("code_hash", flat=True))
        assert len(rows) == 2 and not any("abcdefgh" in row for row in rows)
        assert second_factor_verify(user=enrolled, token="ABCD EFGH") == device
        assert second_factor_verify(user=enrolled, token="abcdefgh") is None

    def test_codes_are_shown_when_made_and_never_again(self, client, enrolled):
        client.force_login(enrolled)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=enrolled).persistent_id
        session.save()

        made = client.post("/account/security/recovery-codes/")

        assert made["Cache-Control"] == "no-store"
        shown = re.findall(r"<li>([a-z2-7-]{19})</li>", made.content.decode())
        assert len(shown) == 10
        later = client.get("/account/security/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "10 recovery codes left" in later
        assert not any(code in later for code in shown)
