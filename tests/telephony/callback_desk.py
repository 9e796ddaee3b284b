"""A queue's operator with an extension, an open call-back they may see, and one of
another queue they may not (the click-to-call tests, AMI and HTTP)."""

from telephony.models import OperatorPhone
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.services import CallbackWish, callback_request


def callback_desk(queue, other_queue):
    """(operator "anna" on extension 201, her queue's call-back, another queue's one)."""
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    anna = make_operator("anna", groups=[queue.operators_group])
    OperatorPhone.objects.create(user=anna, extension="201")
    callback = callback_request(
        ticket=new_ticket(queue, phone="+79123456789"),
        wish=CallbackWish(phone="+79123456789"),
        source="operator",
    )
    hidden = callback_request(
        ticket=new_ticket(other_queue, phone="+79997776655"),
        wish=CallbackWish(phone="+79997776655"),
        source="operator",
    )
    return anna, callback, hidden
