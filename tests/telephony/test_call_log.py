"""CTI events → the call log; missed inbound calls → one call-back per number a day."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.events import cti_event_parse
from telephony.models import CallRecord, OperatorPhone
from telephony.services import cti_event_record
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import CallbackRequest, Ticket

pytestmark = pytest.mark.django_db

CALL = {"callId": "call-42", "direction": "in", "from": "8 (912) 345-67-89", "to": "+74950000000"}


def _event(name, **fields):
    return cti_event_parse(
        json.dumps({"event": name, **CALL, **fields}).encode(), "application/json"
    )


def test_form_encoded_and_json_events_mean_the_same(post_event, queue):
    post_event({"event": "newCall", **CALL}, form=True)
    post_event({"event": "answer", **CALL, "user[]": "anna"}, form=True)

    record = CallRecord.objects.get()
    assert record.from_number == "+79123456789" and record.direction == "in"
    assert record.answer_at is not None and record.user_label == "anna"


def test_new_call_answer_hangup_make_one_record_with_the_right_durations(queue):
    start = timezone.now()
    cti_event_record(event=_event("newCall"), at=start)
    cti_event_record(event=_event("answer"), at=start + timedelta(seconds=12))
    record = cti_event_record(
        event=_event("hangup", cause="normalClearing"), at=start + timedelta(seconds=192)
    )

    assert record.wait_seconds == 12 and record.talk_seconds == 180
    assert not record.missed and record.cause == "normalClearing"
    assert CallRecord.objects.count() == 1
    assert not CallbackRequest.objects.exists()


def test_the_same_events_twice_change_nothing(queue):
    start = timezone.now()
    for offset in (0, 5):
        cti_event_record(event=_event("newCall"), at=start + timedelta(seconds=offset))
        cti_event_record(event=_event("answer"), at=start + timedelta(seconds=10 + offset))
        cti_event_record(event=_event("hangup"), at=start + timedelta(seconds=70 + offset))

    record = CallRecord.objects.get()
    assert record.wait_seconds == 10 and record.talk_seconds == 60


def test_the_answering_operator_is_found_by_extension(queue, operator):
    OperatorPhone.objects.create(user=operator, extension="201")
    cti_event_record(event=_event("newCall"))

    record = cti_event_record(event=_event("answer", answeringNumber="201"))

    assert record.operator == operator


def test_a_missed_inbound_call_becomes_a_callback_on_a_new_phone_ticket(post_event, queue):
    post_event({"event": "newCall", **CALL})
    response = post_event({"event": "hangup", **CALL, "cause": "cancel"})

    assert response.json()["missed"] is True
    callback = CallbackRequest.objects.get()
    assert callback.phone == "+79123456789" and callback.source == "missed_call"
    assert callback.ticket.channel == Ticket.Channel.PHONE
    assert CallRecord.objects.get().callback == callback


def test_missed_calls_from_one_number_make_one_callback_a_day(queue):
    for n in range(3):
        call = {"callId": f"missed-{n}"}
        cti_event_record(event=_event("newCall", **call))
        cti_event_record(event=_event("hangup", cause="noAnswer", **call))

    assert CallRecord.objects.filter(missed=True).count() == 3
    assert CallbackRequest.objects.count() == 1


def test_a_missed_call_goes_to_the_callers_open_ticket(queue):
    ticket = new_ticket(queue, email="", phone="+79123456789")
    cti_event_record(event=_event("newCall"))

    cti_event_record(event=_event("hangup", cause="busy"))

    assert CallbackRequest.objects.get().ticket == ticket


def test_an_unanswered_outbound_call_is_not_a_callback(queue):
    call = {"direction": "out", "from": "201", "to": "+79123456789"}
    cti_event_record(event=_event("newCall", **call))

    record = cti_event_record(event=_event("hangup", cause="noAnswer", **call))

    assert not record.missed
    assert not CallbackRequest.objects.exists()


def test_the_ticket_page_shows_the_call_log_panel(client, queue, supervisor):
    ticket = new_ticket(queue, email="", phone="+79123456789")
    cti_event_record(event=_event("newCall"))
    cti_event_record(event=_event("answer"))
    cti_event_record(event=_event("hangup"))
    client.force_login(supervisor)

    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert 'id="ws-panel-calls"' in html


def test_the_call_log_in_the_admin_masks_numbers_for_operators(client, queue):
    group = make_group("Навигатор")
    queue.operators_group = group
    queue.save()
    operator = make_operator("op-calls", groups=[group])
    new_ticket(queue, email="", phone="+79123456789")
    cti_event_record(event=_event("newCall"))
    cti_event_record(event=_event("hangup", cause="cancel"))
    client.force_login(operator)

    html = client.get("/admin/telephony/callrecord/").content.decode()

    assert "***-67-89" in html
    assert "+79123456789" not in html


def test_an_operator_of_another_queue_does_not_see_the_call(client, queue, other_queue):
    cti_event_record(event=_event("newCall", queue=queue.slug))
    cti_event_record(event=_event("hangup", cause="cancel", queue=queue.slug))
    group = make_group("Бронирование")
    other_queue.operators_group = group
    other_queue.save()
    client.force_login(make_operator("booking-op", groups=[group]))

    response = client.get("/admin/telephony/callrecord/")

    assert response.status_code == 200
    assert "***-67-89" not in response.content.decode()


def test_call_log_query_count_does_not_grow_with_calls(
    client, queue, supervisor, django_assert_max_num_queries
):
    for n in range(20):
        call = {"callId": f"log-{n}", "from": f"+7912345{n:04d}"}
        cti_event_record(event=_event("newCall", **call))
        cti_event_record(event=_event("hangup", cause="cancel", **call))
    client.force_login(supervisor)
    client.get("/admin/telephony/callrecord/")

    with django_assert_max_num_queries(12):
        response = client.get("/admin/telephony/callrecord/")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 20


def test_retention_erases_the_numbers_of_the_requesters_calls_and_callbacks(queue):
    from tickets.services import contact_anonymise

    cti_event_record(event=_event("newCall"))
    record = cti_event_record(event=_event("hangup", cause="cancel"))
    contact = record.ticket.requester

    contact_anonymise(contact=contact)

    record.refresh_from_db()
    assert record.from_number == "" and record.to_number == ""
    assert CallbackRequest.objects.get().phone == ""
