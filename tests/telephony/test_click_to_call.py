"""Click-to-call from the call-back list: AMI Originate to a fake manager, staff only,
only entries the operator may see, audited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.telephony.callback_desk import callback_desk
from tests.telephony.fake_ami import FakeAmi, fake_ami_in_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(queue, other_queue, settings):
    settings.AMI_HOST, settings.AMI_USER, settings.AMI_SECRET = "127.0.0.1", "helpdesk", "s3"
    return callback_desk(queue, other_queue)


def _call(client, callback):
    return client.post(reverse("telephony:callback_call", args=[callback.pk]))


def test_call_rings_the_operators_phone_and_dials_the_callback_number(client, desk, settings):
    anna, callback, _hidden = desk
    fake = FakeAmi(secret="s3", scripts=[[]])
    client.force_login(anna)

    with fake_ami_in_thread(fake) as port:
        settings.AMI_PORT = port
        response = _call(client, callback)

    assert response.status_code == 302
    originate = next(a for a in fake.actions if a["Action"] == "Originate")
    assert originate["Channel"] == "PJSIP/201" and originate["Exten"] == "+79123456789"
    assert originate["Context"] == "from-internal"
    event = AuditEvent.objects.get(action="telephony.call_placed")
    assert event.actor == anna and "+7912" not in str(event.details)


def test_a_callback_of_another_queue_is_404_and_nothing_is_dialled(client, desk, settings):
    anna, _callback, hidden = desk
    fake = FakeAmi(secret="s3", scripts=[[]])
    client.force_login(anna)

    with fake_ami_in_thread(fake) as port:
        settings.AMI_PORT = port
        response = _call(client, hidden)

    assert response.status_code == 404
    assert fake.logins == []


def test_get_and_a_missing_csrf_token_are_refused(desk):
    from django.test import Client

    anna, callback, _hidden = desk
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(anna)
    url = reverse("telephony:callback_call", args=[callback.pk])

    assert strict.get(url).status_code == 405
    assert strict.post(url).status_code == 403


def test_a_citizen_session_is_sent_to_the_login(client, desk):
    _anna, callback, _hidden = desk

    response = _call(client, callback)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_offers_the_button_only_with_click_to_call_configured(client, desk, settings):
    anna, *_ = desk
    client.force_login(anna)
    url = reverse("admin:tickets_callbackrequest_changelist")

    assert "Call from my phone" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    settings.AMI_SECRET = ""
    assert "Call from my phone" not in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_unreachable_manager_is_shown_to_the_operator_and_audited(client, desk, settings):
    from django.contrib.messages import get_messages

    anna, callback, _hidden = desk
    settings.AMI_PORT = 1  # nothing listens there
    client.force_login(anna)

    response = _call(client, callback)

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "АТС не приняла звонок. Наберите номер вручную."
    ]
    failed = AuditEvent.objects.get(action="telephony.call_failed")
    assert failed.actor == anna and failed.details["error"] == "ami_failed"
    assert failed.details["via"] == "ami"
