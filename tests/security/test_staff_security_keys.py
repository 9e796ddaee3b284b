"""Security keys (WebAuthn) as a staff second factor: enrolment, sign-in after the
password, and what a forged, replayed, cloned or foreign answer gets. A software
authenticator (tests/security/soft_authenticator.py) signs with a real P-256 key."""

import json
import threading
from unittest import mock

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client, RequestFactory
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from staffauth import webauthn as webauthn_module
from staffauth.checks import check_webauthn_relying_party
from staffauth.services import factors_reset
from staffauth.webauthn import KeyRefused, assertion_begin, assertion_verify
from tests.factories import UserFactory
from tests.security.soft_authenticator import SoftAuthenticator, b64url

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
REGISTER_BEGIN = "/account/security/keys/begin/"
REGISTER_COMPLETE = "/account/security/keys/complete/"
KEY_NAME = "/account/security/keys/name/"
SIGN_IN_BEGIN = "/admin/login/key/begin/"
SIGN_IN_COMPLETE = "/admin/login/key/complete/"
JSON_ENDPOINTS = [REGISTER_BEGIN, REGISTER_COMPLETE, SIGN_IN_BEGIN, SIGN_IN_COMPLETE]


@pytest.fixture(autouse=True)
def _keys_for_testserver(settings):
    settings.STAFF_MFA_REQUIRED = True
    settings.OTP_WEBAUTHN_RP_ID = "testserver"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://testserver"]


def _post_json(client, url, data=None, **extra):
    return client.post(url, data or {}, content_type="application/json", **extra)


def _enrol(client, user) -> SoftAuthenticator:
    """Sign `user` in (no factor yet, or a verified session) and enrol a software key."""
    if "_auth_user_id" not in client.session:
        client.force_login(user)
    key = SoftAuthenticator()
    options = _post_json(client, REGISTER_BEGIN).json()
    response = _post_json(client, REGISTER_COMPLETE, key.register(options))
    assert response.status_code == 200, response.content
    return key


def _password_step(client, username="operator"):
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/login/verify/"


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- Enrolment ------------------------------------------------------------------------


def test_register_begin_offers_options_for_this_site_and_user(client, operator):
    client.force_login(operator)

    options = _post_json(client, REGISTER_BEGIN).json()

    assert options["rp"]["id"] == "testserver"
    assert options["user"]["name"] == "operator"
    assert options["challenge"]
    assert options["excludeCredentials"] == []
    assert options["attestation"] == "none"


def test_a_first_key_is_stored_verifies_the_session_and_comes_with_recovery_codes(client, operator):
    client.force_login(operator)
    # No factor yet: staff pages send her to enrolment.
    assert client.get("/admin/")["Location"] == "/account/security/"
    key = SoftAuthenticator()
    options = _post_json(client, REGISTER_BEGIN).json()

    response = _post_json(client, REGISTER_COMPLETE, key.register(options))

    device = WebAuthnCredential.objects.get(user=operator)
    assert device.confirmed and device.credential_id == key.credential_id
    assert response.json()["redirect_url"] == f"{KEY_NAME}?key={device.pk}"
    page = client.get(response.json()["redirect_url"]).content.decode()
    assert page.count("<li>") >= 10 and 'id="recovery-codes"' in page
    # Shown once.
    assert 'id="recovery-codes"' not in client.get(f"{KEY_NAME}?key={device.pk}").content.decode()
    assert client.get("/admin/").status_code == 200
    [enrolled] = _events("mfa.enrolled")
    assert enrolled.details["factor"] == "key"


def test_registration_refuses_an_answer_to_another_challenge(client, operator):
    client.force_login(operator)
    options = _post_json(client, REGISTER_BEGIN).json()
    forged = {**options, "challenge": b64url(b"not the challenge we sent you")}

    response = _post_json(client, REGISTER_COMPLETE, SoftAuthenticator().register(forged))

    assert response.status_code == 400
    assert not WebAuthnCredential.objects.exists()


def test_registration_refuses_another_origin(client, operator):
    client.force_login(operator)
    options = _post_json(client, REGISTER_BEGIN).json()
    answer = SoftAuthenticator().register(options, origin="https://phishing.example")

    assert _post_json(client, REGISTER_COMPLETE, answer).status_code == 400
    assert not WebAuthnCredential.objects.exists()


