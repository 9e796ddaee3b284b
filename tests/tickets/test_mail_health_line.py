"""The admin home says when a queue's mail is not arriving (a mailbox's last poll failed)."""

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tickets.models import Mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(queue):
    return Mailbox.objects.create(
        queue=queue, host="imap.example.org", username="support", password="secret-123"
    )


def _index(client, user) -> str:
    client.force_login(user)
    return client.get("/admin/").content.decode()


def test_no_line_while_every_mailbox_polls_fine(client, mailbox, operator, translations):
    mailbox.last_polled_at = timezone.now()
    mailbox.save()

    assert 'id="ws-mail-health"' not in _index(client, operator)


def test_a_failed_poll_shows_every_operator_which_queue_gets_no_mail(
    client, mailbox, operator, translations
):
    mailbox.last_polled_at = timezone.now()
    mailbox.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    mailbox.save()

    html = _index(client, operator)

    assert "Почта очереди «Сайт Навигатора» не поступает" in html
    assert "imap.example.org" not in html  # the server and the error: mailbox admins only
    assert "ConnectionRefusedError" not in html


def test_mailbox_admins_also_see_the_error_and_a_link_to_the_mailbox(client, mailbox, translations):
    mailbox.last_polled_at = timezone.now()
    mailbox.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    mailbox.save()
    admin = UserFactory(username="mail-admin", permissions=("tickets.view_mailbox",))

    html = _index(client, admin)

    assert f"/admin/tickets/mailbox/{mailbox.pk}/change/" in html
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in html


def test_an_inactive_mailbox_raises_no_alarm(client, mailbox, operator):
    mailbox.is_active = False
    mailbox.last_error = "ConnectionRefusedError"
    mailbox.save()

    assert 'id="ws-mail-health"' not in _index(client, operator)
