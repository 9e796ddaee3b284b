"""Every writer of ticket history feeds webhooks: the services, the chat's short line path,
the batch path (bulk_create) and the SLA sweep."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission

from chat import lines
from chat import services as chat_services
from tests.chat.conftest import online, start
from tests.factories import CHAT_OPERATOR, UserFactory
from tests.webhooks.conftest import subscribe
from tickets.models import Ticket
from tickets.services import TicketDraft, ticket_assign, ticket_create, tickets_create_many
from tickets.sla_sweep import sla_sweep
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def _events() -> list[str]:
    return list(WebhookDelivery.objects.order_by("created_at").values_list("event", flat=True))


def test_a_chat_line_on_the_short_path_sends_message_created(settings, queue):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    operator = UserFactory(username="chatop", permissions=CHAT_OPERATOR)
    online(operator)
    chat = chat_services.chat_accept(session_id=start(queue).pk, operator=operator)
    subscribe("https://portal.example.org/hook", events=["message.created"])

    lines.chat_citizen_say(session_id=chat.pk, seq=1, text="Код так и не пришёл")
    lines.chat_operator_say(session_id=chat.pk, operator=operator, seq=1, text="Проверяю")

    payloads = [d.payload for d in WebhookDelivery.objects.order_by("created_at")]
    assert [p["message"]["text"] for p in payloads] == ["Код так и не пришёл", "Проверяю"]
    assert [p["message"]["author_kind"] for p in payloads] == ["requester", "operator"]
    assert payloads[1]["actor"] == {"kind": "staff", "username": "chatop"}


def test_appeals_created_in_a_batch_send_ticket_created(queue, contact):
    subscribe("https://portal.example.org/hook", events=["ticket.created"])
    drafts = [
        TicketDraft(
            queue=queue,
            requester=contact,
            channel=Ticket.Channel.EMAIL,
            subject=f"Письмо {n}",
            text=f"Текст {n}",
        )
        for n in range(3)
    ]
    tickets = tickets_create_many(drafts=drafts)
    deliveries = WebhookDelivery.objects.order_by("reference")
    assert [d.reference for d in deliveries] == sorted(t.reference for t in tickets)
    assert {d.payload["message"]["text"] for d in deliveries} == {"Текст 0", "Текст 1", "Текст 2"}


def test_the_sla_sweep_sends_reminder_and_breach(queue, contact):
    subscribe("https://portal.example.org/hook", events=["sla.reminder", "sla.breached"])
    ticket = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x"
    )
    sla_sweep(now=ticket.sla_remind_at + timedelta(seconds=1))
    sla_sweep(now=ticket.first_response_due + timedelta(seconds=1))
    assert _events() == ["sla.reminder", "sla.breached"]
    assert WebhookDelivery.objects.last().payload["change"]["field"] == "first_response_due"


def test_assignment_sends_ticket_assigned(queue, contact, operator):
    # The assignee must work the ticket's queue (tickets.access.user_may_hold_ticket).
    queue.operators_group = Group.objects.create(name="Навигатор")
    queue.save(update_fields=["operators_group"])
    operator.groups.add(queue.operators_group)
    operator.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    subscribe("https://portal.example.org/hook", events=["ticket.assigned"])
    ticket = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x"
    )
    ticket_assign(ticket=ticket, assignee=operator, actor=operator)
    payload = WebhookDelivery.objects.get().payload
    assert payload["change"] == {"field": "assignee", "from": None, "to": "operator"}
    assert payload["ticket"]["assignee"] == "operator"


def test_a_call_back_request_and_its_outcome_send_callback_events(queue, contact, operator):
    from tickets.models import CallbackRequest
    from tickets.services.callbacks import CallbackWish, callback_record_outcome, callback_request

    subscribe("https://portal.example.org/hook", events=["callback.created", "callback.updated"])
    ticket = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x"
    )
    callback = callback_request(
        ticket=ticket,
        wish=CallbackWish(phone="8 (912) 345-67-89", reason="Секретная причина"),
        source=CallbackRequest.Source.WEB,
    )
    callback_record_outcome(
        callback=callback, outcome=CallbackRequest.Outcome.NO_ANSWER, actor=operator
    )

    created, updated = WebhookDelivery.objects.order_by("created_at")
    assert (created.event, updated.event) == ("callback.created", "callback.updated")
    assert created.payload["callback"]["source"] == "web"
    assert updated.payload["callback"]["attempts"] == 1
    assert updated.payload["change"] == {"field": "callback", "to": "no_answer"}
    text = str(created.payload) + str(updated.payload)
    assert "9123456789" not in text and "Секретная" not in text