def test_a_registration_challenge_is_used_once(client, operator):
    client.force_login(operator)
    options = _post_json(client, REGISTER_BEGIN).json()
    answer = SoftAuthenticator().register(options)
    assert _post_json(client, REGISTER_COMPLETE, answer).status_code == 200

    assert (
        _post_json(client, REGISTER_COMPLETE, SoftAuthenticator().register(options)).status_code
        == 400
    )
    assert WebAuthnCredential.objects.count() == 1


def test_a_session_that_has_not_proved_its_factor_cannot_add_a_key(client, operator):
    _enrol(client, operator)
    other_browser = Client()
    other_browser.force_login(operator)

    response = _post_json(other_browser, REGISTER_BEGIN)

    assert response.status_code == 403
    assert response.json()["error"] == "not_verified"


def test_naming_a_key_is_audited(client, operator):
    _enrol(client, operator)
    device = WebAuthnCredential.objects.get(user=operator)

    response = client.post(KEY_NAME, {"key": device.pk, "name": "  YubiKey  на связке "})

    assert response["Location"] == "/account/security/"
    device.refresh_from_db()
    assert device.name == "YubiKey на связке"
    [renamed] = _events("mfa.renamed")
    assert renamed.details["to"] == "YubiKey на связке"


def test_a_key_of_another_user_cannot_be_named(client, operator, supervisor):
    _enrol(Client(), supervisor)
    foreign = WebAuthnCredential.objects.get(user=supervisor)
    _enrol(client, operator)

    assert client.get(f"{KEY_NAME}?key={foreign.pk}").status_code == 404
    assert client.post(KEY_NAME, {"key": foreign.pk, "name": "mine"}).status_code == 404


# --- Sign-in --------------------------------------------------------------------------


def test_sign_in_with_the_password_then_the_key(client, operator):
    key = _enrol(client, operator)
    client.logout()
    _password_step(client)
    assert not _signed_in(client)
    assert 'id="key-sign-in"' in client.get("/admin/login/verify/").content.decode()

    options = _post_json(client, SIGN_IN_BEGIN).json()
    [allowed] = options["allowCredentials"]
    assert allowed["id"] == b64url(key.credential_id)
    response = _post_json(client, SIGN_IN_COMPLETE, key.sign_in(options))

    assert response.status_code == 200
    assert response.json()["redirect_url"] == "/admin/"
    assert _signed_in(client)
    assert client.get("/admin/").status_code == 200
    assert WebAuthnCredential.objects.get(user=operator).sign_count == 1
    assert _events("auth.login")


def test_sign_in_refuses_an_answer_to_another_challenge(client, operator):
    key = _enrol(client, operator)
    client.logout()
    _password_step(client)
    options = _post_json(client, SIGN_IN_BEGIN).json()
    forged = {**options, "challenge": b64url(b"a challenge of the attacker's own")}

    response = _post_json(client, SIGN_IN_COMPLETE, key.sign_in(forged))

    assert response.status_code == 400
    assert not _signed_in(client)


def test_a_replayed_assertion_is_refused(client, operator):
    key = _enrol(client, operator)
    client.logout()
    _password_step(client)
    options = _post_json(client, SIGN_IN_BEGIN).json()
    captured = key.sign_in(options)
    assert _post_json(client, SIGN_IN_COMPLETE, captured).status_code == 200
    client.logout()

    _password_step(client)
    # Sent again without a new challenge, and after one.
    assert _post_json(client, SIGN_IN_COMPLETE, captured).status_code == 400
    _post_json(client, SIGN_IN_BEGIN)
    assert _post_json(client, SIGN_IN_COMPLETE, captured).status_code == 400
    assert not _signed_in(client)


