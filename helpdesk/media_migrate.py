"""Copy the files of the local media folder into the object store, verified and resumable
(`manage.py media_migrate --to s3`).

Each file keeps its name, so no database row changes: switching the default storage
afterwards (AWS_STORAGE_BUCKET_NAME) makes every row find its file in the store. A copy
carries the SHA-256 of the source in the object's metadata and is read back and hashed
before it counts; a file whose object already carries its hash is skipped, so a run that
was interrupted, or a second run after the switch for the files written meanwhile, copies
only what is missing or different.
"""

import hashlib
import mimetypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from botocore.exceptions import ClientError
from django.core.files.storage import Storage

from helpdesk.media import CHUNK_BYTES
from helpdesk.object_storage import ObjectStorage

COPIED, SKIPPED, FAILED = "copied", "skipped", "FAILED"
HASH_METADATA = "sha256"


@dataclass
class MigrationReport:
    copied: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    bytes_copied: int = 0


def stored_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name under `folder`, depth first, in a stable order."""
    directories, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from stored_names(storage, f"{folder}/{directory}" if folder else directory)


def _sha256(handle: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _stored_hash(target: ObjectStorage, key: str) -> str | None:
    try:
        head = target.connection.meta.client.head_object(Bucket=target.bucket_name, Key=key)
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return None
        raise
    return head.get("Metadata", {}).get(HASH_METADATA)


def media_copy_one(*, source: Storage, target: ObjectStorage, name: str) -> tuple[str, int]:
    """Copy one file unless the store already holds it verified; (outcome, bytes)."""
    with source.open(name, "rb") as handle:
        expected, size = _sha256(handle)
    key = target.key(name)
    if _stored_hash(target, key) == expected:
        return SKIPPED, 0
    client = target.connection.meta.client
    with source.open(name, "rb") as handle:
        client.upload_fileobj(
            handle,
            target.bucket_name,
            key,
            ExtraArgs={
                "Metadata": {HASH_METADATA: expected},
                "ContentType": mimetypes.guess_type(name)[0] or "application/octet-stream",
            },
        )
    stored, _size = _sha256(client.get_object(Bucket=target.bucket_name, Key=key)["Body"])
    if stored != expected:
        # Never leave an object that claims a hash its bytes do not have.
        client.delete_object(Bucket=target.bucket_name, Key=key)
        return FAILED, 0
    return COPIED, size


def media_copy_to_store(
    *,
    source: Storage,
    target: ObjectStorage,
    progress: Callable[[int, int, str, str], None] = lambda done, total, name, outcome: None,
) -> MigrationReport:
    """Copy every file of `source` into `target`; `progress(done, total, name, outcome)`
    after each. A file that cannot be read or written is reported and the copy goes on."""
    names = list(stored_names(source))
    report = MigrationReport()
    for done, name in enumerate(names, start=1):
        try:
            outcome, copied = media_copy_one(source=source, target=target, name=name)
        except (OSError, ClientError):
            outcome, copied = FAILED, 0
        if outcome == COPIED:
            report.copied += 1
            report.bytes_copied += copied
        elif outcome == SKIPPED:
            report.skipped += 1
        else:
            report.failed.append(name)
        progress(done, len(names), name, outcome)
    return report
