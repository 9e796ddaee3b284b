"""`manage.py seed_demo [--tickets N] [--if-empty] [--seed S]`: realistic Russian demo data.

Queues, groups with permissions, demo staff, contacts with valid INNs, and tickets over
the last 90 days in every status, channel and type, with messages, history, first
answers (most within 24 hours, some late), resolutions, ratings and links.

Built for a million tickets: rows are made in memory and written with bulk_create in
batches, numbers are reserved in bulk (`ticket_numbers_reserve`), and nothing per
ticket goes through the services (no notifications, no live events). This is a loader,
not a flow: it writes what those flows would have left behind.
"""

import random
import secrets
import time
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from tickets.demo.bulk import (
    EVENT_COLUMNS,
    LINK_COLUMNS,
    MESSAGE_COLUMNS,
    RATING_COLUMNS,
    TICKET_COLUMNS,
    Progress,
    RowWriter,
    ticket_ids_by_number,
)
from tickets.demo.canned import seed_canned_responses
from tickets.demo.vocabulary import (
    CHAT_APPS,
    DAYS,
    DEMO_PASSWORD,
    FEMALE,
    FOLLOW_UPS,
    GROUP_PERMS,
    INTERNAL_NOTES,
    KB_APPS,
    MAIL_DOMAINS,
    MALE,
    OPERATOR_FOLLOW_UPS,
    ORGANISATIONS,
    PENDING_QUESTIONS,
    QUEUES,
    STAFF,
    TOPICS,
    TRANSLIT,
    make_inn,
)
from tickets.models import (
    DEFAULT_QUEUE_SLUG,
    Contact,
    Message,
    Queue,
    SatisfactionResponse,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.numbering import format_ticket_number, ticket_numbers_reserve


class Command(BaseCommand):
    help = "Load realistic Russian demo data (queues, staff, contacts, tickets over 90 days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=2000, help="how many tickets")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when tickets already exist"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable)")
        parser.add_argument("--batch", type=int, default=5000, help="tickets per transaction")

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and Ticket.objects.exists():
            self.stdout.write("seed_demo: tickets already exist, nothing to do (--if-empty).")
            return
        rng = random.Random(options["seed"])
        self._batch_size = max(1, options["batch"])
        count = max(0, options["tickets"])
        started = time.perf_counter()

        with transaction.atomic():
            queues = self._queues()
            groups = self._groups()
            staff = self._staff(groups)
            seed_canned_responses()
        operators = [u for u in staff if u.username.startswith("operator")]
        specialist = next(u for u in staff if u.username == "specialist")
        contacts = self._contacts(rng, count)
        rows = self._tickets(rng, count, queues, operators, specialist, groups, contacts)
        self._knowledge_base()

        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"seed_demo: {count} tickets, {len(contacts)} contacts, {rows} rows "
                f"in {elapsed:.1f} s ({rows / max(elapsed, 1e-9):,.0f} rows/s)."
            )
        )
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for username, first, last, group, superuser in STAFF:
            role = "superuser" if superuser else group
            self.stdout.write(f"  {username:<11} {first} {last} — {role}")
        self.stdout.write(
            'Second factor: sign in at /admin/, open /account/security/ ("Sign-in security") '
            "and add an authenticator app or a security key"
            + (
                "; staff pages need it (STAFF_MFA_REQUIRED)."
                if settings.STAFF_MFA_REQUIRED
                else " (optional while STAFF_MFA_REQUIRED=false)."
            )
        )

    # --- Reference data ------------------------------------------------------------

    def _queues(self) -> list[Queue]:
        # The queue the first migrate made becomes the first demo queue, while it is
        # still untouched: the demo shows its own services, not a fourth "general" one.
        first = QUEUES[0]
        if not Queue.objects.filter(slug=first["slug"]).exists():
            Queue.objects.filter(slug=DEFAULT_QUEUE_SLUG, tickets__isnull=True).update(**first)
        queues = []
        for spec in QUEUES:
            queue, _ = Queue.objects.get_or_create(
                slug=spec["slug"], defaults={k: v for k, v in spec.items() if k != "slug"}
            )
            queues.append(queue)
        return queues

    def _groups(self) -> dict[str, Group]:
        groups = {}
        for name, codenames in GROUP_PERMS.items():
            group, _ = Group.objects.get_or_create(name=name)
            perms = set(
                Permission.objects.filter(
                    content_type__app_label__in=("tickets", "notifications"),
                    codename__in=codenames,
                )
            )
            perms |= set(
                Permission.objects.filter(
                    content_type__app_label__in=KB_APPS + CHAT_APPS, codename__startswith="view_"
                )
            )
            # Every demo group answers chats in the console.
            perms |= set(
                Permission.objects.filter(
                    content_type__app_label__in=CHAT_APPS, codename="operate_chat"
                )
            )
            if name == "Супервизоры":
                perms |= set(Permission.objects.filter(content_type__app_label__in=KB_APPS))
            group.permissions.add(*perms)
            groups[name] = group
        first_line = groups["Первая линия"]
        Queue.objects.filter(operators_group__isnull=True).update(operators_group=first_line)
        return groups

    def _staff(self, groups: dict[str, Group]) -> list:
        User = get_user_model()
        password = make_password(DEMO_PASSWORD)  # hash once: PBKDF2 is slow on purpose
        users = []
        for username, first, last, group, superuser in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@support.example",
                    "is_staff": True,
                    "is_superuser": superuser,
                    "password": password,
                },
            )
            if group:
                user.groups.add(groups[group])
            users.append(user)
        return users

    def _contacts(self, rng: random.Random, tickets: int) -> dict[int, str]:
        """Requesters, returned as id → full name (for history labels)."""
        size = min(max(tickets // 3, 30), 300_000)
        batch = []
        for i in range(size):
            surnames, names, patronymics = MALE if rng.random() < 0.5 else FEMALE
            surname, name = rng.choice(surnames), rng.choice(names)
            full_name = f"{surname} {name} {rng.choice(patronymics)}"
            has_email = rng.random() < 0.85
            email = (
                f"{name.lower().translate(TRANSLIT)}.{surname.lower().translate(TRANSLIT)}"
                f"{i}@{rng.choice(MAIL_DOMAINS)}"
                if has_email
                else ""
            )
            phone = (
                f"+79{rng.randrange(10**9):09d}" if (not has_email or rng.random() < 0.7) else ""
            )
            organisation, inn = "", ""
            roll = rng.random()
            if roll < 0.1:
                organisation, inn = rng.choice(ORGANISATIONS), make_inn(rng, person=False)
            elif roll < 0.35:
                inn = make_inn(rng, person=True)
            batch.append(
                {
                    "full_name": full_name,
                    "email": email,
                    "phone": phone,
                    "organisation": organisation,
                    "inn": inn,
                }
            )
        writer = RowWriter(Contact, ["full_name", "email", "phone", "organisation", "inn"])
        progress = Progress(self.stdout, size, "contacts")
        step = 10_000
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_contact")
            last_id = cursor.fetchone()[0]
        for start in range(0, size, step):
            chunk = batch[start : start + step]
            with transaction.atomic():
                writer.write(chunk)
            progress.update(len(chunk), len(chunk))
        progress.finish()
        # The rows just written (and any a running site added meanwhile: also real people).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, full_name FROM tickets_contact WHERE id > %s ORDER BY id", [last_id]
            )
            return dict(cursor.fetchall())

    # --- Tickets ---------------------------------------------------------------------

    def _tickets(self, rng, count, queues, operators, specialist, groups, contacts) -> int:
        if count == 0:
            return 0
        now = timezone.now()
        start = now - timedelta(days=DAYS)
        span = (now - start).total_seconds()
        # Sorted creation times: numbers grow with time, as they would have.
        offsets = sorted(rng.random() * span for _ in range(count))
        names = contacts
        contacts = list(contacts)
        progress = Progress(self.stdout, count, "tickets ")
        rows = 0
        batch_size = max(1, min(count, self._batch_size))
        for first in range(0, count, batch_size):
            chunk = offsets[first : first + batch_size]
            with transaction.atomic():
                written = self._ticket_batch(
                    rng, now, start, chunk, queues, operators, specialist, groups, contacts, names
                )
            rows += written
            progress.update(len(chunk), written)
        progress.finish()
        return rows

    def _ticket_batch(
        self, rng, now, start, offsets, queues, operators, specialist, groups, contacts, names
    ) -> int:
        numbers = ticket_numbers_reserve(len(offsets))
        tickets: list[Ticket] = []
        plans: list[dict] = []
        S = Ticket.Status
        auto_close = timedelta(days=settings.AUTO_CLOSE_DAYS)
        for number, offset in zip(numbers, offsets, strict=True):
            created = start + timedelta(seconds=offset)
            queue = rng.choice(queues)
            topic = rng.choice(TOPICS.get(queue.slug) or TOPICS["navigator"])
            channel = rng.choices(
                [
                    Ticket.Channel.WEB,
                    Ticket.Channel.EMAIL,
                    Ticket.Channel.PHONE,
                    Ticket.Channel.CHAT,
                    Ticket.Channel.API,
                ],
                weights=[40, 30, 20, 10, 3],
            )[0]
            subject = topic[0]
            kind = (
                Ticket.Kind.COMPLAINT
                if subject.startswith("Жалоба")
                else Ticket.Kind.SUGGESTION
                if subject.startswith("Предложение")
                else rng.choices([Ticket.Kind.QUESTION, Ticket.Kind.PROBLEM], weights=[60, 40])[0]
            )
            due = created + timedelta(hours=queue.sla_first_response_hours)
            operator = rng.choice(operators)
            fcr = channel == Ticket.Channel.PHONE and rng.random() < 0.4
            if fcr:
                answered = created + timedelta(minutes=rng.uniform(2, 15))
                resolved = answered
            else:
                late = rng.random() < 0.08  # about 8 % miss the 24-hour rule
                hours = rng.uniform(24.2, 60) if late else min(rng.expovariate(1 / 5), 23.5)
                answered = created + timedelta(hours=hours)
                resolved = (
                    answered + timedelta(hours=rng.expovariate(1 / 30))
                    if rng.random() < 0.96
                    else None
                )
            second_line = not fcr and rng.random() < 0.15
            closed = resolved + auto_close if resolved else None
            pending = not fcr and rng.random() < 0.2
            if answered > now:
                status, answered, resolved, closed = S.NEW, None, None, None
            elif resolved is None or resolved > now:
                status, resolved, closed = (S.PENDING if pending else S.OPEN), None, None
            elif closed > now:
                status, closed = S.RESOLVED, None
            else:
                status = S.CLOSED
            assignee = None if status == S.NEW else (specialist if second_line else operator)
            last = max(t for t in (created, answered, resolved, closed) if t is not None)
            remind = created + (due - created) * queue.sla_reminder_percent / 100
            ticket = SimpleNamespace(
                number=number,
                token=secrets.token_urlsafe(24),
                queue_id=queue.pk,
                channel=channel,
                kind=kind,
                status=status,
                priority=rng.choices(
                    [Ticket.Priority.LOW, Ticket.Priority.NORMAL, Ticket.Priority.HIGH, "urgent"],
                    weights=[10, 75, 12, 3],
                )[0],
                line=Ticket.Line.SECOND if second_line else Ticket.Line.FIRST,
                assignee_id=assignee.pk if assignee else None,
                assigned_group_id=groups["Вторая линия"].pk if second_line else None,
                requester_id=rng.choice(contacts),
                subject=subject,
                language="ru",
                reference=format_ticket_number(number),
                created_at=created,
                last_activity_at=last,
                first_response_due=due,
                first_response_at=answered,
                resolved_at=resolved,
                closed_at=closed,
                # Only alarms still ahead: past ones went out when they were due.
                sla_remind_at=remind if answered is None and remind > now else None,
                sla_breach_at=due if answered is None and due > now else None,
                sla_paused_at=answered if status == S.PENDING else None,
                first_contact_resolution=fcr,
            )
            tickets.append(ticket)
            plans.append({"topic": topic, "second_line": second_line, "operator": assignee})
        writers = self._writers()
        writers[Ticket].write(vars(t) for t in tickets)
        ids = ticket_ids_by_number(numbers[0], numbers[-1])
        for ticket in tickets:
            ticket.pk = ids[ticket.number]

        messages: list[dict] = []
        events: list[dict] = []
        ratings: list[dict] = []
        for ticket, plan in zip(tickets, plans, strict=True):
            self._history(rng, now, ticket, plan, names, messages, events, ratings)
        links = self._links(rng, tickets)
        writers[Message].write(messages)
        writers[TicketEvent].write(events)
        writers[SatisfactionResponse].write(ratings)
        writers[TicketLink].write(links)
        return len(tickets) + len(messages) + len(events) + len(ratings) + len(links)

    def _writers(self) -> dict:
        if not hasattr(self, "_writer_cache"):
            self._writer_cache = {
                Ticket: RowWriter(Ticket, TICKET_COLUMNS),
                Message: RowWriter(Message, MESSAGE_COLUMNS),
                TicketEvent: RowWriter(TicketEvent, EVENT_COLUMNS),
                SatisfactionResponse: RowWriter(SatisfactionResponse, RATING_COLUMNS),
                TicketLink: RowWriter(TicketLink, LINK_COLUMNS),
            }
        return self._writer_cache

    def _history(self, rng, now, ticket, plan, names, messages, events, ratings) -> None:
        S, E, A = Ticket.Status, TicketEvent.Kind, Message.Author
        subject, text, answer = plan["topic"]
        operator = plan["operator"]
        requester_label = names.get(ticket.requester_id) or "гражданин"
        created = ticket.created_at

        def message(author_kind, at, body, author=None, internal=False):
            messages.append(
                {
                    "ticket_id": ticket.pk,
                    "author_kind": author_kind,
                    "author_id": author.pk if author else None,
                    "is_internal": internal,
                    "channel": ticket.channel,
                    "text": body,
                    "created_at": at,
                }
            )

        def event(kind, at, actor=None, label="", **fields):
            events.append(
                {
                    "ticket_id": ticket.pk,
                    "kind": kind,
                    "actor_id": actor.pk if actor else None,
                    "actor_label": label or (actor.username if actor else ""),
                    "field": fields.get("field", ""),
                    "old_value": fields.get("old_value", ""),
                    "new_value": fields.get("new_value", ""),
                    "note": fields.get("note", ""),
                    "created_at": at,
                }
            )

        message(A.REQUESTER, created, text)
        event(
            E.CREATED,
            created,
            label=operator.username if ticket.channel == "phone" and operator else requester_label,
            new_value=ticket.reference,
            note=str(Ticket.Channel(ticket.channel).label),
        )
        if ticket.first_response_at is None:
            return
        answered = ticket.first_response_at
        event(E.ASSIGNED, answered - timedelta(minutes=1), field="assignee",
              new_value=operator.username, label="system")  # fmt: skip
        if plan["second_line"]:
            escalated = created + (answered - created) / 2
            event(E.ESCALATED, escalated, field="line", old_value="first", new_value="second",
                  label="operator1")  # fmt: skip
            if rng.random() < 0.5:
                message(A.OPERATOR, escalated, rng.choice(INTERNAL_NOTES), internal=True)
                event(E.NOTE, escalated, label="operator1")
        if rng.random() < 0.1:
            message(A.OPERATOR, answered - timedelta(seconds=30), rng.choice(INTERNAL_NOTES),
                    author=operator, internal=True)  # fmt: skip
            event(E.NOTE, answered - timedelta(seconds=30), actor=operator)
        if ticket.status == S.PENDING:
            message(A.OPERATOR, answered, rng.choice(PENDING_QUESTIONS), author=operator)
            event(E.MESSAGE, answered, actor=operator)
            event(E.STATUS, answered, actor=operator, field="status", old_value="new",
                  new_value="pending")  # fmt: skip
            return
        message(A.OPERATOR, answered, answer, author=operator)
        event(E.MESSAGE, answered, actor=operator)
        event(E.STATUS, answered, actor=operator, field="status", old_value="new",
              new_value="open")  # fmt: skip
        resolved = ticket.resolved_at
        if resolved and resolved > answered and rng.random() < 0.3:
            middle = answered + (resolved - answered) / 2
            message(A.REQUESTER, middle, rng.choice(FOLLOW_UPS))
            event(E.MESSAGE, middle, label=requester_label)
            reply_at = middle + (resolved - middle) / 2
            message(A.OPERATOR, reply_at, rng.choice(OPERATOR_FOLLOW_UPS), author=operator)
            event(E.MESSAGE, reply_at, actor=operator)
        if resolved is None:
            return
        event(E.STATUS, resolved, actor=operator, field="status", old_value="open",
              new_value="resolved")  # fmt: skip
        if rng.random() < 0.35:
            rated_at = resolved + timedelta(hours=rng.uniform(0.2, 48))
            if rated_at < now:
                solved = rng.random() < 0.88
                rating = rng.choice([5, 5, 5, 4, 4, 3]) if solved else rng.choice([1, 2, 2, 3])
                ratings.append(
                    {
                        "ticket_id": ticket.pk,
                        "solved": solved,
                        "rating": rating,
                        "comment": "" if rng.random() < 0.7 else "Спасибо за быстрый ответ!",
                        "created_at": rated_at,
                    }
                )
                event(E.SATISFACTION, rated_at, label=requester_label,
                      new_value=str(rating))  # fmt: skip
        if ticket.closed_at:
            event(E.STATUS, ticket.closed_at, label="system", field="status",
                  old_value="resolved", new_value="closed")  # fmt: skip

    def _links(self, rng, tickets: list[SimpleNamespace]) -> list[dict]:
        """About 3 % of tickets continue or relate to an earlier one, stored both ways."""
        links: list[dict] = []
        seen: set[tuple[int, int]] = set()
        K = TicketLink.Kind
        for index in range(1, len(tickets)):
            if rng.random() >= 0.03:
                continue
            newer, older = tickets[index], tickets[rng.randrange(index)]
            if (newer.pk, older.pk) in seen:
                continue
            seen.add((newer.pk, older.pk))
            kind = K.CONTINUES if older.status == Ticket.Status.CLOSED else K.RELATED
            at = newer.created_at
            links.append(
                {"source_id": newer.pk, "target_id": older.pk, "kind": kind, "created_at": at}
            )
            links.append(
                {
                    "source_id": older.pk,
                    "target_id": newer.pk,
                    "kind": kind.inverse,
                    "created_at": at,
                }
            )
        return links

    def _knowledge_base(self) -> None:
        try:
            from knowledge_base.demo import seed_articles
        except (ImportError, AttributeError):
            self.stdout.write(
                "seed_demo: knowledge_base.demo.seed_articles not found; no articles."
            )
            return
        seed_articles(stdout=self.stdout)
