"""Reads for the chat: who may see which session, its lines, the waiting line, operators."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.access import chat_operator_users
from chat.models import ChatSession, OperatorPresence
from tickets.models import Attachment, CannedResponse, Message

TOKEN_SALT = "chat.citizen"
# Used for the waiting estimate until enough chats have ended to measure it.
DEFAULT_HANDLE_SECONDS = 240


def chat_token_for(session: ChatSession) -> str:
    """The citizen's credential for one session (signed, expires, revocable via `secret`)."""
    return signing.dumps({"s": session.pk, "k": session.secret}, salt=TOKEN_SALT, compress=True)


def access_chat_for_citizen(token: str | None) -> ChatSession | None:
    """The session a signed chat token opens, or None (bad, expired or revoked token)."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=settings.CHAT_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    session = (
        ChatSession.objects.select_related("ticket", "queue", "operator")
        .filter(pk=data.get("s"))
        .first()
    )
    if session is None or session.secret != data.get("k"):
        return None
    return session


def operators_available() -> QuerySet[OperatorPresence]:
    """Operators who take chats now: online, console alive, active staff accounts that
    hold the chat permission (one taken away stops getting chats at once)."""
    cutoff = timezone.now() - timedelta(seconds=settings.CHAT_PRESENCE_TIMEOUT)
    return OperatorPresence.objects.filter(
        availability=OperatorPresence.Availability.ONLINE,
        last_seen__gte=cutoff,
        user__is_active=True,
        user__is_staff=True,
        user__in=chat_operator_users().values("pk"),
    )


def operators_with_load(queryset: QuerySet[OperatorPresence]) -> QuerySet[OperatorPresence]:
    """Annotate `active_chats` (a subquery, so the rows can still be locked FOR UPDATE)."""
    active = (
        ChatSession.objects.filter(operator=OuterRef("user"), status=ChatSession.Status.ACTIVE)
        .order_by()
        .values("operator")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(active_chats=Coalesce(Subquery(active), 0))


def operator_candidates(session: ChatSession) -> QuerySet[OperatorPresence]:
    """Available operators with a free slot for this chat, the least loaded first."""
    queryset = operators_available()
    group_id = session.queue.operators_group_id
    if group_id:
        queryset = queryset.filter(user__groups=group_id)
    return (
        operators_with_load(queryset)
        .filter(active_chats__lt=F("max_chats"))
        .order_by("active_chats", "last_seen", "id")
    )


def operator_active_count(user) -> int:
    return ChatSession.objects.filter(operator=user, status=ChatSession.Status.ACTIVE).count()


def seconds_per_position() -> int | None:
    """How long each place in the waiting line takes, or None with nobody online.

    The average chat length (last 50 ended chats) divided by the slots operators offer.
    """
    capacity = sum(operators_available().values_list("max_chats", flat=True))
    if not capacity:
        return None
    recent = list(
        ChatSession.objects.filter(
            status=ChatSession.Status.ENDED,
            accepted_at__isnull=False,
            ended_at__isnull=False,
        )
        .order_by("-ended_at")
        .values_list("accepted_at", "ended_at")[:50]
    )
    durations = [(ended - accepted).total_seconds() for accepted, ended in recent]
    handle = sum(durations) / len(durations) if durations else DEFAULT_HANDLE_SECONDS
    return max(15, int(handle / capacity))


def chats_waiting() -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.filter(status=ChatSession.Status.WAITING)
        .select_related("ticket", "queue")
        .order_by("started_at", "id")
    )


def waiting_order(limit: int = 2000) -> list[int]:
    return list(chats_waiting().values_list("pk", flat=True)[:limit])


def _first_of_each_queue(rows: list[tuple[int, int]], listed: int) -> list[int]:
    """The first `listed` chats of every queue, in line order: each console lists the
    chats of its own queues, which may all be behind other queues' chats."""
    taken: dict[int, int] = {}
    result = []
    for pk, queue_id in rows:
        if taken.get(queue_id, 0) < listed:
            taken[queue_id] = taken.get(queue_id, 0) + 1
            result.append(pk)
    return result


