"""Attachments: the same size and type limits for every door (form, chat, admin)."""

import errno
import mimetypes
import re
import uuid
from collections.abc import Iterable
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tickets.models import Attachment, Message, Ticket

# The disk (or the user's quota) for MEDIA_ROOT is full.
STORAGE_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_EXTENSION = re.compile(r"^\.[a-z0-9]{1,10}$")


def attachment_storage_name(filename: str) -> str:
    """A random name to store a file under, keeping its extension: unguessable, the same
    length whatever the citizen called it, and never the name of another file (an object
    store overwrites an object of the same name; the local disk would append a suffix)."""
    suffix = PurePath(filename).suffix.lower()
    return uuid.uuid4().hex + (suffix if _EXTENSION.match(suffix) else "")


def attachment_validate(file: UploadedFile) -> None:
    """Refuse files over the size limit or of a type we do not accept, with a reason."""
    name = PurePath(file.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in settings.UPLOAD_ALLOWED_EXTENSIONS:
        raise ValidationError(
            _("“%(name)s”: files of this type are not accepted. Allowed: %(allowed)s.")
            % {"name": name, "allowed": ", ".join(settings.UPLOAD_ALLOWED_EXTENSIONS)},
            code="file_type",
        )
    if file.size is not None and file.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _("“%(name)s” is %(size)s; the limit is %(limit)s.")
            % {
                "name": name,
                "size": filesizeformat(file.size),
                "limit": filesizeformat(settings.UPLOAD_MAX_BYTES),
            },
            code="file_size",
        )


def attachments_validate(files: list[UploadedFile]) -> None:
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise ValidationError(
            _("At most %(count)s files can be attached.") % {"count": settings.UPLOAD_MAX_FILES},
            code="file_count",
        )
    errors = []
    for file in files:
        try:
            attachment_validate(file)
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def attachment_build(
    *,
    ticket: Ticket,
    message: Message | None,
    file: UploadedFile,
    inline: bool = False,
    content_id: str = "",
) -> Attachment:
    """An attachment with its file already in storage, for the caller to insert (one
    `bulk_create` for many). Call inside the message's transaction."""
    name = PurePath(file.name or "file").name[:255]
    content_type = (
        getattr(file, "content_type", "")
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    attachment = Attachment(
        ticket=ticket,
        message=message,
        filename=name,
        content_type=content_type[:255],
        size=file.size or 0,
        is_inline=inline,
        content_id=content_id[:255],
    )
    field = attachment.file.field
    storage = attachment.file.storage
    # The name the file gets, chosen before writing: a write that fails half-way (a full
    # disk) leaves its part on disk under that name, and nothing else would remove it.
    target = storage.get_available_name(
        field.generate_filename(attachment, attachment_storage_name(name)),
        max_length=field.max_length,
    )
    try:
        attachment.file = storage.save(target, file, max_length=field.max_length)
    except OSError:
        storage.delete(target)
        raise
    return attachment


def attachments_add(
    *,
    ticket: Ticket,
    message: Message | None,
    files: Iterable[UploadedFile],
    validate: bool = True,
    inline: bool = False,
) -> list[Attachment]:
    """Store uploaded files on the ticket (one INSERT). Call inside the message's
    transaction."""
    files = list(files)
    if validate:
        attachments_validate(files)
    if not files:
        return []
    built: list[Attachment] = []
    try:
        for file in files:
            built.append(attachment_build(ticket=ticket, message=message, file=file, inline=inline))
    except OSError as exc:
        # The caller's transaction rolls back: the files stored so far would be orphans.
        for attachment in built:
            attachment.file.storage.delete(attachment.file.name)
        if exc.errno in STORAGE_FULL_ERRNOS:
            raise ValidationError(
                _(
                    "The server has no room for files right now, and the attached files "
                    "were not saved. Send your text without the files, or try again later."
                ),
                code="storage_full",
            ) from exc
        raise
    return Attachment.objects.bulk_create(built)
