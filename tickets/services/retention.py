"""Retention of personal data (regulation 10): kept at least 30 days, then anonymised.

A requester is anonymised when every ticket of theirs was closed more than
`DATA_RETENTION_DAYS` ago. The tickets, their numbers, timings and statistics stay;
names, addresses, phone numbers, what the citizen wrote (subjects, messages, ratings'
comments), the files, the outbox copies of mail to them and the chat sessions' names go.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from notifications.services import notifications_anonymise
from tickets.models import (
    Attachment,
    CallbackRequest,
    Contact,
    InboundEmail,
    Message,
    SatisfactionResponse,
    Ticket,
    TicketEvent,
)

MINIMUM_RETENTION_DAYS = 30
ANONYMISED_NAME = "—"
# Labels of history entries that name no person.
_IMPERSONAL_LABELS = ("", "system", "requester")

# Apps that keep personal data about tickets in their own tables (the chat's sessions)
# register a function taking `ticket_ids` here, from their AppConfig.ready: tickets
# never imports them, and every anonymisation still reaches their rows.
_anonymisers: list[Callable[..., object]] = []


def retention_anonymiser_register(anonymiser: Callable[..., object]) -> None:
    """Call `anonymiser(ticket_ids=[...])` whenever tickets' requester is anonymised."""
    if anonymiser not in _anonymisers:
        _anonymisers.append(anonymiser)


def contacts_due_for_anonymisation(*, retention_days: int):
    """Contacts with data left whose tickets were all closed before the cutoff."""
    cutoff = timezone.now() - timedelta(days=max(retention_days, MINIMUM_RETENTION_DAYS))
    still_needed = Ticket.objects.filter(requester=OuterRef("pk")).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff)
    )
    return (
        Contact.objects.filter(tickets__isnull=False)
        .exclude(full_name=ANONYMISED_NAME, email="", phone="")
        .filter(~Exists(still_needed))
        .distinct()
    )


@transaction.atomic
def contact_anonymise(*, contact: Contact) -> int:
    """Erase the personal data of one requester. Returns the number of tickets touched."""
    tickets = list(Ticket.objects.filter(requester=contact).only("pk", "number"))
    ticket_ids = [ticket.pk for ticket in tickets]
    placeholder = _("[removed after the retention period]")
    # The subject is the citizen's own words, often with a name or an address in it.
    Ticket.objects.filter(pk__in=ticket_ids).update(subject=placeholder)
    Message.objects.filter(ticket__in=tickets, author_kind=Message.Author.REQUESTER).update(
        text=placeholder, html="", full_text=""
    )
    SatisfactionResponse.objects.filter(ticket__in=tickets).exclude(comment="").update(comment="")
    # Call-backs: the number to call and the citizen's reason (also in their history notes).
    CallbackRequest.objects.filter(ticket__in=tickets).update(phone="", reason="", missed_on=None)
    TicketEvent.objects.filter(ticket__in=tickets, kind=TicketEvent.Kind.CALLBACK).update(note="")
    # History is append-only for everyone else; retention is the one exception the
    # regulation makes: entries not made by staff name the requester (name, address).
    TicketEvent.objects.filter(ticket__in=tickets, actor__isnull=True).exclude(
        actor_label__in=_IMPERSONAL_LABELS
    ).update(actor_label=ANONYMISED_NAME)
    notifications_anonymise(references=[ticket.reference for ticket in tickets])
    for anonymiser in _anonymisers:
        anonymiser(ticket_ids=ticket_ids)
    for attachment in Attachment.objects.filter(ticket__in=tickets):
        attachment.file.delete(save=False)
    Attachment.objects.filter(ticket__in=tickets).delete()
    for inbound in InboundEmail.objects.filter(ticket__in=tickets):
        inbound.raw.delete(save=False)
    InboundEmail.objects.filter(ticket__in=tickets).update(sender="", subject="", raw="")
    contact.full_name = ANONYMISED_NAME
    contact.email = ""
    contact.phone = ""
    contact.inn = ""
    contact.organisation = ""
    contact.save(update_fields=["full_name", "email", "phone", "inn", "organisation", "updated_at"])
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            kind=TicketEvent.Kind.FIELD,
            actor_label="system",
            field="requester",
            note=_("Personal data removed after the retention period."),
        )
        for ticket in tickets
    )
    # Names no person: the contact by id, its tickets by number.
    audit_record(
        "ticket.anonymised",
        object_ref=f"tickets.contact:{contact.pk}",
        details={"tickets": [ticket.reference for ticket in tickets[:100]], "count": len(tickets)},
    )
    return len(tickets)


def contacts_anonymise_expired(*, retention_days: int, limit: int = 1000) -> int:
    """Anonymise up to `limit` requesters past retention; `retention_days=0` disables."""
    if retention_days <= 0:
        return 0
    done = 0
    for contact in contacts_due_for_anonymisation(retention_days=retention_days)[:limit]:
        contact_anonymise(contact=contact)
        done += 1
    return done