# What `session_summary` reads of a waiting chat. Each process reads the line up to twice
# a second while chats arrive; all columns of four joined tables for every waiting chat
# took 27 ms of a pool thread (holding the GIL) at 250 waiting, these take a fraction.
_SUMMARY_FIELDS = (
    "id",
    "citizen_name",
    "status",
    "started_at",
    "accepted_at",
    "operator_seq",
    "operator",
    "queue",
    "queue__name",
    "ticket",
    "ticket__number",
    "ticket__subject",
    "ticket__requester",
    "ticket__requester__full_name",
    "ticket__requester__email",
    "ticket__requester__phone",
)


def _waiting_for_summary() -> QuerySet[ChatSession]:
    return chats_waiting().select_related("ticket__requester").only(*_SUMMARY_FIELDS)


def waiting_summaries(listed: int = 100, queue_ids=None) -> list[dict]:
    """The first `listed` waiting chats (of these queues, or all) as a console lists them."""
    return [session_summary(s) for s in _waiting_in(_waiting_for_summary(), queue_ids)[:listed]]


def waiting_count(queue_ids=None) -> int:
    return _waiting_in(chats_waiting(), queue_ids).count()


def _waiting_in(queryset: QuerySet[ChatSession], queue_ids) -> QuerySet[ChatSession]:
    return queryset if queue_ids is None else queryset.filter(queue_id__in=queue_ids)


def waiting_line(
    *, limit: int = 2000, listed: int = 100, known: dict[int, dict] | None = None
) -> dict:
    """The waiting line as citizens and consoles show it: the order of waiting chats (for
    positions) with each one's queue, seconds per place, the first `listed` chats of each
    queue summarised, and the count. Each console narrows it to its own queues.

    `known` holds summaries from an earlier read (the "waiting" list, by id): a chat's
    summary does not change while it waits, so only chats new to the listed ones are
    read. At 250 waiting, building all 100 summaries was most of a read's 11-17 ms.
    """
    rows = list(chats_waiting().values_list("pk", "queue_id")[:limit])
    listed_ids = _first_of_each_queue(rows, listed)
    known = known or {}
    missing = [pk for pk in listed_ids if pk not in known]
    if missing:
        sessions = _waiting_for_summary().filter(pk__in=missing)
        known = {**known, **{s.pk: session_summary(s) for s in sessions}}
    return {
        "order": [pk for pk, _queue_id in rows],
        "queues": [queue_id for _pk, queue_id in rows],
        "per": seconds_per_position(),
        # A chat taken between the two reads has no summary: it is not listed.
        "waiting": [known[pk] for pk in listed_ids if pk in known],
        "count": len(rows),
    }


def session_summary(session: ChatSession) -> dict:
    """What a console needs to show a chat in its list or a tab."""
    ticket = session.ticket
    requester = ticket.requester
    return {
        "id": session.pk,
        "ticket_id": ticket.pk,
        "number": ticket.reference,
        "subject": ticket.subject,
        "name": session.citizen_name or requester.full_name,
        "email": requester.email,
        "phone": requester.phone,
        "queue": session.queue.name,
        "queue_id": session.queue_id,
        "status": session.status,
        "started_at": session.started_at.isoformat(),
        "accepted_at": session.accepted_at.isoformat() if session.accepted_at else None,
        "operator": user_display(session.operator),
        "operator_seq": session.operator_seq,
        "ticket_url": ticket.get_absolute_url(),
    }


def operator_sessions(user) -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.filter(operator=user, status=ChatSession.Status.ACTIVE)
        .select_related("ticket", "queue")
        .order_by("accepted_at", "id")
    )


