"""Files on an S3-compatible store (a moto server process): stored under random names,
streamed out only after the same access checks, never handed out as a link."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.object_storage.files import ticket_with_file
from tests.tickets.admin_helpers import make_group, make_operator
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# No sender: the message is quarantined, and its raw file is all staff have of it.
RAW_MAIL = "Subject: без отправителя\r\n\r\nПомогите".encode()


def test_an_uploaded_file_is_stored_in_the_bucket_under_a_random_name(object_store, queue, contact):
    ticket = ticket_with_file(queue, contact, name="паспорт скан.pdf")
    attachment = ticket.attachments.get()
    (key,) = object_store.keys()
    assert key == attachment.file.name
    assert key.startswith("attachments/") and key.endswith(".pdf")
    assert "паспорт" not in key
    body = object_store.client().get_object(Bucket=object_store.bucket, Key=key)["Body"]
    assert body.read() == b"%PDF-1.4 scan"


def test_nothing_is_written_to_the_media_folder_when_the_bucket_is_set(
    object_store, settings, queue, contact
):
    ticket_with_file(queue, contact, name="паспорт скан.pdf")
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*.*"))


def test_a_citizen_downloads_their_file_streamed_from_the_store_with_its_length(
    object_store, client, queue, contact
):
    ticket = ticket_with_file(queue, contact, content=b"x" * 300_000)
    attachment = ticket.attachments.get()
    url = reverse("tickets:attachment", args=[ticket.reference, attachment.pk])
    response = client.get(f"{url}?t={ticket.token}")
    assert response.status_code == 200
    assert response["Content-Length"] == "300000"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"x" * 300_000


def test_without_the_token_the_stored_file_is_not_found(object_store, client, queue, contact):
    ticket = ticket_with_file(queue, contact, name="паспорт скан.pdf")
    attachment = ticket.attachments.get()
    url = reverse("tickets:attachment", args=[ticket.reference, attachment.pk])
    assert client.get(url).status_code == 404
    assert client.get(f"{url}?t=wrong").status_code == 404


def test_a_file_gone_from_the_store_is_a_404_not_an_error(object_store, client, queue, contact):
    ticket = ticket_with_file(queue, contact, name="паспорт скан.pdf")
    attachment = ticket.attachments.get()
    object_store.client().delete_object(Bucket=object_store.bucket, Key=attachment.file.name)
    url = reverse("tickets:attachment", args=[ticket.reference, attachment.pk])
    assert client.get(f"{url}?t={ticket.token}").status_code == 404


def test_the_store_never_hands_out_a_link_to_a_file(object_store, queue, contact):
    attachment = ticket_with_file(queue, contact).attachments.get()
    with pytest.raises(NotImplementedError):
        attachment.file.url  # noqa: B018


def test_the_admin_page_of_a_stored_file_links_only_the_checked_download(
    object_store, client, queue, contact
):
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    operator = make_operator(
        "nav-op", groups=[queue.operators_group], extra_perms=("view_attachment",)
    )
    attachment = ticket_with_file(queue, contact).attachments.get()
    client.force_login(operator)
    page = client.get(reverse("admin:tickets_attachment_change", args=[attachment.pk]))
    assert page.status_code == 200
    download = reverse(
        "admin:tickets_ticket_attachment", args=[attachment.ticket_id, attachment.pk]
    )
    assert download in page.content.decode()
    assert object_store.endpoint_url not in page.content.decode()


def test_quarantined_mail_is_kept_in_the_store_and_staff_download_it(object_store, admin_client):
    result = email_ingest(RAW_MAIL, source=InboundEmail.Source.PIPE)
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert inbound.status == InboundEmail.Status.QUARANTINED
    assert object_store.keys() == [inbound.raw.name]
    response = admin_client.get(reverse("admin:tickets_inboundemail_raw", args=[inbound.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == RAW_MAIL


def test_an_appeal_with_a_file_while_the_store_is_down_is_a_503_and_saves_nothing(
    settings, client, queue
):
    from tests.object_store import ObjectStore, free_port

    store = ObjectStore(endpoint_url=f"http://127.0.0.1:{free_port()}", bucket="nobody-listens")
    options = {**store.options(), "connect_timeout": 1, "read_timeout": 1}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "helpdesk.object_storage.ObjectStorage", "OPTIONS": options},
    }
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.post(
        reverse("tickets:appeal"),
        {
            "full_name": "Петрова Мария",
            "email": "maria@example.com",
            "queue": str(queue.pk),
            "kind": Ticket.Kind.QUESTION,
            "subject": "Скан",
            "text": "Прилагаю",
            "consent": "on",
            "attachments": [SimpleUploadedFile("скан.pdf", b"%PDF-1.4", "application/pdf")],
        },
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert not Ticket.objects.exists()
