"""A desk that works after `migrate` alone: the default queue and the admin's
"set up first" list."""

import importlib
import io
from email.message import EmailMessage

import pytest
from django.apps import apps
from django.core.management import call_command

from tests.factories import QueueFactory, UserFactory
from tests.tickets.admin_helpers import make_group, make_operator
from tickets.models import DEFAULT_QUEUE_SLUG, Mailbox, Queue, Ticket

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tickets.migrations.0008_default_queue")


def create_default_queue() -> None:
    migration.create_default_queue(apps, None)


def test_migration_creates_the_default_queue_from_settings_when_there_is_none(settings):
    settings.DEFAULT_QUEUE_NAME = "Горячая линия"
    settings.DEFAULT_QUEUE_EMAIL = "hotline@gov.example"

    create_default_queue()

    queue = Queue.objects.get()
    assert (queue.slug, queue.name, queue.email_address, queue.is_active) == (
        DEFAULT_QUEUE_SLUG,
        "Горячая линия",
        "hotline@gov.example",
        True,
    )


def test_migration_leaves_an_install_that_has_queues_alone(queue):
    create_default_queue()

    assert list(Queue.objects.all()) == [queue]


def test_public_form_of_a_fresh_install_offers_the_default_queue(client):
    create_default_queue()

    response = client.get("/appeal/")

    assert Queue.objects.get().name in response.content.decode()


def test_mail_to_a_fresh_install_becomes_a_ticket_in_the_default_queue(settings, tmp_path):
    create_default_queue()
    mail = EmailMessage()
    mail["From"] = "Мария Петрова <maria@example.com>"
    mail["To"] = settings.DEFAULT_QUEUE_EMAIL
    mail["Subject"] = "Не приходит код"
    mail["Message-ID"] = "<fresh-1@example.com>"
    mail.set_content("Здравствуйте! Не приходит СМС-код.")
    (tmp_path / "m.eml").write_bytes(mail.as_bytes())
    out = io.StringIO()

    call_command("ingest_email", str(tmp_path / "m.eml"), stdout=out)

    assert out.getvalue().strip() == Ticket.objects.get(queue__slug=DEFAULT_QUEUE_SLUG).reference


def test_seed_demo_turns_the_untouched_default_queue_into_its_first_queue():
    create_default_queue()
    default = Queue.objects.get()

    call_command("seed_demo", tickets=5, seed=1, stdout=io.StringIO())

    default.refresh_from_db()
    assert (default.slug, default.name) == ("navigator", "Сайт Навигатора")
    assert Queue.objects.count() == 3


def setup_keys(client) -> list[str]:
    page = client.get("/admin/").content.decode()
    return [
        key
        for key in ("addresses", "mailboxes", "operators", "queue")
        if f'id="ws-setup-{key}"' in page
    ]


def test_admin_home_of_a_fresh_install_says_to_set_up_addresses_mail_and_operators(client):
    create_default_queue()  # at support@localhost, no mailbox, no operators' group
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert setup_keys(client) == ["addresses", "mailboxes", "operators"]


def test_admin_home_says_to_create_a_queue_when_there_is_none(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert setup_keys(client) == ["queue"]


def test_admin_home_has_no_setup_list_once_the_desk_is_set_up(client):
    group = make_group("Первая линия")
    make_operator("operator1", groups=[group])
    queue = QueueFactory(email_address="help@gov.example", operators_group=group)
    Mailbox.objects.create(queue=queue, host="imap.gov.example", username="help")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert setup_keys(client) == []


def test_setup_list_is_not_shown_to_operators_who_cannot_change_queues(client):
    client.force_login(make_operator("operator1"))

    assert setup_keys(client) == []
