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
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import DateTimeField, Model
from django.utils import timezone

from tickets.models import (
    Contact,
    Message,
    Queue,
    SatisfactionResponse,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.numbering import format_ticket_number, ticket_numbers_reserve

DEMO_PASSWORD = "demo12345"
DAYS = 90

QUEUES = [
    {
        "slug": "navigator",
        "name": "Сайт Навигатора",
        "email_address": "navigator@support.example",
        "description": "Портал дополнительного образования: запись на кружки, личный кабинет.",
        "position": 1,
    },
    {
        "slug": "booking",
        "name": "Система бронирования",
        "email_address": "booking@support.example",
        "description": "Бронирование площадок и мероприятий, оплата и возвраты.",
        "position": 2,
    },
    {
        "slug": "portal",
        "name": "Единый портал",
        "email_address": "portal@support.example",
        "description": "Вход через Госуслуги, учётные записи, уведомления.",
        "position": 3,
    },
]

# (subject, requester text, operator answer) per queue.
TOPICS = {
    "navigator": [
        (
            "Не приходит СМС-код при регистрации",
            "Здравствуйте! Пытаюсь зарегистрироваться на Навигаторе, но код подтверждения "
            "по СМС не приходит уже третий раз. Телефон указан верно.",
            "Здравствуйте! Мы проверили отправку: оператор связи задерживал сообщения. "
            "Попробуйте запросить код ещё раз — сейчас всё работает.",
        ),
        (
            "Как записать ребёнка в кружок",
            "Добрый день. Подскажите, как записать сына (9 лет) в секцию робототехники? "
            "Кнопка «Записаться» неактивна.",
            "Добрый день! Запись открывается после добавления ребёнка в личном кабинете "
            "(раздел «Дети»). После этого кнопка станет активной.",
        ),
        (
            "Не отображается сертификат дополнительного образования",
            "Сертификат был активирован в прошлом месяце, но в личном кабинете его не видно.",
            "Сертификат привязан к другому профилю ребёнка. Мы объединили профили, "
            "обновите страницу.",
        ),
        (
            "Ошибка при входе в личный кабинет",
            "При входе пишет «Неверный логин или пароль», хотя пароль я восстановила вчера.",
            "Учётная запись была временно заблокирована после нескольких попыток входа. "
            "Блокировка снята, войдите с новым паролем.",
        ),
        (
            "Жалоба на организатора кружка",
            "Занятия в кружке отменяют без предупреждения уже третью неделю подряд.",
            "Спасибо за сообщение. Мы передали жалобу в муниципальный опорный центр, "
            "ответ организатора придёт вам на почту.",
        ),
        (
            "Предложение: фильтр по району",
            "Было бы удобно искать кружки по району города, а не только по названию.",
            "Спасибо за предложение! Мы передали его разработчикам портала.",
        ),
    ],
    "booking": [
        (
            "Не прошла оплата бронирования",
            "Деньги списались с карты, но бронь площадки осталась в статусе «Ожидает оплаты».",
            "Платёж поступил с задержкой банка. Бронь подтверждена, квитанция отправлена "
            "на вашу почту.",
        ),
        (
            "Как отменить бронь и вернуть деньги",
            "Нужно отменить бронирование зала на субботу. Как вернуть оплату?",
            "Бронь отменена. Возврат поступит на карту в течение 5–10 рабочих дней.",
        ),
        (
            "Не приходит письмо с подтверждением брони",
            "Забронировал спортзал, но письмо с подтверждением так и не пришло.",
            "Письмо попало в фильтр нежелательной почты вашего почтового сервиса. "
            "Мы отправили подтверждение повторно.",
        ),
        (
            "Ошибка 500 при выборе даты",
            "При выборе даты в календаре страница показывает ошибку 500.",
            "Ошибка исправлена в обновлении от сегодняшнего дня. Спасибо, что сообщили!",
        ),
        (
            "Жалоба на состояние площадки",
            "Забронированная площадка оказалась закрыта, администратора не было.",
            "Приносим извинения. Оплата возвращена, организатору площадки вынесено предупреждение.",
        ),
    ],
    "portal": [
        (
            "Не могу войти через Госуслуги",
            "При входе через Госуслуги возвращает на главную без авторизации.",
            "Проблема была на стороне интеграции с ЕСИА и устранена. Попробуйте войти снова.",
        ),
        (
            "Как изменить адрес электронной почты",
            "Сменил почту, как обновить её в профиле портала?",
            "Адрес меняется в разделе «Профиль» → «Контакты»; новый адрес нужно подтвердить "
            "по ссылке из письма.",
        ),
        (
            "Не приходят уведомления",
            "Перестали приходить уведомления о статусе заявлений.",
            "В профиле были отключены уведомления по почте. Мы включили их, проверьте, пожалуйста.",
        ),
        (
            "Удаление учётной записи",
            "Прошу удалить мою учётную запись и персональные данные.",
            "Запрос на удаление принят. Данные будут удалены в течение 30 дней, "
            "о завершении мы сообщим.",
        ),
        (
            "Предложение: тёмная тема",
            "Добавьте, пожалуйста, тёмную тему оформления портала.",
            "Спасибо! Предложение включено в план развития портала.",
        ),
    ],
}

FOLLOW_UPS = [
    "Спасибо, но проблема повторилась сегодня утром.",
    "Уточните, пожалуйста, сроки.",
    "Прикладываю скриншот ошибки.",
    "Спасибо, всё получилось!",
    "Я сделала, как вы написали, но результата пока нет.",
]
OPERATOR_FOLLOW_UPS = [
    "Проверили ещё раз — теперь всё должно работать. Напишите, если проблема сохранится.",
    "Срок — до трёх рабочих дней, мы сообщим о результате.",
    "Спасибо за скриншот, передали его специалистам второй линии.",
]
PENDING_QUESTIONS = [
    "Уточните, пожалуйста, номер телефона, указанный при регистрации.",
    "Пришлите, пожалуйста, скриншот ошибки.",
    "Подскажите, каким браузером вы пользуетесь?",
]
INTERNAL_NOTES = [
    "Проверить логи шлюза СМС за сутки.",
    "Похоже на дубль обращения, уточнить у второй линии.",
    "Гражданин звонил повторно, просил ускорить.",
]

MALE = (
    ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков"],
    ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Иван", "Михаил", "Павел"],
    ["Александрович", "Сергеевич", "Дмитриевич", "Андреевич", "Иванович", "Петрович"],
)
FEMALE = (
    ["Иванова", "Смирнова", "Кузнецова", "Попова", "Васильева", "Соколова", "Петрова", "Орлова"],
    ["Елена", "Ольга", "Наталья", "Мария", "Анна", "Татьяна", "Ирина", "Светлана"],
    ["Александровна", "Сергеевна", "Дмитриевна", "Андреевна", "Ивановна", "Петровна"],
)
ORGANISATIONS = [
    "МБОУ СОШ № 12",
    "ООО «Ромашка»",
    "ДЮСШ «Олимп»",
    "МАУ ДО «Дом творчества»",
    "ИП Сидоров А. В.",
]
MAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "rambler.ru", "example.com"]
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya",
    }
)  # fmt: skip

