"""Click-to-call: the operator's phone rings, and when they pick up Asterisk dials the
citizen (AMI Originate).

Only a call-back entry the operator may see can be dialled, never a typed number: a staff
account (or a forged form) cannot turn the exchange into a dialler for premium numbers, and
the number never travels through the browser. Each call placed is in the audit log.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audit.services import audit_record
from telephony.ami import ami_originate
from telephony.models import OperatorPhone
from tickets.access import access_callback_for_staff
from tickets.models import CallbackRequest

_EXTENSION_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.")


def click_to_call_enabled() -> bool:
    return bool(settings.AMI_HOST and settings.AMI_SECRET)


def operator_extension(user) -> str:
    """The user's extension, or "" when they have none."""
    phone = OperatorPhone.objects.filter(user_id=user.pk).first()
    return phone.extension if phone is not None else ""


def callback_call(*, user, callback_id: int | str, request=None) -> CallbackRequest:
    """Ring `user`'s phone and connect it to the call-back's number.

    Http404 for an entry the user may not see (the staff access layer); ValidationError
    when click-to-call is off, the user has no usable extension, the entry is closed, or
    the exchange refuses; OSError when it cannot be reached."""
    callback = access_callback_for_staff(user, callback_id)
    if not click_to_call_enabled():
        raise ValidationError(_("Click-to-call is not configured."))
    extension = operator_extension(user)
    if not extension or not set(extension) <= _EXTENSION_CHARS:
        raise ValidationError(_("You have no phone extension to call from."))
    if not callback.is_open:
        raise ValidationError(_("This call-back is closed."))
    number = callback.phone
    if not number.startswith("+") or not number[1:].isdigit():
        raise ValidationError(_("This number cannot be dialled."))
    ami_originate(
        host=settings.AMI_HOST,
        port=settings.AMI_PORT,
        user=settings.AMI_USER,
        secret=settings.AMI_SECRET,
        channel=settings.AMI_ORIGINATE_CHANNEL.format(extension=extension),
        context=settings.AMI_ORIGINATE_CONTEXT,
        number=number,
        caller_id=f"{callback.ticket.reference} <{extension}>",
    )
    audit_record(
        "telephony.call_placed",
        actor=user,
        request=request,
        obj=callback,
        details={"ticket": callback.ticket.reference, "extension": extension},
    )
    return callback
