"""Attachments and raw mail on an S3-compatible object store (MinIO, Yandex Object
Storage, Ceph RGW, AWS), selected by AWS_STORAGE_BUCKET_NAME (settings, "Files").

django-storages' S3 backend with two changes: a download is streamed straight from the
store's answer (the backend's own `open()` copies the whole object into memory first),
and there is no `url()`: a link to a private object, signed for whoever holds it, would
bypass the access checks every download goes through (tickets/downloads.py).
"""

from typing import IO

from botocore.config import Config
from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class ObjectStorage(S3Storage):
    def __init__(self, *, connect_timeout: float = 5, read_timeout: float = 30, **options):
        options.setdefault(
            "client_config",
            Config(
                s3={"addressing_style": options.get("addressing_style")},
                signature_version="s3v4",
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )
        super().__init__(**options)

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError(
            "stored files leave only through tickets.downloads, after the access checks"
        )

    def key(self, name: str) -> str:
        """The object key of a stored file's name (the location prefix included)."""
        return self._normalize_name(clean_name(name))

    def open_stream(self, name: str) -> tuple[IO[bytes], int]:
        """The object's body as a stream, and its size; FileNotFoundError when missing."""
        try:
            answer = self.connection.meta.client.get_object(
                Bucket=self.bucket_name, Key=self.key(name)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from exc
            raise
        return answer["Body"], answer["ContentLength"]
