"""Outgoing webhooks: deliveries written with the change, sent by Celery, logged.

Guarantees (docs/webhooks.md):

* A delivery row is written for each subscription that wants the event, in the
  transaction that writes the ticket history (the `history_recorded` receiver), so a
  change and its deliveries commit or roll back together. The send is published on
  commit; a broker that is down then is logged, never raised, and `webhooks_sweep`
  (beat, every 30 s) publishes the row later.
* A delivery is sent only by whoever *claims* it: one conditional UPDATE pending →
  sending that also writes a fresh claim token. Two sweeps, a redelivered task or a
  re-publish find it no longer pending; the outcome is recorded only by the holder of
  the current token.
* A worker that dies mid-send leaves the row "sending"; after SENDING_TIMEOUT the sweep
  makes it pending again. The receiver may then get that delivery twice (at least
  once): it de-duplicates by the `X-Helpdesk-Delivery` id.
* Failures retry with exponential back-off (30 s doubling, at most 6 h apart) up to
  WEBHOOK_MAX_ATTEMPTS; a subscription that has not succeeded once in
  WEBHOOK_DISABLE_AFTER_HOURS is disabled, audited, and its owner is mailed.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from notifications.models import Notification
from notifications.services import notification_enqueue
from tickets.models import TicketEvent
from webhooks.events import event_type_for, payloads_build
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from webhooks.signing import body_encode, secret_new, signature_header
from webhooks.targets import TargetRefused, target_post, target_resolve

logger = logging.getLogger(__name__)

# A pending row whose task has not run after this long is published again by the sweep.
REQUEUE_AFTER = timedelta(seconds=60)
# A row "sending" longer than this belongs to a dead worker (the task's hard time limit
# is 60 s).
SENDING_TIMEOUT = timedelta(seconds=120)
BACKOFF_FIRST = 30
BACKOFF_CAP = 6 * 3600
SUBSCRIPTIONS_CACHE_SECONDS = 5.0
ERROR_CHARS = 500
RESPONSE_CHARS = 1000


# --- Active subscriptions, cached per process ------------------------------------------


@dataclass(frozen=True)
class SubscriptionRef:
    pk: int
    event_types: frozenset[str]


_cache: tuple[float, tuple[SubscriptionRef, ...]] = (float("-inf"), ())


def subscriptions_active() -> tuple[SubscriptionRef, ...]:
    """The active subscriptions, read at most every 5 s per process.

    Every history row asks (a chat line too): with no subscription this must cost nothing
    but a clock read. A change made in this process is seen at once (the services call
    `subscriptions_forget`); other processes see it within 5 s. A delivery written for a
    subscription deleted meanwhile is dropped by the sender.
    """
    global _cache
    expires, refs = _cache
    now = time.monotonic()
    if now < expires:
        return refs
    refs = tuple(
        SubscriptionRef(pk=pk, event_types=frozenset(types or ()))
        for pk, types in WebhookSubscription.objects.filter(is_active=True).values_list(
            "pk", "event_types"
        )
    )
    _cache = (now + SUBSCRIPTIONS_CACHE_SECONDS, refs)
    return refs


def subscriptions_forget() -> None:
    global _cache
    _cache = (float("-inf"), ())


# --- Recording deliveries with the change ------------------------------------------------


def deliveries_record(
    *, events: list[TicketEvent], subscriptions: tuple[SubscriptionRef, ...]
) -> list[WebhookDelivery]:
    """Write the deliveries the history entries `events` owe; publish them on commit.

    Called by the `history_recorded` receiver inside the change's transaction.
    """
    wanted = frozenset().union(*(s.event_types for s in subscriptions))
    typed = [(event, kind) for event in events if (kind := event_type_for(event)) in wanted]
    if not typed:
        return []
    now = timezone.now()
    rows = [
        WebhookDelivery(
            subscription_id=subscription.pk,
            event=event_type,
            ticket_id=payload["ticket"]["id"],
            reference=payload["ticket"]["number"],
            payload=payload,
            created_at=now,
            next_attempt_at=now + REQUEUE_AFTER,
        )
        for _event, event_type, payload in payloads_build(typed)
        for subscription in subscriptions
        if event_type in subscription.event_types
    ]
    if rows:
        WebhookDelivery.objects.bulk_create(rows)
        ids = [str(row.pk) for row in rows]
        transaction.on_commit(lambda: deliveries_schedule(ids))
    return rows


def deliveries_schedule(delivery_ids: list[str]) -> int:
    """Hand deliveries to workers; a broker outage is logged, the sweep takes over.

    Returns how many were published.
    """
    from webhooks.tasks import webhook_deliver_task

    published = 0
    for delivery_id in delivery_ids:
        try:
            webhook_deliver_task.apply_async(args=[str(delivery_id)], retry=False)
        except Exception:  # noqa: BLE001 - broker down: the sweep publishes it later
            logger.warning(
                "broker unavailable; %s webhook deliveries left for the sweep",
                len(delivery_ids) - published,
            )
            break
        published += 1
    return published


# --- Sending ---------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 30 s, 1 min, 2 min, … at most 6 h."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** max(0, attempts - 1)))


def delivery_claim(delivery_id) -> WebhookDelivery | None:
    """Atomically take a pending delivery; None when it is sent, taken or gone.

    The conditional UPDATE is the only gate to sending: of any number of workers and
    sweeps, exactly one sees `claimed == 1`, and its token is the one on the row.
    """
    token = uuid.uuid4()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING
    ).update(
        status=WebhookDelivery.Status.SENDING,
        claim_token=token,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.get(pk=delivery_id)


def _mine(delivery: WebhookDelivery):
    return WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)


def delivery_send(*, delivery_id) -> str:
    """Send one delivery if it is still owed. Returns the resulting status (or `skipped`)."""
    delivery = delivery_claim(delivery_id)
    if delivery is None:
        return "skipped"
    subscription = WebhookSubscription.objects.filter(pk=delivery.subscription_id).first()
    if subscription is None:  # deleted while the event was being recorded
        _mine(delivery).update(
            status=WebhookDelivery.Status.FAILED, last_error="subscription deleted"
        )
        return WebhookDelivery.Status.FAILED
    if not subscription.is_active:
        # Left pending: it goes out if the subscription is switched on again.
        _mine(delivery).update(
            status=WebhookDelivery.Status.PENDING,
            claim_token=None,
            attempts=F("attempts") - 1,
            next_attempt_at=timezone.now() + REQUEUE_AFTER,
        )
        return "skipped"
    body = body_encode(delivery.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Helpdesk-Webhooks/1",
        "Accept-Encoding": "identity",
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": str(delivery.pk),
        "X-Helpdesk-Timestamp": str(timestamp),
        "X-Helpdesk-Signature": signature_header(
            secret=subscription.secret, timestamp=timestamp, body=body
        ),
    }
    started_at = timezone.now()
    started = time.perf_counter()
    status_code, error, response_text = None, "", ""
    try:
        target = target_resolve(subscription.url)
        status_code, response_headers, content = target_post(target, body=body, headers=headers)
        response_text = content.decode("utf-8", "replace")[:RESPONSE_CHARS]
        if 300 <= status_code < 400:
            location = response_headers.get("location", "")
            error = f"redirect to {location[:200]} not followed"
        elif not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except TargetRefused as exc:
        error = f"refused: {exc}"
    except httpx.TimeoutException as exc:
        error = f"timeout ({type(exc).__name__})"
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - logged as a failed attempt, never left "sending"
        logger.exception("webhook delivery %s: unexpected error", delivery.pk)
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.perf_counter() - started) * 1000)
    return _outcome_record(
        delivery=delivery,
        subscription=subscription,
        started_at=started_at,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error[:ERROR_CHARS],
        response_text=response_text,
    )


@transaction.atomic
def _outcome_record(
    *,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    started_at: datetime,
    status_code: int | None,
    duration_ms: int,
    error: str,
    response_text: str,
) -> str:
    WebhookAttempt.objects.create(
        delivery_id=delivery.pk,
        started_at=started_at,
        status_code=status_code,
        duration_ms=duration_ms,
        error=error,
        response_body=response_text,
    )
    now = timezone.now()
    if not error:
        _mine(delivery).update(
            status=WebhookDelivery.Status.DELIVERED,
            delivered_at=now,
            last_status_code=status_code,
            last_error="",
            claim_token=None,
        )
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            failing_since=None, consecutive_failures=0, last_success_at=now
        )
        return WebhookDelivery.Status.DELIVERED
    gave_up = delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    status = WebhookDelivery.Status.FAILED if gave_up else WebhookDelivery.Status.PENDING
    _mine(delivery).update(
        status=status,
        last_status_code=status_code,
        last_error=error,
        claim_token=None,
        next_attempt_at=now + backoff(delivery.attempts),
    )
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=Coalesce(F("failing_since"), now),
        consecutive_failures=F("consecutive_failures") + 1,
        last_failure_at=now,
    )
    logger.info(
        "webhook delivery %s to subscription %s failed (attempt %s): %s",
        delivery.pk,
        subscription.pk,
        delivery.attempts,
        error,
    )
    failing_since = (
        WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True)
        .values_list("failing_since", flat=True)
        .first()
    )
    limit = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if failing_since is not None and now - failing_since >= limit:
        subscription_disable(
            subscription=subscription,
            reason=f"no successful delivery since {failing_since.isoformat(timespec='seconds')}"
            f"; last error: {error}"[:255],
        )
    return status


def subscription_disable(*, subscription: WebhookSubscription, reason: str) -> bool:
    """Switch a failing subscription off, record it in the audit log, mail its owner.

    Returns whether it was switched off now (False: it was off already).
    """
    now = timezone.now()
    with transaction.atomic():
        updated = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=reason
        )
        if not updated:
            return False
        subscription.refresh_from_db()
        audit_record(
            "webhook.subscription_disabled",
            obj=subscription,
            details={"url": subscription.url, "reason": reason},
        )
        owner = subscription.created_by
        if owner is not None and owner.email:
            notification_enqueue(
                recipient=owner.email,
                template="webhook_disabled",
                kind=Notification.Kind.ALERT,
                idempotency_key=f"webhook-disabled:{subscription.pk}:{now.isoformat()}",
                context={
                    "name": subscription.name,
                    "url": subscription.url,
                    "reason": reason,
                    "link": settings.SITE_URL
                    + reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]),
                },
            )
    subscriptions_forget()
    logger.warning("webhook subscription %s disabled: %s", subscription.pk, reason)
    return True


# --- Periodic jobs ---------------------------------------------------------------------


def webhooks_sweep(*, now: datetime | None = None, limit: int = 500) -> dict:
    """Publish deliveries still owed a send; take back rows whose worker died."""
    now = now or timezone.now()
    requeued = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - SENDING_TIMEOUT
    ).update(status=WebhookDelivery.Status.PENDING, claim_token=None, next_attempt_at=now)
    due = [
        str(pk)
        for pk in WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]
    if due:
        # Not published again by the next sweep while these tasks wait in the queue.
        WebhookDelivery.objects.filter(pk__in=due, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=now + REQUEUE_AFTER
        )
    published = deliveries_schedule(due)
    return {"requeued": requeued, "due": len(due), "published": published}


def webhooks_prune(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete deliveries (and their attempts) older than WEBHOOK_LOG_DAYS; how many."""
    days = settings.WEBHOOK_LOG_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            WebhookDelivery.objects.filter(created_at__lt=cutoff)
            .exclude(status=WebhookDelivery.Status.SENDING)
            .values_list("pk", flat=True)[:1000]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            WebhookAttempt.objects.filter(delivery_id__in=ids).delete()
            deleted += (
                WebhookDelivery.objects.filter(pk__in=ids)
                .delete()[1]
                .get(WebhookDelivery._meta.label, 0)
            )


