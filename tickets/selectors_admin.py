"""Reads for the operator workspace in the admin: search, SLA state, masking.

Who sees which ticket is `tickets.access`."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.access import tickets_for_staff
from tickets.business_time import working_time
from tickets.models import (
    Attachment,
    CallbackRequest,
    CannedResponse,
    Contact,
    Message,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.numbering import parse_ticket_number
from tickets.validators import normalize_phone

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)
# Contacts whose name matches feed the ticket search as an id list (an index scan each
# side, no join over a million rows). A very common name is cut here: the operator adds
# the first name or a phone to narrow it down.
NAME_MATCH_LIMIT = 1000
SLA_RED_HOURS = 2


# --- Search --------------------------------------------------------------------------

# A phone or its beginning: "+7916", "8 (916) 12", "916 12"; a lone "8916"/"9161" is
# also read as the start of a mobile number (and as a ticket number: both are searched).
_PHONEISH = re.compile(r"^(\+[\d\s\-().]{2,}|[\d\s\-().]{5,}|[89]\d{3})$")


def phone_search_prefix(term: str) -> str | None:
    """What a typed phone (or its beginning) looks like stored: `+7900…`, or None."""
    if not _PHONEISH.match(term):
        return None
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 10:
        return normalize_phone(term)
    if not term.startswith("+"):
        if digits.startswith("8"):
            digits = "7" + digits[1:]
        elif digits.startswith("9"):
            digits = "7" + digits
    return "+" + digits


def tickets_search(queryset: QuerySet[Ticket], term: str) -> QuerySet[Ticket]:
    """Anything that parses as a ticket number is an exact number lookup; otherwise
    e-mail (exact/prefix), phone (normalised prefix), INN (exact), name or subject
    (trigram-indexed `icontains` on PostgreSQL). Each branch is an index scan."""
    term = (term or "").strip()
    if not term:
        return queryset
    number = parse_ticket_number(term)
    phone = phone_search_prefix(term)
    if number is not None and phone is None:
        return queryset.filter(number=number)
    if "@" in term:
        email = term.lower()
        contacts = Contact.objects.filter(Q(email=email) | Q(email__startswith=email))
        return queryset.filter(requester_id__in=contacts.values("id"))
    compact = re.sub(r"\s", "", term)
    contact_match = Q()
    if phone:
        contact_match |= Q(phone__startswith=phone)
    if compact.isdigit() and len(compact) in (10, 12):
        contact_match |= Q(inn=compact)
    if contact_match:
        contact_ids = list(
            Contact.objects.filter(contact_match).values_list("id", flat=True)[:NAME_MATCH_LIMIT]
        )
        condition = Q(requester_id__in=contact_ids)
        if number is not None:
            condition |= Q(number=number)
        return queryset.filter(condition)
    contact_ids = list(
        Contact.objects.filter(_icontains("full_name", term)).values_list("id", flat=True)[
            :NAME_MATCH_LIMIT
        ]
    )
    return queryset.filter(Q(requester_id__in=contact_ids) | _icontains("subject", term))


def _icontains(field: str, term: str) -> Q:
    """`icontains`; on PostgreSQL it is UPPER(field) LIKE, served by a trigram index.

    SQLite folds case for ASCII only, so there the usual spellings of a Cyrillic
    word are tried as well.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__icontains": term})
    condition = Q()
    for variant in {term, term.lower(), term.upper(), term.capitalize(), term.title()}:
        condition |= Q(**{f"{field}__contains": variant})
    return condition


def tickets_for_call(
    *, user, query: str = "", on_date: date | None = None, limit: int = 20
) -> list[Ticket]:
    """The caller's tickets by number, phone, e-mail, or name + date ("lost number")."""
    queryset = tickets_for_staff(user).select_related("queue__calendar", "requester", "assignee")
    if not query and on_date is None:
        return []
    if query:
        queryset = tickets_search(queryset, query)
    if on_date is not None:
        start = timezone.make_aware(datetime.combine(on_date, datetime.min.time()))
        queryset = queryset.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    return list(queryset.order_by("-number")[:limit])


# --- What a list cell shows ----------------------------------------------------------


def contacts_possibly_same(contact: Contact, *, limit: int = 5) -> list[Contact]:
    """Other contacts sharing this one's phone or e-mail: a "same person?" hint for
    staff, who can tell; appeals are never joined on a typed phone alone."""
    condition = Q()
    if contact.phone:
        condition |= Q(phone=contact.phone)
    if contact.email:
        condition |= Q(email=contact.email)
    if not condition:
        return []
    return list(Contact.objects.filter(condition).exclude(pk=contact.pk).order_by("id")[:limit])


def mask_email(value: str) -> str:
    """ivan@example.com → i***@example.com"""
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """+79001234567 → +7 *** ***-45-67"""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) < 4:
        return "***" if value else ""
    country = digits[:-10] if len(digits) > 10 else ""
    prefix = f"+{country} " if country else ""
    return f"{prefix}*** ***-{digits[-4:-2]}-{digits[-2:]}"


