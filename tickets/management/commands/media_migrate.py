"""`manage.py media_migrate --to s3`: copy the local media folder into the object store
(helpdesk/media_migrate.py: verified by SHA-256, resumable). Exit status 1 when a file
could not be copied."""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.management.base import BaseCommand, CommandError

from helpdesk.media import object_storage
from helpdesk.media_migrate import FAILED, media_copy_to_store


class Command(BaseCommand):
    help = (
        "Copy attachments and raw mail from the local media folder into the object store "
        "named by AWS_STORAGE_BUCKET_NAME, verifying each copy; run it again to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", choices=["s3"], required=True, help="Where to copy.")
        parser.add_argument(
            "--from",
            dest="source",
            default=None,
            help="The media folder to copy (default: MEDIA_ROOT).",
        )

    def handle(self, *args, to: str, source: str | None, **options):
        if not settings.MEDIA_S3_OPTIONS["bucket_name"]:
            raise CommandError("Set AWS_STORAGE_BUCKET_NAME (and AWS_S3_*) to name the store.")
        folder = Path(source or settings.MEDIA_ROOT)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")

        def progress(done: int, total: int, name: str, outcome: str) -> None:
            style = self.style.ERROR if outcome == FAILED else str
            self.stdout.write(style(f"[{done}/{total}] {outcome} {name}"))

        report = media_copy_to_store(
            source=FileSystemStorage(location=folder),
            target=object_storage(),
            progress=progress,
        )
        self.stdout.write(
            f"copied={report.copied} skipped={report.skipped} failed={len(report.failed)} "
            f"bytes={report.bytes_copied}"
        )
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) not copied; run again to retry.")
