"""django-otp's own admin pages let a superuser read a colleague's TOTP key and recovery
codes (enough to pass that colleague's second factor) and edit them. Ours list who has
which factor, read-only, without any secret."""

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from staffauth.services import recovery_codes_regenerate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root-admin", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def colleague():
    return UserFactory(username="colleague", is_staff=True)


def test_the_authenticator_app_page_shows_no_key(superuser_client, colleague):
    device = TOTPDevice.objects.create(user=colleague, name="Телефон", confirmed=True)

    page = superuser_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    listing = superuser_client.get("/admin/otp_totp/totpdevice/")

    assert page.status_code == listing.status_code == 200
    for response in (page, listing):
        body = response.content.decode()
        assert device.key not in body
        assert device.key.upper() not in body
        assert "otpauth://" not in body
    assert "colleague" in listing.content.decode()


def test_the_recovery_codes_page_shows_no_code(superuser_client, colleague):
    codes = recovery_codes_regenerate(user=colleague)
    device = StaticDevice.objects.get(user=colleague)

    body = superuser_client.get(f"/admin/otp_static/staticdevice/{device.pk}/change/")
    listing = superuser_client.get("/admin/otp_static/staticdevice/")

    assert body.status_code == listing.status_code == 200
    for response in (body, listing):
        assert not any(code in response.content.decode() for code in codes)


@pytest.mark.parametrize("path", ["otp_totp/totpdevice", "otp_static/staticdevice"])
def test_second_factors_cannot_be_added_changed_or_deleted_in_the_admin(
    superuser_client, colleague, path
):
    device = TOTPDevice.objects.create(user=colleague, name="Телефон", confirmed=True)
    if path.startswith("otp_static"):
        recovery_codes_regenerate(user=colleague)
        device = StaticDevice.objects.get(user=colleague)
    change = f"/admin/{path}/{device.pk}/change/"

    assert superuser_client.get(f"/admin/{path}/add/").status_code == 403
    assert superuser_client.post(change, {"name": "hijacked", "user": 1}).status_code == 403
    assert (
        superuser_client.post(change.replace("change", "delete"), {"post": "yes"}).status_code
        == 403
    )
    assert type(device).objects.filter(pk=device.pk).exclude(name="hijacked").exists()


@pytest.mark.parametrize("path", ["otp_totp/totpdevice", "otp_static/staticdevice"])
def test_staff_who_are_not_superusers_do_not_see_the_factor_lists(client, path):
    client.force_login(UserFactory(username="operator-x", is_staff=True))
    assert client.get(f"/admin/{path}/").status_code == 403