def test_an_assertion_whose_counter_does_not_increase_is_refused(client, operator):
    """A cloned key signs fresh challenges, but its counter falls behind the original's."""
    key = _enrol(client, operator)
    client.logout()
    _password_step(client)
    options = _post_json(client, SIGN_IN_BEGIN).json()
    assert _post_json(client, SIGN_IN_COMPLETE, key.sign_in(options)).status_code == 200
    client.logout()

    _password_step(client)
    options = _post_json(client, SIGN_IN_BEGIN).json()
    clone_answer = key.sign_in(options, advance_counter=False)

    assert _post_json(client, SIGN_IN_COMPLETE, clone_answer).status_code == 400
    assert not _signed_in(client)
    assert WebAuthnCredential.objects.get(user=operator).sign_count == 1


def test_the_key_of_another_user_is_refused(client, operator, supervisor):
    _enrol(client, operator)
    client.logout()
    their_key = _enrol(Client(), supervisor)
    _password_step(client)
    options = _post_json(client, SIGN_IN_BEGIN).json()

    response = _post_json(client, SIGN_IN_COMPLETE, their_key.sign_in(options))

    assert response.status_code == 400
    assert response.json()["error"] == "unknown_key"
    assert not _signed_in(client)


def test_failed_key_sign_ins_count_towards_the_lockout(client, settings, operator):
    settings.AXES_FAILURE_LIMIT = 3
    key = _enrol(client, operator)
    client.logout()
    _password_step(client)
    for _ in range(3):
        options = _post_json(client, SIGN_IN_BEGIN).json()
        forged = {**options, "challenge": b64url(b"wrong")}
        # The failure that reaches the limit is answered by axes' lockout already.
        assert _post_json(client, SIGN_IN_COMPLETE, key.sign_in(forged)).status_code in (400, 429)

    assert _post_json(client, SIGN_IN_BEGIN).status_code == 429
    assert _post_json(client, SIGN_IN_COMPLETE, key.sign_in(options)).status_code == 429
    assert not _signed_in(client)


def test_a_verified_session_has_nothing_to_sign_in_with_a_key(client, operator):
    _enrol(client, operator)

    assert _post_json(client, SIGN_IN_BEGIN).status_code == 403


# --- Who may call ---------------------------------------------------------------------


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_anonymous_callers_get_nothing(client, url):
    UserFactory(username="operator")

    response = _post_json(client, url, {"id": "x"})

    assert response.status_code == 403
    assert "challenge" not in response.content.decode()


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_key_endpoints_answer_post_only(client, operator, url):
    client.force_login(operator)

    assert client.get(url).status_code == 405


def test_a_citizen_session_cannot_enrol(client):
    citizen = UserFactory(username="citizen", is_staff=False)
    client.force_login(citizen)

    assert _post_json(client, REGISTER_BEGIN).status_code == 403


