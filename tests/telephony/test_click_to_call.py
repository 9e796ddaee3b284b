"""Click-to-call from the call-back list: AMI Originate to a fake manager, staff only,
only entries the operator may see, audited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from telephony.models import OperatorPhone
from tests.telephony.fake_ami import FakeAmi, fake_ami_in_thread
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.services import CallbackWish, callback_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(queue, other_queue, settings):
    settings.AMI_HOST, settings.AMI_USER, settings.AMI_SECRET = "127.0.0.1", "helpdesk", "s3"
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    anna = make_operator("anna", groups=[queue.operators_group])
    OperatorPhone.objects.create(user=anna, extension="201")
    ticket = new_ticket(queue, phone="+79123456789")
    callback = callback_request(
        ticket=ticket, wish=CallbackWish(phone="+79123456789"), source="operator"
    )
    hidden = callback_request(
        ticket=new_ticket(other_queue, phone="+79997776655"),
        wish=CallbackWish(phone="+79997776655"),
        source="operator",
    )
    return anna, callback, hidden


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