def session_lines(session: ChatSession, *, after_id: int = 0, internal: bool = False) -> list[dict]:
    """The conversation of this chat (from its first line), as the widget renders it."""
    queryset = (
        Message.objects.filter(ticket_id=session.ticket_id, pk__gt=after_id or 0)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(is_inline=False).order_by("id"),
                to_attr="chat_files",
            )
        )
        .order_by("id")
    )
    if session.first_message_id:
        queryset = queryset.filter(pk__gte=session.first_message_id)
    if not internal:
        queryset = queryset.filter(is_internal=False)
    return [line_payload(message) for message in queryset[:500]]


def line_payload(message: Message) -> dict:
    files = getattr(message, "chat_files", None)
    if files is None:
        files = message.attachments.filter(is_inline=False).order_by("id")
    author = message.author
    return {
        "id": message.pk,
        "author_kind": message.author_kind,
        # Citizens read operators by first name, the same in every line and status.
        "author": operator_public_name(author)
        if author and message.author_kind == Message.Author.OPERATOR
        else user_display(author),
        "is_internal": message.is_internal,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "files": [file_payload(a) for a in files],
    }


def file_payload(attachment: Attachment) -> dict:
    from django.urls import reverse

    return {
        "id": attachment.pk,
        "name": attachment.filename,
        "size": attachment.size,
        "is_image": attachment.is_image,
        "url": reverse("chat:file", args=[attachment.pk]),
    }


def session_attachment(session: ChatSession, attachment_id: int) -> Attachment | None:
    """An attachment of a public line of this chat's ticket, or None."""
    return Attachment.objects.filter(
        pk=attachment_id,
        ticket_id=session.ticket_id,
        message__isnull=False,
        message__is_internal=False,
    ).first()


def canned_responses(queue_ids: list[int] | None = None) -> list[dict]:
    queryset = CannedResponse.objects.filter(is_active=True)
    if queue_ids is not None:
        queryset = queryset.filter(Q(queue__isnull=True) | Q(queue_id__in=queue_ids))
    return [
        {"id": c.pk, "title": c.title, "body": c.body, "queue": c.queue_id}
        for c in queryset.order_by("title")[:200]
    ]


def kb_suggestions(query: str, *, limit: int = 5) -> list[dict]:
    """Knowledge-base articles for the operator, when the knowledge base offers them."""
    try:
        from knowledge_base.selectors import articles_suggest
    except ImportError:
        return []
    query = (query or "").strip()
    if len(query) < 3:
        return []
    try:
        articles = list(articles_suggest(query, limit=limit))
    except TypeError:  # an older signature without `limit`
        articles = list(articles_suggest(query))[:limit]
    result = []
    for article in articles:
        if isinstance(article, dict):
            title = article.get("title", "")
            url = article.get("absolute_url") or article.get("url", "")
        else:
            title = str(getattr(article, "title", article))
            url = article.get_absolute_url() if hasattr(article, "get_absolute_url") else ""
        result.append({"title": title, "url": url, "summary": _summary(article)})
    return result


def _summary(article) -> str:
    value = article.get("summary", "") if isinstance(article, dict) else ""
    return str(value or "")[:200]


def operators_for_transfer(exclude_user=None) -> list[dict]:
    """Operators a chat can be handed to: available ones, with their current load."""
    queryset = operators_with_load(operators_available()).select_related("user")
    if exclude_user is not None:
        queryset = queryset.exclude(user=exclude_user)
    return [
        {
            "id": p.user_id,
            "name": p.user.get_full_name() or p.user.get_username(),
            "active": p.active_chats,
            "max": p.max_chats,
        }
        for p in queryset.order_by("user__last_name", "user__username")
    ]


def operator_public_name(user) -> str:
    """An operator as citizens see them in the chat: the first name («Анна»), else a
    neutral «Оператор» (never the login)."""
    if user is None:
        return ""
    return user.first_name.strip() or str(_("Operator"))


def user_display(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def staff_user(user_id: int):
    return get_user_model().objects.filter(pk=user_id, is_active=True, is_staff=True).first()