def test_the_naming_page_is_for_signed_in_staff(client, operator):
    _enrol(Client(), operator)
    device = WebAuthnCredential.objects.get(user=operator)

    response = client.get(f"{KEY_NAME}?key={device.pk}")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_key_endpoints_need_the_csrf_token(operator):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    browser.get("/account/security/")
    token = browser.cookies["csrftoken"].value

    refused = _post_json(browser, REGISTER_BEGIN)
    allowed = _post_json(browser, REGISTER_BEGIN, HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403 and b"CSRF" in refused.content
    assert allowed.status_code == 200


def test_key_sign_in_needs_the_csrf_token(client, operator):
    _enrol(client, operator)
    browser = Client(enforce_csrf_checks=True)
    browser.get("/admin/login/")
    token = browser.cookies["csrftoken"].value
    browser.post(
        "/admin/login/",
        {"username": "operator", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    refused = _post_json(browser, SIGN_IN_BEGIN)
    allowed = _post_json(browser, SIGN_IN_BEGIN, HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403 and b"CSRF" in refused.content
    assert allowed.status_code == 200


# --- Removal, reset, admin, settings ----------------------------------------------------


def test_removing_a_key_needs_the_password_and_is_audited(client, operator):
    _enrol(client, operator)
    device = WebAuthnCredential.objects.get(user=operator)
    remove = {"kind": "key", "device": device.pk}

    client.post("/account/security/remove/", {**remove, "password": "wrong-password"})
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
    client.post("/account/security/remove/", {**remove, "password": PASSWORD})

    assert not WebAuthnCredential.objects.filter(pk=device.pk).exists()
    [removed] = _events("mfa.removed")
    assert removed.details["factor"] == "key"
    # The last factor gone, the recovery codes go too.
    assert not StaticDevice.objects.filter(user=operator).exists()


def test_a_wrong_password_on_removal_counts_towards_the_lockout(client, settings, operator):
    settings.AXES_FAILURE_LIMIT = 2
    _enrol(client, operator)
    device = WebAuthnCredential.objects.get(user=operator)
    for _ in range(2):
        client.post(
            "/account/security/remove/",
            {"kind": "key", "device": device.pk, "password": "wrong-password"},
        )
    client.logout()

    response = client.post("/admin/login/", {"username": "operator", "password": PASSWORD})

    assert response.status_code == 429


def test_a_superusers_reset_deletes_keys(client, operator, supervisor):
    _enrol(client, operator)

    factors_reset(user=operator, actor=supervisor, request=None)

    assert not WebAuthnCredential.objects.filter(user=operator).exists()
    # Her session ended with the reset.
    assert client.get("/admin/").status_code == 302


def test_the_key_admin_is_read_only_and_for_superusers(client, operator, supervisor):
    _enrol(Client(), operator)
    device = WebAuthnCredential.objects.get(user=operator)
    url = f"/admin/django_otp_webauthn/webauthncredential/{device.pk}/change/"
    _enrol(client, supervisor)

    assert client.get("/admin/django_otp_webauthn/webauthncredential/").status_code == 200
    assert client.get(url).status_code == 200
    assert client.post(url.replace("change", "delete"), {"post": "yes"}).status_code == 403
    assert client.get("/admin/django_otp_webauthn/webauthncredential/add/").status_code == 403
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()

    other = Client()
    _enrol(other, UserFactory(username="colleague", is_staff=True))
    assert other.get("/admin/django_otp_webauthn/webauthncredential/").status_code == 403


def test_w001_warns_when_the_relying_party_is_not_set_in_production(settings):
    settings.DEBUG = False
    settings.WEBAUTHN_RP_ID = ""
    assert [m.id for m in check_webauthn_relying_party(None)] == ["staffauth.W001"]

    settings.WEBAUTHN_RP_ID = "support.example.org"
    assert check_webauthn_relying_party(None) == []


def test_the_security_page_offers_keys_in_russian(client, operator, translations):
    client.force_login(operator)

    page = client.get("/account/security/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "Добавить ключ безопасности" in page
    assert "/account/security/jsi18n/" in page


def test_the_script_strings_are_translated(client, translations):
    catalog = client.get("/account/security/jsi18n/", HTTP_ACCEPT_LANGUAGE="ru")

    # The catalog is JSON inside the script: non-ASCII letters are \u escapes.
    assert json.dumps("Коснитесь ключа безопасности")[1:-1] in catalog.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_assertions_with_the_same_counter_at_once_let_only_one_in(operator):
    """The original key and its clone answer at the same moment with the same counter:
    the row lock makes the second read the counter the first has just advanced."""
    key = _enrol(Client(), operator)
    requests = []
    for _ in range(2):
        request = RequestFactory().post(SIGN_IN_COMPLETE)
        request.session = SessionStore()
        options = assertion_begin(request=request, user=operator)
        key.sign_count = 0  # the clone's counter stands where the original's does
        requests.append((request, key.sign_in(options)))
    outcomes: list[str] = []
    real_verify = webauthn_module.verify_authentication_response
    second = threading.Thread(target=_verify, args=(*requests[1], operator, outcomes))

    def verify_while_the_other_waits(**kwargs):
        # The first holds the key's row lock now: the second starts and must wait for it.
        if not second.is_alive() and not outcomes:
            second.start()
            second.join(timeout=1)
        return real_verify(**kwargs)

    with mock.patch.object(
        webauthn_module, "verify_authentication_response", verify_while_the_other_waits
    ):
        _verify(*requests[0], operator, outcomes)
        second.join()

    assert sorted(outcomes) == ["accepted", "invalid_assertion"]
    assert WebAuthnCredential.objects.get(user=operator).sign_count == 1


def _verify(request, answer, user, outcomes: list[str]) -> None:
    try:
        assertion_verify(request=request, user=user, data=answer)
        outcomes.append("accepted")
    except KeyRefused as refused:
        outcomes.append(refused.code)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()
