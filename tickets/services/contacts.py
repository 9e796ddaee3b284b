"""Who a requester is: the contact an appeal is filed under.

An e-mail address is the identity of a requester: replies, auto-replies and private
status links go to it. A phone number typed on a form is not proof of anything (anyone
can type anyone's number), so a phone alone never joins an appeal to a contact that
has an e-mail: its auto-reply, with the private link, would go to a stranger's address.
"""

from django.db import transaction

from tickets.models import Contact
from tickets.validators import normalize_phone


def contact_find(*, email: str = "", phone: str = "") -> Contact | None:
    """The contact an appeal with this e-mail and phone belongs to, or None.

    With an e-mail: the oldest contact with that e-mail, whatever the phone (a different
    e-mail with a known phone is another requester). Without one: the oldest contact with
    that phone and no e-mail (a phone-only requester), never one with an e-mail.
    """
    email = (email or "").strip().lower()
    phone = normalize_phone(phone)
    if email:
        return Contact.objects.filter(email=email).order_by("id").first()
    if phone:
        return Contact.objects.filter(phone=phone, email="").order_by("id").first()
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
    """Find the requester (`contact_find`'s rule), filling in what we did not know yet.

    The e-mail of a found contact is never changed or added here: it is the address the
    contact's earlier appeals are answered at.
    """
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
