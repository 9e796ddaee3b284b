"""The one way a stored file leaves the server: `attachment_response()`.

Whoever asks (a citizen with a status link, an operator, a chat participant), the file is
sent with a Content-Disposition Django builds (RFC 6266, non-ASCII names as filename*),
a content type that cannot carry extra headers, `nosniff`, and a sandboxing CSP, so an
uploaded .html or .svg never runs in our origin. Only raster images may be shown inline.

The bytes are streamed by the web process from wherever the file is stored (local disk or
the object store, `helpdesk/media.py`), never handed out as a link to the store: the
access check the caller made is the only way in, and nothing bearer-like can leak into a
log, a Referer or a browser history.
"""

import re

from django.http import FileResponse, Http404

from helpdesk.media import CHUNK_BYTES, open_for_download

INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
FALLBACK_CONTENT_TYPE = "application/octet-stream"
# type/subtype with optional parameters, nothing that could end a header line.
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+\"-]+)*$")
# Control characters and path separators never reach a file name we send.
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def safe_content_type(value: str | None) -> str:
    value = (value or "").strip()
    return value if _CONTENT_TYPE.match(value) else FALLBACK_CONTENT_TYPE


def safe_filename(value: str | None, default: str = "file") -> str:
    name = _UNSAFE_NAME.sub("_", value or "").strip(" .")
    return name[:200] or default


def file_response(
    fieldfile, *, filename: str, content_type: str = "", inline: bool = False, max_age: int = 0
) -> FileResponse:
    """Stream a stored file as a download (or inline, for raster images only).

    Cached only by the browser that asked (`max_age` seconds), never by shared caches.
    Http404 when the file is gone from storage: the row outlived its file.
    """
    content_type = safe_content_type(content_type)
    inline = inline and content_type.split(";")[0].strip().lower() in INLINE_IMAGE_TYPES
    if not fieldfile:
        raise Http404
    try:
        handle, size = open_for_download(fieldfile.storage, fieldfile.name)
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=safe_filename(filename),
        content_type=content_type,
    )
    response.block_size = CHUNK_BYTES
    if size is not None:
        response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-store"
    return response


def attachment_response(attachment, *, inline: bool = False, max_age: int = 0) -> FileResponse:
    """An `Attachment` as a response; the caller has checked who may read it."""
    return file_response(
        attachment.file,
        filename=attachment.filename,
        content_type=attachment.content_type,
        inline=inline,
        max_age=max_age,
    )
