"""Retention of personal data (regulation 10): kept at least 30 days, then anonymised.

A requester is anonymised when every ticket of theirs was closed more than
`DATA_RETENTION_DAYS` ago. The tickets, their numbers, timings and statistics stay;
names, addresses, phone numbers, what the citizen wrote and the files go.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Attachment, Contact, InboundEmail, Message, Ticket, TicketEvent

MINIMUM_RETENTION_DAYS = 30
ANONYMISED_NAME = "—"


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
    tickets = list(Ticket.objects.filter(requester=contact).only("pk"))
    placeholder = _("[removed after the retention period]")
    Message.objects.filter(ticket__in=tickets, author_kind=Message.Author.REQUESTER).update(
        text=placeholder, html="", full_text=""
    )
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
