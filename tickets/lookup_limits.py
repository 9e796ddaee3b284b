"""Per-target limits where a ticket number and an e-mail or phone are checked together.

The per-address limits (`tickets.ratelimit.request_rate_limited`) stop one client; these
stop many clients working on one number or one contact: each attempt that names a
number counts against that number, each e-mail or phone against that contact.
"""

import hashlib

from django.conf import settings

from tickets.ratelimit import rate_limit_hit
from tickets.validators import normalize_phone


def _contact_key(value: str) -> str:
    value = (value or "").strip().lower()
    if "@" not in value:
        value = normalize_phone(value) or value
    # Hashed: the cache is no place for citizens' addresses.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def lookup_targets_limited(*, number: int | None, contacts: tuple[str, ...] = ()) -> bool:
    """Count one attempt against `number` and each non-empty contact; True when any of
    them is over its hourly allowance (every target is counted, none short-circuits)."""
    over = False
    if number:
        over |= rate_limit_hit(
            scope="lookup_number", key=str(number), limit=settings.LOOKUP_NUMBER_RATE_LIMIT
        )
    for value in {_contact_key(c) for c in contacts if (c or "").strip()}:
        over |= rate_limit_hit(
            scope="lookup_contact", key=value, limit=settings.LOOKUP_CONTACT_RATE_LIMIT
        )
    return over
