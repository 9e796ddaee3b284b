"""Who may work the chat console, which chats they may take, and what they see of them.

The console shows waiting citizens' names and contacts and lets an operator take a chat,
which makes them the ticket's assignee (and so opens its page with internal notes). So
it needs the `chat.operate_chat` permission plus membership of the chat's queue, checked
here for connecting, for each heartbeat, for accepting and for transfers, with the same
queue rules as the router. Contacts are masked without `tickets.view_personal_data`.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q, QuerySet

from tickets.access import user_sees_all_tickets, user_sees_personal_data
from tickets.models import Queue
from tickets.selectors_admin import mask_email, mask_phone

OPERATE_CHAT = "chat.operate_chat"


@dataclass(frozen=True)
class ConsoleRights:
    """What one console may see: its queues (None: every queue) and full contacts."""

    queue_ids: frozenset[int] | None
    personal_data: bool

    def covers(self, queue_id: int) -> bool:
        return self.queue_ids is None or queue_id in self.queue_ids

    @property
    def key(self) -> tuple:
        """Equal for consoles that are shown exactly the same waiting line."""
        queues = None if self.queue_ids is None else tuple(sorted(self.queue_ids))
        return (queues, self.personal_data)


def user_operates_chat(user) -> bool:
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.has_perm(OPERATE_CHAT)


def chat_queues_for(user) -> QuerySet[Queue]:
    """Queues whose chats this operator may take: those their groups work, and those
    with no operators group at all (the router gives those to anyone online)."""
    return Queue.objects.filter(
        Q(operators_group__isnull=True) | Q(operators_group__in=user.groups.all())
    )


def console_rights(user) -> ConsoleRights | None:
    """The rights of this user's console, or None: they may not use it."""
    if not user_operates_chat(user):
        return None
    queue_ids = None
    if not user_sees_all_tickets(user):
        queue_ids = frozenset(chat_queues_for(user).values_list("pk", flat=True))
    return ConsoleRights(queue_ids=queue_ids, personal_data=user_sees_personal_data(user))


def operator_fresh(user_id: int):
    """The user as the database has them now (permissions are cached per instance, so a
    long-lived socket re-reads them rather than trusting what it loaded at connect)."""
    return get_user_model().objects.filter(pk=user_id).first()


def operator_may_take(user, queue_id: int) -> bool:
    rights = console_rights(user)
    return rights is not None and rights.covers(queue_id)


def chat_operator_users() -> QuerySet:
    """Active accounts holding the chat permission (directly, by group, or superusers):
    the only ones the router may give a chat to."""
    # ModelBackend's own query: the manager's with_perm() refuses to pick among several
    # configured backends (the second factor adds one).
    return ModelBackend().with_perm(OPERATE_CHAT, include_superusers=True)


def summary_for(rights: ConsoleRights, summary: dict) -> dict:
    """A chat summary as this console may show it: contacts masked without the right."""
    if rights.personal_data:
        return summary
    return {**summary, "email": mask_email(summary["email"]), "phone": mask_phone(summary["phone"])}
