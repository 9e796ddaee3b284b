"""Browser: a staff member enrols a security key (Chromium's virtual authenticator over
CDP), signs out, and signs in again with the password and the key."""

from urllib.parse import urlsplit

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"


@pytest.fixture
def site(live_server, settings):
    """The live server under `localhost`: a secure context for WebAuthn, and a domain
    (an IP address cannot be a relying party ID)."""
    port = urlsplit(live_server.url).port
    url = f"http://localhost:{port}"
    settings.STAFF_MFA_REQUIRED = True
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [url]
    UserFactory(username="boris", is_superuser=True)
    return url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return page


def _password_step(page, site):
    page.goto(f"{site}/admin/login/?next=/admin/")
    page.fill("#id_username", "boris")
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")


def test_enrol_a_security_key_then_sign_in_with_password_and_key(page, site, artifacts_dir):
    _password_step(page, site)
    page.wait_for_url(f"{site}/account/security/")
    page.screenshot(path=str(artifacts_dir / "staff-key-security-page.png"), full_page=True)

    page.click("#key-register")
    page.wait_for_url(f"{site}/account/security/keys/name/?key=*")
    assert len(page.locator("#recovery-codes li").all_inner_texts()) == 10
    page.screenshot(path=str(artifacts_dir / "staff-key-name.png"), full_page=True)
    page.fill("#id_name", "Тестовый ключ")
    page.click("#key-name-form [type=submit]")
    page.wait_for_url(f"{site}/account/security/")
    assert "Тестовый ключ" in page.inner_text("#factors")
    page.screenshot(path=str(artifacts_dir / "staff-key-listed.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "staff-key-listed-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{site}/admin/")
    assert page.url == f"{site}/admin/"

    page.click("#logout-form [type=submit]")
    _password_step(page, site)
    page.wait_for_url(f"{site}/admin/login/verify/")
    page.screenshot(path=str(artifacts_dir / "staff-key-verify.png"), full_page=True)
    page.click("#key-sign-in")
    page.wait_for_url(f"{site}/admin/")

    key = WebAuthnCredential.objects.get(user__username="boris")
    assert key.name == "Тестовый ключ" and key.last_used_at is not None
    assert AuditEvent.objects.filter(action="auth.login").exists()
