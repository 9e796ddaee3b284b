"""Click-to-call: the operator's phone rings, and when they pick up the exchange dials the
citizen — through a generic HTTP hook (CLICK_TO_CALL_URL, `telephony/pbx_hook.py`) for any
exchange, or else Asterisk's AMI Originate.

Only a call-back entry the operator may see can be dialled, never a typed number: a staff
account (or a forged form) cannot turn the exchange into a dialler for premium numbers, and
the number never travels through the browser. Each operator may place at most
CLICK_TO_CALL_RATE_LIMIT calls a minute. Each call placed, and each one that failed, is in
the audit log.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from audit.services import audit_record
from telephony.ami import AmiError, ami_originate
from telephony.models import OperatorPhone
from telephony.pbx_hook import PbxHookError, pbx_hook_call, pbx_hook_enabled
from tickets.access import access_callback_for_staff
from tickets.models import CallbackRequest
from tickets.ratelimit import rate_limit_hit

_EXTENSION_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.")


def click_to_call_enabled() -> bool:
    return pbx_hook_enabled() or bool(settings.AMI_HOST and settings.AMI_SECRET)


def operator_extension(user) -> str:
    """The user's extension, or "" when they have none."""
    phone = OperatorPhone.objects.filter(user_id=user.pk).first()
    return phone.extension if phone is not None else ""


def _ami_call(*, extension: str, number: str, caller_id: str) -> None:
    try:
        ami_originate(
            host=settings.AMI_HOST,
            port=settings.AMI_PORT,
            user=settings.AMI_USER,
            secret=settings.AMI_SECRET,
            channel=settings.AMI_ORIGINATE_CHANNEL.format(extension=extension),
            context=settings.AMI_ORIGINATE_CONTEXT,
            number=number,
            caller_id=caller_id,
        )
    except (OSError, AmiError):
        raise PbxHookError(
            "ami_failed", _("The phone exchange did not take the call. Dial by hand.")
        ) from None


def callback_call(*, user, callback_id: int | str, request=None) -> CallbackRequest:
    """Ring `user`'s phone and connect it to the call-back's number.

    Http404 for an entry the user may not see (the staff access layer); ValidationError,
    with a message for the operator, when they call too often, click-to-call is off, the
    user has no usable extension, the entry is closed, or the exchange cannot be reached or
    refuses (those last ones are audited as `telephony.call_failed`)."""
    limit = settings.CLICK_TO_CALL_RATE_LIMIT
    # Counted before the entry is even looked up: guessing ids costs attempts too.
    if rate_limit_hit(scope="click_to_call", key=str(user.pk), limit=limit, window_seconds=60):
        audit_record(
            "telephony.call_refused",
            actor=user,
            request=request,
            object_ref=f"tickets.callbackrequest:{callback_id}"[:100],
            details={"reason": "rate_limited", "limit_per_minute": limit},
        )
        raise ValidationError(
            _("Too many calls: at most %(limit)s a minute. Wait a minute and try again.")
            % {"limit": limit}
        )
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
    via = "http" if pbx_hook_enabled() else "ami"
    details = {"ticket": callback.ticket.reference, "extension": extension, "via": via}
    try:
        if via == "http":
            pbx_hook_call(
                extension=extension,
                number=number,
                callback_id=callback.pk,
                ticket=callback.ticket.reference,
            )
        else:
            _ami_call(
                extension=extension,
                number=number,
                caller_id=f"{callback.ticket.reference} <{extension}>",
            )
    except PbxHookError as exc:
        failure = {"error": exc.code} | ({"status": exc.status} if exc.status else {})
        audit_record(
            "telephony.call_failed",
            actor=user,
            request=request,
            obj=callback,
            details=details | failure,
        )
        raise ValidationError(exc.message) from None
    audit_record(
        "telephony.call_placed", actor=user, request=request, obj=callback, details=details
    )
    return callback
