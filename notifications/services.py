"""The outbox: write a message with the change that caused it, send it after commit.

This module knows nothing about tickets: callers pass a recipient, a template key, a
context and a reference string such as `SP-0042`.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import get_random_string

from notifications.models import Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row claimed for sending longer ago than this is considered abandoned (worker died).
SENDING_STUCK_AFTER = timedelta(minutes=5)


def notification_enqueue(
    *,
    recipient: str,
    template: str,
    kind: str,
    idempotency_key: str,
    context: dict | None = None,
    language: str = "ru",
    reference: str = "",
    from_email: str = "",
    reply_to: str = "",
    headers: dict | None = None,
) -> Notification:
    """Write an outbox row in the caller's transaction; the send is scheduled on commit.

    Enqueueing the same idempotency key twice returns the existing row: never two sends.
    """
    defaults = {
        "recipient": recipient,
        "template": template,
        "kind": kind,
        "context": context or {},
        "language": language,
        "reference": reference,
        "from_email": from_email,
        "reply_to": reply_to,
        "headers": headers or {},
        "message_id": make_message_id(reference),
    }
    try:
        with transaction.atomic():
            notification, created = Notification.objects.get_or_create(
                idempotency_key=idempotency_key, defaults=defaults
            )
    except IntegrityError:
        # A concurrent transaction wrote the same key first.
        return Notification.objects.get(idempotency_key=idempotency_key)
    if created:
        transaction.on_commit(lambda: notification_schedule(notification.pk))
    return notification


def notification_schedule(notification_id: int) -> None:
    """Hand the row to a worker. A broker outage is logged, not raised: the row stays
    pending and the periodic sweeper sends it later."""
    from notifications.tasks import notification_send_task

    try:
        notification_send_task.apply_async(args=[notification_id], retry=False)
    except Exception:  # noqa: BLE001 - broker down: the sweeper takes over
        logger.warning(
            "broker unavailable; notification %s left for the sweeper",
            notification_id,
            exc_info=True,
        )


def make_message_id(reference: str = "") -> str:
    """A Message-ID we recognise later: the reference and a random part, our domain."""
    local = f"{reference.lower()}.{get_random_string(16)}" if reference else get_random_string(24)
    return f"<{local}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def _render(template: str, language: str, context: dict) -> tuple[str, str, str | None]:
    with translation.override(language):
        for lang in (language, "ru"):
            base = f"notifications/email/{lang}/{template}"
            try:
                subject = render_to_string(f"{base}.subject.txt", context)
                text = render_to_string(f"{base}.txt", context)
            except TemplateDoesNotExist:
                continue
            try:
                html = render_to_string(f"{base}.html", context)
            except TemplateDoesNotExist:
                html = None
            return " ".join(subject.split()), text, html
    raise TemplateDoesNotExist(f"notifications/email/*/{template}")


def notification_build_email(notification: Notification) -> EmailMultiAlternatives:
    context = {**notification.context, "reference": notification.reference}
    subject, text, html = _render(notification.template, notification.language, context)
    if notification.reference and f"[{notification.reference}]" not in subject:
        subject = f"[{notification.reference}] {subject}"
    headers = {
        "Message-ID": notification.message_id,
        "X-Auto-Response-Suppress": "All",
        **notification.headers,
    }
    if notification.kind == Notification.Kind.AUTO_REPLY:
        headers.setdefault("Auto-Submitted", "auto-replied")
    elif notification.kind == Notification.Kind.NOTICE:
        headers.setdefault("Auto-Submitted", "auto-generated")
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=notification.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=[notification.reply_to] if notification.reply_to else None,
        headers=headers,
    )
    if html:
        email.attach_alternative(html, "text/html")
    return email


def notification_claim(notification_id: int) -> Notification | None:
    """Atomically take a row for sending; None if it is sent, taken or not yet due."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id,
        status=Notification.Status.PENDING,
        next_attempt_at__lte=now,
    ).update(
        status=Notification.Status.SENDING,
        attempts=F("attempts") + 1,
        sending_started_at=now,
    )
    if not claimed:
        return None
    return Notification.objects.get(pk=notification_id)


def notification_send(*, notification_id: int) -> str:
    """Send one outbox row if it is still owed. Returns the resulting status."""
    notification = notification_claim(notification_id)
    if notification is None:
        return "skipped"
    try:
        notification_build_email(notification).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any delivery failure is retried with backoff
        failed = notification.attempts >= MAX_ATTEMPTS
        delay = timedelta(seconds=min(3600, 30 * 2 ** (notification.attempts - 1)))
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.FAILED if failed else Notification.Status.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=timezone.now() + delay,
        )
        logger.warning(
            "notification %s failed (attempt %s): %s", notification.pk, notification.attempts, exc
        )
        return Notification.Status.FAILED if failed else Notification.Status.PENDING
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return Notification.Status.SENT


def outbox_sweep(*, limit: int = 500) -> int:
    """Re-schedule rows left pending (broker was down) or stuck in sending (worker died)."""
    now = timezone.now()
    Notification.objects.filter(
        status=Notification.Status.SENDING,
        sending_started_at__lt=now - SENDING_STUCK_AFTER,
    ).update(status=Notification.Status.PENDING, next_attempt_at=now)
    due = list(
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        notification_schedule(pk)
    return len(due)
