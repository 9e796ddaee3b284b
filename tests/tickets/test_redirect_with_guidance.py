"""Refusal or redirection with guidance (seed 002 §3.8): «перенаправлено / не по
компетенции» needs where to turn and what to do, tells the citizen, counts apart."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import notification_build_email
from notifications.models import Notification
from tests.tickets.admin_helpers import new_ticket
from tickets.dashboard import selectors
from tickets.dashboard.filters import DashboardFilters
from tickets.models import Message, Ticket
from tickets.services import message_add_from_requester, ticket_redirect

pytestmark = pytest.mark.django_db

WHERE = "МФЦ «Мои документы», ул. Ленина, 1, тел. 8 800 100-00-00"
WHAT = "Подайте заявление о выдаче справки лично, с паспортом."


def _url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def test_redirect_requires_where_to_turn_and_what_to_do(queue, supervisor):
    ticket = new_ticket(queue)

    with pytest.raises(ValidationError) as refused:
        ticket_redirect(ticket=ticket, actor=supervisor, where=" ", what="")

    assert set(refused.value.message_dict) == {"where", "what"}
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW
    assert not Notification.objects.filter(template="redirected").exists()


def test_redirect_resolves_with_the_outcome_and_answers_in_the_conversation(queue, supervisor):
    ticket = new_ticket(queue)

    ticket_redirect(ticket=ticket, actor=supervisor, where=WHERE, what=WHAT)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.outcome == Ticket.Outcome.REDIRECTED
    assert ticket.first_response_at is not None  # the guidance is the first answer
    answer = ticket.messages.get(author_kind=Message.Author.OPERATOR)
    assert not answer.is_internal
    assert WHERE in answer.text and WHAT in answer.text
    assert "не относится к компетенции" in answer.text  # in the citizen's language (ru)


def test_redirect_mails_the_citizen_its_own_template_once(queue, supervisor):
    ticket = new_ticket(queue)

    ticket_redirect(ticket=ticket, actor=supervisor, where=WHERE, what=WHAT)

    row = Notification.objects.get(reference=ticket.reference, template="redirected")
    assert row.recipient == "maria@example.com"
    # Only this mail: no separate answer mail, no «solved?» question.
    assert not Notification.objects.filter(template__in=["answer", "resolved"]).exists()
    mail = notification_build_email(row)
    assert "не по компетенции" in mail.subject
    assert WHERE in mail.body and WHAT in mail.body
    assert ticket.get_status_url() in mail.body


def test_redirect_mail_follows_the_queues_own_template(queue, supervisor):
    queue.redirected_subject = "Вам в другое ведомство ({{ number }})"
    queue.redirected_text = "Обратитесь: {{ where }}. Сделайте: {{ what }}."
    queue.save()
    ticket = new_ticket(queue)

    ticket_redirect(ticket=ticket, actor=supervisor, where=WHERE, what=WHAT)

    mail = notification_build_email(Notification.objects.get(template="redirected"))
    assert mail.subject == f"[{ticket.reference}] Вам в другое ведомство ({ticket.reference})"
    assert mail.body.startswith(f"Обратитесь: {WHERE}. Сделайте: {WHAT}.")


def test_a_closed_ticket_cannot_be_redirected(queue, supervisor):
    ticket = new_ticket(queue)
    ticket_redirect(ticket=ticket, actor=supervisor, where=WHERE, what=WHAT)

    with pytest.raises(ValidationError):
        ticket_redirect(ticket=ticket, actor=supervisor, where=WHERE, what=WHAT)

    assert Notification.objects.filter(template="redirected").count() == 1


def test_a_citizen_reply_reopens_a_redirected_ticket_and_clears_the_outcome(queue, supervisor):
    ticket = new_ticket(queue)
    ticket_redirect(ticket=ticket, actor=supervisor, where=WHERE, what=WHAT)

    message_add_from_requester(ticket=ticket, text="Там сказали, что это к вам.", channel="web")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.outcome == ""


def test_an_ordinary_resolution_has_the_outcome_solved(queue, supervisor):
    from tickets.services import message_add_reply

    ticket = new_ticket(queue)
    message_add_reply(ticket=ticket, author=supervisor, text="Готово.", resolve=True)

    ticket.refresh_from_db()
    assert ticket.outcome == Ticket.Outcome.SOLVED


def test_redirected_tickets_are_counted_apart_on_the_dashboard(queue, supervisor):
    from tickets.services import message_add_reply

    solved, redirected = new_ticket(queue), new_ticket(queue)
    message_add_reply(ticket=solved, author=supervisor, text="Готово.", resolve=True)
    ticket_redirect(ticket=redirected, actor=supervisor, where=WHERE, what=WHAT)
    now = timezone.now()
    filters = DashboardFilters(start=now - timedelta(days=1), end=now + timedelta(hours=1), now=now)

    summary = selectors.resolution_summary(filters)

    assert (summary["count"], summary["redirected"], summary["redirected_percent"]) == (2, 1, 50.0)


def test_redirect_from_the_ticket_page_needs_both_texts_in_russian(client, supervisor, queue):
    ticket = new_ticket(queue)
    client.force_login(supervisor)

    refused = client.post(
        _url(ticket), {"_action": "redirect", "where": WHERE, "what": ""}, HTTP_ACCEPT_LANGUAGE="ru"
    )
    done = client.post(_url(ticket), {"_action": "redirect", "where": WHERE, "what": WHAT})

    assert refused.status_code == 200
    assert "Обязательное поле." in refused.context["redirect_form"].errors["what"]
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.outcome == Ticket.Outcome.REDIRECTED
    page = client.get(_url(ticket), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "перенаправлено (не по компетенции)" in page
