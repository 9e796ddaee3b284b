"""Numbers typed in any spelling (СП-, SР-, ЫЗ-, full width) reach the same ticket as
`SP-0042` and nothing more: a look-alike spelling never opens another person's ticket,
and the status page's protections (token, contact match, per-number limits) still hold."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tests.tickets.intake.conftest import build_email
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Ticket, TicketLink
from tickets.selectors_admin import tickets_for_call

pytestmark = pytest.mark.django_db


def spellings(ticket: Ticket) -> list[str]:
    digits = f"{ticket.number:04d}"
    return [
        f"СП-{digits}",
        f"SР-{digits}",  # Cyrillic Р
        f"ЫЗ-{digits}",
        f"сп {digits}",
        "ＳＰ－" + digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ]


@pytest.fixture
def ticket(queue):
    return new_ticket(queue, subject="Вход в личный кабинет")


@pytest.fixture(autouse=True)
def _limits(settings):
    # Per-address limits out of the way: only the per-number one is under test here.
    for name in ("STATUS_LOOKUP", "APPEAL", "CHAT_START", "LOOKUP_CONTACT"):
        setattr(settings, f"{name}_RATE_LIMIT", 1000)
    settings.LOOKUP_NUMBER_RATE_LIMIT = 3


def _lookup(client, number, contact, n=1):
    return client.post(
        "/appeal/status/", {"number": number, "contact": contact}, REMOTE_ADDR=f"10.0.0.{n}"
    )


def test_a_look_alike_spelling_with_someone_elses_contact_finds_nothing(client, ticket):
    ContactFactory(email="ivan@example.com")

    for n, typed in enumerate(spellings(ticket)[:3]):
        response = _lookup(client, typed, "ivan@example.com", n)

        assert response.status_code == 200
        assert response.context.get("found") is None
        assert "Вход в личный кабинет" not in response.content.decode()


def test_a_look_alike_spelling_with_the_right_contact_shows_the_status_not_the_link(client, ticket):
    response = _lookup(client, f"СП-{ticket.number:04d}", "maria@example.com")

    assert response.context["found"].ticket == ticket
    assert ticket.token not in response.content.decode()


def test_every_spelling_of_one_number_counts_against_its_per_number_limit(client, ticket):
    for n, typed in enumerate(spellings(ticket)[:3]):
        _lookup(client, typed, f"guess{n}@example.com", n)

    response = _lookup(client, spellings(ticket)[4], "maria@example.com", 99)

    assert response.status_code == 429


def test_a_look_alike_spelling_without_the_token_does_not_open_the_status_page(client, ticket):
    for typed in spellings(ticket):
        assert client.get(f"/appeal/{typed}/").status_code == 404
        assert client.get(f"/appeal/{typed}/", {"t": "guess"}).status_code == 404


def test_a_look_alike_number_on_the_form_from_a_stranger_only_links_a_new_ticket(
    client, queue, ticket
):
    data = {
        "full_name": "Иван Иванов",
        "email": "ivan@example.com",
        "phone": "",
        "queue": queue.pk,
        "kind": Ticket.Kind.QUESTION,
        "subject": "Тема",
        "text": "Добавьте меня",
        "number": f"ЫЗ-{ticket.number:04d}",
        "consent": "on",
    }

    response = client.post(reverse("tickets:appeal"), data)

    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 302
    assert ticket.token not in response["Location"]
    assert not ticket.messages.filter(text="Добавьте меня").exists()
    assert TicketLink.objects.filter(source=new, target=ticket).exists()


def test_a_look_alike_number_in_the_chat_needs_the_requesters_contact(client, queue, ticket):
    form = {
        "full_name": "Иван",
        "email": "ivan@example.com",
        "queue": queue.pk,
        "text": "Вопрос",
        "number": f"SР-{ticket.number:04d}",
    }

    response = client.post("/chat/start/", form)

    assert response.status_code == 400
    assert "number" in response.json()["errors"]


def test_a_look_alike_subject_tag_from_a_stranger_opens_a_new_related_ticket(ticket):
    raw = build_email(
        sender="stranger@evil.example",
        subject=f"Re: [СП-{ticket.number:04d}] смените e-mail",
        body="Смените e-mail на stranger@evil.example",
    )

    result = email_ingest(raw, source=InboundEmail.Source.PIPE)

    assert result.ticket_id != ticket.pk
    assert not ticket.messages.filter(text__contains="stranger@evil.example").exists()
    assert TicketLink.objects.filter(
        source_id=result.ticket_id, target=ticket, kind=TicketLink.Kind.RELATED
    ).exists()


def test_a_look_alike_subject_tag_from_the_requester_continues_the_ticket(ticket):
    raw = build_email(subject=f"Re: [ЫЗ-{ticket.number:04d}] Вход", body="Ещё деталь")

    result = email_ingest(raw, source=InboundEmail.Source.PIPE)

    assert result.ticket_id == ticket.pk


def test_a_look_alike_number_in_the_staff_search_stays_within_the_operators_queues(
    queue, other_queue, ticket
):
    group = make_group("Бронирование")
    other_queue.operators_group = group
    other_queue.save(update_fields=["operators_group"])
    outsider = make_operator("outsider", groups=[group])
    insider = make_operator("insider", groups=[make_group("Навигатор")])
    queue.operators_group = insider.groups.get()
    queue.save(update_fields=["operators_group"])

    assert tickets_for_call(user=outsider, query=f"СП-{ticket.number:04d}") == []
    assert tickets_for_call(user=insider, query=f"СП-{ticket.number:04d}") == [ticket]
