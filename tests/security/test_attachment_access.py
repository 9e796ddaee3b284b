"""Staff reach a citizen's file only through a ticket they may see (tickets.access), and
every download leaves through one helper with safe headers (tickets.downloads)."""

import pytest
from django.core.files.base import ContentFile
from django.http import Http404

from tests.factories import UserFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import Attachment

pytestmark = pytest.mark.django_db


def _file(ticket, *, filename="passport.pdf", content_type="application/pdf"):
    return Attachment.objects.create(
        ticket=ticket,
        message=ticket.messages.first(),
        file=ContentFile(b"%PDF-1.4 secret", name="upload.bin"),
        filename=filename,
        content_type=content_type,
        size=15,
    )


@pytest.fixture
def citizens_file(queue, other_queue):
    other_queue.operators_group = make_group("Бронирование")
    other_queue.save(update_fields=["operators_group"])
    return _file(new_ticket(other_queue, email="petr@example.com"))


@pytest.fixture
def kb_editor(db):
    return UserFactory(
        username="kb-editor",
        permissions=("knowledge_base.view_article", "knowledge_base.change_article"),
    )


def test_a_kb_editor_without_ticket_rights_gets_404_for_a_citizens_file(
    client, kb_editor, citizens_file
):
    client.force_login(kb_editor)
    response = client.get(f"/chat/files/{citizens_file.pk}/")
    assert response.status_code == 404


def test_an_operator_of_another_queue_gets_404_for_a_file_by_its_chat_url(
    client, queue, citizens_file
):
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    operator = make_operator("nav-op", groups=[queue.operators_group])
    client.force_login(operator)
    assert client.get(f"/chat/files/{citizens_file.pk}/").status_code == 404


def test_an_operator_of_the_queue_downloads_the_file_with_safe_headers(client, citizens_file):
    operator = make_operator("booking-op", groups=[citizens_file.ticket.queue.operators_group])
    client.force_login(operator)
    response = client.get(f"/chat/files/{citizens_file.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 secret"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_staff_account_without_ticket_permission_reaches_no_ticket_even_if_assigned(
    queue, citizens_file
):
    from tickets.access import access_attachment_for_staff, access_ticket_for_staff

    ticket = citizens_file.ticket
    clerk = UserFactory(username="clerk")
    ticket.assignee = clerk
    ticket.save(update_fields=["assignee"])
    with pytest.raises(Http404):
        access_ticket_for_staff(clerk, ticket.pk)
    with pytest.raises(Http404):
        access_attachment_for_staff(clerk, citizens_file.pk)


def test_the_admin_file_url_refuses_a_file_of_another_ticket(client, queue, citizens_file):
    operator = make_operator("nav-op2", extra_perms=("supervise",))
    own = new_ticket(queue)
    client.force_login(operator)
    url = f"/admin/tickets/ticket/{own.pk}/files/{citizens_file.pk}/"
    assert client.get(url).status_code == 404


def test_a_file_name_cannot_inject_headers_and_html_is_never_inline(client, queue):
    supervisor = make_operator("chief", extra_perms=("supervise",))
    attachment = _file(
        new_ticket(queue),
        filename='page"\r\nSet-Cookie: x=1.html',
        content_type="text/html\r\nX-Injected: 1",
    )
    client.force_login(supervisor)
    response = client.get(f"/chat/files/{attachment.pk}/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "X-Injected" not in response.headers
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
