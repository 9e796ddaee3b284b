from django.core.files.uploadedfile import SimpleUploadedFile

from tickets.models import Ticket
from tickets.services import ticket_create


def ticket_with_file(queue, contact, content: bytes = b"%PDF-1.4 scan", name: str = "акт.pdf"):
    """A web appeal with one attachment, stored by whatever the default storage is."""
    return ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Файл",
        text="Смотрите вложение",
        attachments=[SimpleUploadedFile(name, content, "application/pdf")],
    )