def deliveries_anonymise(*, ticket_ids: list[int]) -> int:
    """Retention: the payloads of these tickets' deliveries hold what the citizen wrote."""
    return WebhookDelivery.objects.filter(ticket_id__in=ticket_ids).update(payload={})


# --- Staff actions (admin) -------------------------------------------------------------


def _audit_fields(subscription: WebhookSubscription) -> dict:
    return {
        "name": subscription.name,
        "url": subscription.url,
        "events": sorted(subscription.event_types),
        "active": subscription.is_active,
    }


@transaction.atomic
def subscription_create(
    *, name: str, url: str, event_types: list[str], actor, is_active: bool = True
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (shown to the person once, never again)."""
    secret = secret_new()
    subscription = WebhookSubscription.objects.create(
        name=name,
        url=url,
        event_types=sorted(event_types),
        is_active=is_active,
        secret=secret,
        created_by=actor,
    )
    audit_record(
        "webhook.subscription_created",
        actor=actor,
        obj=subscription,
        details=_audit_fields(subscription),
    )
    transaction.on_commit(subscriptions_forget)
    return subscription, secret


@transaction.atomic
def subscription_update(
    *, subscription: WebhookSubscription, actor, **changes
) -> WebhookSubscription:
    allowed = {"name", "url", "event_types", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    before = _audit_fields(WebhookSubscription.objects.select_for_update().get(pk=subscription.pk))
    for field, value in changes.items():
        setattr(subscription, field, sorted(value) if field == "event_types" else value)
    fields = [*changes, "updated_at"]
    if changes.get("is_active"):
        # Switched on again by a person: failures start counting afresh.
        subscription.disabled_at = None
        subscription.disabled_reason = ""
        subscription.failing_since = None
        subscription.consecutive_failures = 0
        fields += ["disabled_at", "disabled_reason", "failing_since", "consecutive_failures"]
    subscription.save(update_fields=fields)
    after = _audit_fields(subscription)
    changed = {
        key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]
    }
    if changed:
        audit_record("webhook.subscription_changed", actor=actor, obj=subscription, details=changed)
    transaction.on_commit(subscriptions_forget)
    return subscription


@transaction.atomic
def subscription_secret_rotate(*, subscription: WebhookSubscription, actor) -> str:
    """A new secret at once (the old one stops verifying); returned to show once."""
    secret = secret_new()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret)
    subscription.secret = secret
    audit_record("webhook.secret_rotated", actor=actor, obj=subscription)
    return secret


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, actor) -> None:
    audit_record(
        "webhook.subscription_deleted",
        actor=actor,
        obj=subscription,
        details=_audit_fields(subscription),
    )
    subscription.delete()
    transaction.on_commit(subscriptions_forget)


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery, actor) -> bool:
    """A person asks for a delivery to go out again (failed or delivered; the receiver
    de-duplicates by its id). A delivery still pending or sending is left alone.
    Returns whether it was queued."""
    updated = WebhookDelivery.objects.filter(
        pk=delivery.pk,
        status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.DELIVERED],
    ).update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        claim_token=None,
        next_attempt_at=timezone.now() + REQUEUE_AFTER,
    )
    if updated:
        audit_record(
            "webhook.delivery_resent",
            actor=actor,
            obj=delivery,
            object_label=f"{delivery.event} {delivery.reference}".strip(),
            details={"subscription": delivery.subscription_id, "event": delivery.event},
        )
        transaction.on_commit(lambda: deliveries_schedule([str(delivery.pk)]))
    return bool(updated)