STAFF = [
    # username, first name, last name, group, superuser
    ("admin", "Администратор", "Системы", None, True),
    ("operator1", "Анна", "Соколова", "Первая линия", False),
    ("operator2", "Игорь", "Лебедев", "Первая линия", False),
    ("operator3", "Дарья", "Волкова", "Первая линия", False),
    ("specialist", "Никита", "Морозов", "Вторая линия", False),
    ("supervisor", "Елена", "Орлова", "Супервизоры", False),
]

_OPERATOR_PERMS = [
    "view_ticket",
    "add_ticket",
    "change_ticket",
    "view_personal_data",
    "view_message",
    "add_message",
    "view_attachment",
    "add_attachment",
    "view_contact",
    "add_contact",
    "change_contact",
    "view_ticketlink",
    "add_ticketlink",
    "delete_ticketlink",
    "view_ticketevent",
    "view_cannedresponse",
    "view_queue",
    "view_satisfactionresponse",
]
GROUP_PERMS = {
    "Первая линия": _OPERATOR_PERMS,
    "Вторая линия": _OPERATOR_PERMS,
    "Супервизоры": [
        *_OPERATOR_PERMS,
        "supervise",
        "add_cannedresponse",
        "change_cannedresponse",
        "delete_cannedresponse",
        "change_queue",
        "view_inboundemail",
        "change_inboundemail",
        "view_notification",
    ],
}
# Apps whose content the operators read and the supervisors edit, if installed.
KB_APPS = ("knowledge_base",)
CHAT_APPS = ("chat",)


