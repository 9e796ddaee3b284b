"""Stored files, wherever they live: the local disk (the embedded default) or the object
store (`helpdesk/object_storage.py`, when AWS_STORAGE_BUCKET_NAME is set)."""

from typing import IO

from django.conf import settings
from django.core.files.storage import Storage

# Read size when streaming a stored file to a client or copying it between storages.
CHUNK_BYTES = 64 * 1024


def object_storage():
    """The object store the settings name, whether or not it is the default storage yet
    (`media_migrate` fills it before the switch)."""
    from helpdesk.object_storage import ObjectStorage

    return ObjectStorage(**settings.MEDIA_S3_OPTIONS)


def open_for_download(storage: Storage, name: str) -> tuple[IO[bytes], int | None]:
    """A stored file opened for streaming, and its size when the storage tells it at once.
    FileNotFoundError when the file is gone."""
    open_stream = getattr(storage, "open_stream", None)
    if open_stream is not None:
        return open_stream(name)
    return storage.open(name, "rb"), None