def mask_name(value: str) -> str:
    """Петрова Мария Ивановна → Петрова М. И."""
    parts = (value or "").split()
    if len(parts) <= 1:
        return value or ""
    return " ".join([parts[0], *(f"{p[:1]}." for p in parts[1:])])


@dataclass(frozen=True)
class SlaState:
    state: str  # green, amber, red, breached, done, paused, none
    text: str


def _duration_text(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    if days:
        return (
            _("%(d)s d %(h)s h") % {"d": days, "h": hours} if hours else _("%(d)s d") % {"d": days}
        )
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": minutes}


def ticket_sla_state(ticket: Ticket, now: datetime | None = None) -> SlaState:
    """The first-answer clock (regulation 3) as a colour and "5 h left"/"overdue by 2 h".

    Green while more than a quarter of the time is left, amber below that, red in the
    last two hours, breached past the deadline. Time left is working time on the
    queue's clock (a business calendar's hours; select `queue__calendar` in lists).
    """
    now = now or timezone.now()
    due = ticket.first_response_due
    if ticket.first_response_at is not None:
        late = due is not None and ticket.first_response_at > due
        return SlaState("done-late" if late else "done", _("answered"))
    if ticket.status not in OPEN_STATUSES or due is None:
        return SlaState("none", "—")
    return _countdown(ticket, due, now)


def _countdown(ticket: Ticket, due: datetime, now: datetime) -> SlaState:
    if ticket.sla_paused_at is not None:
        return SlaState("paused", _("paused"))
    if due <= now:
        # Overdue is said in wall-clock time: "overdue by 0 min" all weekend would hide it.
        late = now - due
        return SlaState("breached", _("overdue by %(time)s") % {"time": _duration_text(late)})
    clock = working_time(ticket.queue)
    left = clock.between(now, due)
    total = clock.between(ticket.created_at, due)
    text = _("%(time)s left") % {"time": _duration_text(left)}
    if left <= timedelta(hours=SLA_RED_HOURS):
        return SlaState("red", text)
    if total.total_seconds() > 0 and left < total / 4:
        return SlaState("amber", text)
    return SlaState("green", text)


def _target_state(
    ticket: Ticket, due: datetime | None, done: str, now: datetime | None
) -> SlaState:
    """A target met by resolving, in the first answer's colours: `done` (on time or
    late), paused, time left, overdue; "—" without one."""
    if due is None:
        return SlaState("none", "—")
    if ticket.resolved_at is not None:
        return SlaState("done-late" if ticket.resolved_at > due else "done", done)
    if ticket.status not in OPEN_STATUSES:
        return SlaState("none", "—")
    return _countdown(ticket, due, now or timezone.now())


def ticket_resolution_state(ticket: Ticket, now: datetime | None = None) -> SlaState:
    """The optional resolution target (regulation 3)."""
    return _target_state(ticket, ticket.resolution_due, _("resolved"), now)


def ticket_department_state(ticket: Ticket, now: datetime | None = None) -> SlaState:
    """The department's mandatory deadline of an escalated ticket (seed 003)."""
    return _target_state(ticket, ticket.department_due, _("carried out"), now)


def tickets_filter_sla(queryset: QuerySet[Ticket], state: str) -> QuerySet[Ticket]:
    """breached / due within 2 h / on time, for tickets still owed a first answer."""
    now = timezone.now()
    owed = queryset.filter(
        first_response_at__isnull=True, status__in=OPEN_STATUSES, first_response_due__isnull=False
    )
    if state == "breached":
        return owed.filter(first_response_due__lte=now)
    if state == "soon":
        return owed.filter(
            first_response_due__gt=now, first_response_due__lte=now + timedelta(hours=2)
        )
    if state == "ontime":
        return owed.filter(first_response_due__gt=now + timedelta(hours=2))
    return queryset


# --- The ticket page -----------------------------------------------------------------


@dataclass
class TicketWorkspace:
    ticket: Ticket
    messages: list[Message]
    links: list[TicketLink]
    events: list[TicketEvent]
    last_message_id: int


def ticket_workspace(ticket: Ticket) -> TicketWorkspace:
    """Everything the ticket page shows, in a fixed number of queries."""
    messages = list(
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    links = list(
        TicketLink.objects.filter(source=ticket)
        .select_related("target")
        .order_by("kind", "target__number")
    )
    events = list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    names = _staff_names(
        {v for e in events if e.field == "assignee" for v in (e.old_value, e.new_value) if v}
    )
    for event in events:
        event.field_display, event.old_display, event.new_display = _event_values(event)
        if event.field == "assignee":
            event.old_display = names.get(event.old_value, event.old_value)
            event.new_display = names.get(event.new_value, event.new_value)
        event.actor_display = staff_display_name(event.actor) if event.actor else event.actor_label
    return TicketWorkspace(
        ticket=ticket,
        messages=messages,
        links=links,
        events=events,
        last_message_id=max((m.pk for m in messages), default=0),
    )


_VALUE_LABELS = {
    "status": Ticket.Status,
    "line": Ticket.Line,
    "priority": Ticket.Priority,
    "kind": Ticket.Kind,
}


def _event_values(event: TicketEvent) -> tuple[str, str, str]:
    """History values as people read them: labels instead of stored codes."""
    field, old, new = event.field, event.old_value, event.new_value
    if event.kind == TicketEvent.Kind.LINKED and field in TicketLink.Kind.values:
        return str(TicketLink.Kind(field).label), old, new
    if field == "status_link":  # ticket_status_token_rotate: the value is never recorded
        return _("status link"), old, new
    if event.kind == TicketEvent.Kind.CALLBACK:  # tickets/services/callbacks.py: codes
        labels = {"requested": _("requested"), **dict(CallbackRequest.Outcome.choices)}
        return _("call-back"), old, str(labels.get(new, new))
    if event.kind == TicketEvent.Kind.SATISFACTION and field == "solved":
        answer, _sep, rating = new.partition(", ")  # "yes, 5/5"
        said = _YES_NO.get(answer.capitalize(), answer)
        return _("problem solved"), "", f"{said}, {rating}" if rating else str(said)
    if event.kind == TicketEvent.Kind.SATISFACTION and field == "chat_rating":  # chat: "4/5"
        return _("chat rating"), "", new
    choices = _VALUE_LABELS.get(field)
    if choices is not None:
        labels = dict(choices.choices)
        old, new = _choice_label(labels, old), _choice_label(labels, new)
    old, new = str(_YES_NO.get(old, old)), str(_YES_NO.get(new, new))
    if field in _TICKET_FIELDS:  # "assignee" → «Исполнитель»: never a column name
        return capfirst(Ticket._meta.get_field(field).verbose_name), old, new
    return field, old, new


def _choice_label(labels: dict, value: str) -> str:
    """A code as its label, also before a qualifier: "second: Отдел расчётов" (an
    escalation to a department) → «вторая линия: Отдел расчётов»."""
    code, sep, rest = value.partition(": ")
    return f"{labels.get(code, code)}{sep}{rest}" if code in labels else value


_YES_NO = {
    "True": gettext_lazy("yes"),
    "False": gettext_lazy("no"),
    "Yes": gettext_lazy("yes"),
    "No": gettext_lazy("no"),
}
_TICKET_FIELDS = frozenset(f.name for f in Ticket._meta.get_fields() if hasattr(f, "verbose_name"))


def staff_display_name(user) -> str:
    """A staff member as colleagues read them: «Анна Соколова», the login only when the
    account has no name."""
    return user.get_full_name() or user.get_username()


def _staff_names(usernames: set[str]) -> dict[str, str]:
    """Username → display name, for history rows that recorded a login (one query)."""
    if not usernames:
        return {}
    users = get_user_model().objects.filter(username__in=usernames)
    return {u.get_username(): staff_display_name(u) for u in users}


def messages_since(*, ticket: Ticket, after_id: int, exclude_user) -> list[Message]:
    """Messages other people added after the page was loaded (collision check)."""
    return list(
        Message.objects.filter(ticket=ticket, pk__gt=after_id)
        .exclude(author_id=exclude_user.pk, author_kind=Message.Author.OPERATOR)
        .exclude(author_kind=Message.Author.SYSTEM)
        .select_related("author")
        .order_by("id")
    )


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def canned_responses_for(ticket: Ticket, operator) -> list[tuple[CannedResponse, str]]:
    """Canned answers for the ticket's queue, with {number}, {name}, {subject},
    {operator} filled in."""
    values = _Placeholders(
        number=ticket.reference,
        name=ticket.requester.full_name,
        subject=ticket.subject,
        operator=operator.get_full_name() or operator.get_username(),
    )
    rows = CannedResponse.objects.filter(is_active=True).filter(
        Q(queue__isnull=True) | Q(queue_id=ticket.queue_id)
    )
    result = []
    for canned in rows.order_by("title"):
        try:
            text = canned.body.format_map(values)
        except (ValueError, IndexError):
            text = canned.body
        result.append((canned, text))
    return result


def escalation_groups() -> QuerySet[Group]:
    return Group.objects.order_by("name")


def count_estimate(queryset: QuerySet) -> int | None:
    """The planner's row estimate for a query (PostgreSQL), or None elsewhere.

    An unfiltered table uses pg_class.reltuples; anything else EXPLAIN's top row count.
    """
    if connection.vendor != "postgresql":
        return None
    query = queryset.query
    with connection.cursor() as cursor:
        if not query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            if row and row[0] >= 0:
                return int(row[0])
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
