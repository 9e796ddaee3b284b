import pytest
from django.core.management import call_command

from tickets.models import NumberSequence, Ticket
from tickets.numbering import COUNTER_NAME


@pytest.fixture
def demo_ticket(live_server):
    """Demo data (staff operator1 and supervisor, queues, tickets, knowledge base) and an
    open ticket of it with a conversation, a history and the SLA clock running."""
    # A transactional test flushes the table the data migration filled.
    NumberSequence.objects.get_or_create(name=COUNTER_NAME)
    call_command("seed_demo", tickets=60, seed=7, verbosity=0)
    return (
        Ticket.objects.filter(status=Ticket.Status.OPEN, messages__isnull=False)
        .order_by("number")
        .first()
    )
