from django.db import transaction

from tickets.models import Contact
from tickets.validators import normalize_phone


def contact_find(*, email: str = "", phone: str = "") -> Contact | None:
    """The contact with this e-mail (preferred) or phone, oldest first."""
    email = (email or "").strip().lower()
    phone = normalize_phone(phone)
    if email:
        contact = Contact.objects.filter(email=email).order_by("id").first()
        if contact:
            return contact
    if phone:
        return Contact.objects.filter(phone=phone).order_by("id").first()
    return None


# No savepoint: nothing here is caught and retried inside the caller's transaction.
@transaction.atomic(savepoint=False)
def contact_get_or_create(
    *,
    full_name: str,
    email: str = "",
    phone: str = "",
    organisation: str = "",
    inn: str = "",
) -> Contact:
    """Find the requester by e-mail or phone, filling in what we did not know yet."""
    email = (email or "").strip().lower()
    phone = normalize_phone(phone)
    contact = contact_find(email=email, phone=phone)
    if contact is None:
        return Contact.objects.create(
            full_name=full_name.strip(),
            email=email,
            phone=phone,
            organisation=organisation.strip(),
            inn=inn.strip(),
        )
    changed = []
    for field, value in (
        ("full_name", full_name.strip()),
        ("email", email),
        ("phone", phone),
        ("organisation", organisation.strip()),
        ("inn", inn.strip()),
    ):
        if value and not getattr(contact, field):
            setattr(contact, field, value)
            changed.append(field)
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])
    return contact
