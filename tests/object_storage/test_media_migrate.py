"""`manage.py media_migrate --to s3`: the local files into the store, verified, resumable."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.object_storage.files import ticket_with_file
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def _migrate() -> str:
    out = StringIO()
    call_command("media_migrate", "--to", "s3", stdout=out)
    return out.getvalue()


def test_every_local_file_is_copied_with_its_checksum(bucket, queue, contact):
    ticket = ticket_with_file(queue, contact, b"%PDF-1.4 one")
    mail = email_ingest(b"Subject: no sender\r\n\r\nhi", source=InboundEmail.Source.PIPE)
    attachment = ticket.attachments.get()
    raw = InboundEmail.objects.get(pk=mail.inbound_email_id).raw

    output = _migrate()

    assert bucket.keys() == sorted([attachment.file.name, raw.name])
    head = bucket.client().head_object(Bucket=bucket.bucket, Key=attachment.file.name)
    assert head["Metadata"]["sha256"] == hashlib.sha256(b"%PDF-1.4 one").hexdigest()
    assert "[2/2]" in output
    assert "copied=2 skipped=0 failed=0" in output


def test_after_the_switch_the_rows_find_their_files_in_the_store(
    bucket, settings, client, queue, contact, tmp_path
):
    ticket = ticket_with_file(queue, contact, b"%PDF-1.4 moved")
    _migrate()
    settings.MEDIA_ROOT = tmp_path / "another-node"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "helpdesk.object_storage.ObjectStorage",
            "OPTIONS": bucket.options(),
        },
    }
    attachment = ticket.attachments.get()
    url = reverse("tickets:attachment", args=[ticket.reference, attachment.pk])
    response = client.get(f"{url}?t={ticket.token}")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 moved"


def test_a_second_run_copies_only_the_files_not_yet_verified_in_the_store(bucket, queue, contact):
    ticket_with_file(queue, contact, b"first")
    _migrate()
    ticket_with_file(queue, contact, b"second")

    output = _migrate()

    assert "copied=1 skipped=1 failed=0" in output
    assert len(bucket.keys()) == 2


def test_an_object_whose_bytes_differ_from_the_local_file_is_copied_again(bucket, queue, contact):
    attachment = ticket_with_file(queue, contact, b"the real scan").attachments.get()
    bucket.client().put_object(Bucket=bucket.bucket, Key=attachment.file.name, Body=b"partial")

    output = _migrate()

    assert "copied=1 skipped=0" in output
    body = bucket.client().get_object(Bucket=bucket.bucket, Key=attachment.file.name)["Body"]
    assert body.read() == b"the real scan"


def test_without_a_bucket_the_command_refuses_to_run(settings):
    settings.MEDIA_S3_OPTIONS = {**settings.MEDIA_S3_OPTIONS, "bucket_name": ""}
    with pytest.raises(CommandError, match="AWS_STORAGE_BUCKET_NAME"):
        _migrate()
