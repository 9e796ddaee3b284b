"""What a fresh install still lacks before it can serve citizens: the admin home's
"set up first" list (queue addresses, a way for mail to come in, operators' groups)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from tickets.intake.webhooks import inbound_esp, webhook_secrets
from tickets.models import Mailbox, Queue

# An address at localhost (the default DEFAULT_FROM_EMAIL) receives no mail from outside.
UNDELIVERABLE_DOMAINS = ("localhost",)


@dataclass(frozen=True)
class SetupStep:
    key: str
    title: str
    detail: str
    url: str


def _names(queues: list[Queue]) -> str:
    return ", ".join(queue.name for queue in queues)


def setup_steps_missing() -> list[SetupStep]:
    """The set-up steps still to do, in the order to do them; empty when all is set."""
    queues = list(
        Queue.objects.filter(is_active=True)
        .annotate(
            has_operators=Exists(
                get_user_model().objects.filter(
                    groups=OuterRef("operators_group_id"), is_active=True, is_staff=True
                )
            )
        )
        .order_by("position", "name")
    )
    queue_list = reverse("admin:tickets_queue_changelist")
    if not queues:
        return [
            SetupStep(
                "queue",
                _("Create a queue"),
                _("Appeals and mail need a queue (one per service) to land in."),
                reverse("admin:tickets_queue_add"),
            )
        ]
    steps = []
    no_address = [
        queue
        for queue in queues
        if not queue.email_address
        or queue.email_address.rpartition("@")[2].lower() in UNDELIVERABLE_DOMAINS
    ]
    if no_address:
        steps.append(
            SetupStep(
                "addresses",
                _("Give the queues their e-mail addresses"),
                _("Mail to a queue's address lands in it and answers go out from it: %(queues)s.")
                % {"queues": _names(no_address)},
                queue_list,
            )
        )
    mailboxes = Mailbox.objects.filter(Q(is_active=True), Q(queue__is_active=True))
    webhook_inbound = bool(inbound_esp() and webhook_secrets())
    if not webhook_inbound and not mailboxes.exists():
        steps.append(
            SetupStep(
                "mailboxes",
                _("Connect a mailbox"),
                _(
                    "No mail comes in yet: add an IMAP mailbox, or set up the e-mail "
                    "service's inbound webhook or the mail server's pipe to ingest_email."
                ),
                reverse("admin:tickets_mailbox_add"),
            )
        )
    no_operators = [queue for queue in queues if not queue.has_operators]
    if no_operators:
        steps.append(
            SetupStep(
                "operators",
                _("Give the queues an operators' group with people in it"),
                _("Nobody works these queues yet: %(queues)s.") % {"queues": _names(no_operators)},
                queue_list,
            )
        )
    return steps