def _inn_check(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def make_inn(rng: random.Random, *, person: bool) -> str:
    """A random INN with correct check digits (10 for organisations, 12 for people)."""
    if person:
        digits = [rng.randint(0, 9) for _ in range(10)]
        digits.append(_inn_check(digits, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)))
        digits.append(_inn_check(digits, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)))
    else:
        digits = [rng.randint(0, 9) for _ in range(9)]
        digits.append(_inn_check(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8)))
    return "".join(map(str, digits))


# The columns the loader fills; every other column gets its field default.
TICKET_COLUMNS = [
    "number",
    "token",
    "queue_id",
    "channel",
    "kind",
    "status",
    "priority",
    "line",
    "assignee_id",
    "assigned_group_id",
    "requester_id",
    "subject",
    "language",
    "created_at",
    "last_activity_at",
    "first_response_due",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_remind_at",
    "sla_breach_at",
    "sla_paused_at",
    "first_contact_resolution",
]
MESSAGE_COLUMNS = [
    "ticket_id",
    "author_kind",
    "author_id",
    "is_internal",
    "channel",
    "text",
    "created_at",
]
EVENT_COLUMNS = [
    "ticket_id",
    "kind",
    "actor_id",
    "actor_label",
    "field",
    "old_value",
    "new_value",
    "note",
    "created_at",
]
RATING_COLUMNS = ["ticket_id", "solved", "rating", "comment", "created_at"]
LINK_COLUMNS = ["source_id", "target_id", "kind", "created_at"]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # What Django's SQLite backend stores: naive UTC text.
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


class RowWriter:
    """Raw bulk inserts of plain dicts: COPY on PostgreSQL, executemany on SQLite.

    The ORM's bulk_create spends most of its time compiling SQL per value; a loader of
    millions of rows cannot afford that. Columns not given get the model field's default
    (computed once), so fields added to the models later still get valid values.
    """

    def __init__(self, model: type[Model], given: list[str]):
        self.table = model._meta.db_table
        now = timezone.now()
        sqlite = connection.vendor == "sqlite"
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in fields]
        self.plan = []
        for field in fields:
            if field.attname in given:
                convert = _sqlite_datetime if sqlite and isinstance(field, DateTimeField) else None
                self.plan.append((field.attname, convert, None))
            else:
                auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
                value = now if auto else field.get_default()
                self.plan.append((None, None, field.get_db_prep_save(value, connection)))

    def _rows(self, items):
        plan = self.plan
        for item in items:
            yield tuple(
                (convert(item[name]) if convert else item[name]) if name else constant
                for name, convert, constant in plan
            )

    def write(self, items) -> None:
        connection.ensure_connection()
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        # The raw DB-API cursor: same connection and transaction, no debug query log.
        # Table and column names come from the model's metadata, quoted: not user input.
        cursor = connection.connection.cursor()
        try:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self._rows(items):
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.columns))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, self._rows(items))
        finally:
            cursor.close()


def ticket_ids_by_number(first: int, last: int) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT number, id FROM tickets_ticket WHERE number BETWEEN %s AND %s", [first, last]
        )
        return dict(cursor.fetchall())


class Progress:
    """A one-line progress bar with rows/s, redrawn in place."""

    def __init__(self, stdout, total: int, label: str):
        self.stdout, self.total, self.label = stdout, total, label
        self.started = time.perf_counter()
        self.rows = 0
        self.done = 0
        self._last = 0.0

    def update(self, done: int, rows: int) -> None:
        self.done += done
        self.rows += rows
        now = time.perf_counter()
        if now - self._last < 0.5 and self.done < self.total:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        share = self.done / self.total if self.total else 1
        bar = "#" * int(share * 30)
        self.stdout.write(
            f"\r{self.label} [{bar:<30}] {share:6.1%} {self.done}/{self.total} "
            f"| {self.rows} rows, {self.rows / elapsed:,.0f} rows/s",
            ending="",
        )
        self.stdout.flush()

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.started
        self.stdout.write("")
        return elapsed


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

    # --- Reference data ------------------------------------------------------------

    def _queues(self) -> list[Queue]:
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
                f"{name.lower().translate(_TRANSLIT)}.{surname.lower().translate(_TRANSLIT)}"
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
                ],
                weights=[40, 30, 20, 10],
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
