from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.factories import ContactFactory, MessageFactory, TicketFactory
from tickets.models import Attachment, Contact, Ticket
from tickets.services.retention import contacts_anonymise_expired

pytestmark = pytest.mark.django_db


def _closed_ticket(contact, days_ago):
    closed = timezone.now() - timedelta(days=days_ago)
    return TicketFactory(requester=contact, status=Ticket.Status.CLOSED, closed_at=closed)


def test_requester_closed_long_ago_is_anonymised():
    contact = ContactFactory(full_name="Петров Пётр", email="p@example.com", inn="500100732259")
    ticket = _closed_ticket(contact, days_ago=400)
    MessageFactory(ticket=ticket, text="Мой паспорт 1234 567890")
    attachment = Attachment(ticket=ticket, filename="scan.pdf", size=3)
    attachment.file.save("scan.pdf", ContentFile(b"pdf"), save=True)

    assert contacts_anonymise_expired(retention_days=365) == 1

    contact.refresh_from_db()
    assert (contact.email, contact.phone, contact.inn) == ("", "", "")
    assert "паспорт" not in ticket.messages.get().text
    assert not Attachment.objects.exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_requester_with_a_recent_or_open_ticket_is_kept():
    contact = ContactFactory(email="keep@example.com")
    _closed_ticket(contact, days_ago=400)
    TicketFactory(requester=contact)

    assert contacts_anonymise_expired(retention_days=365) == 0
    assert Contact.objects.get(pk=contact.pk).email == "keep@example.com"


def test_retention_is_never_shorter_than_thirty_days():
    contact = ContactFactory(email="short@example.com")
    _closed_ticket(contact, days_ago=10)

    assert contacts_anonymise_expired(retention_days=1) == 0


def test_zero_retention_disables_anonymisation():
    _closed_ticket(ContactFactory(), days_ago=4000)

    assert contacts_anonymise_expired(retention_days=0) == 0
