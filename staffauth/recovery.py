"""Recovery codes are kept only as salted one-way hashes: the database never holds a
code that passes someone's second factor.

A code is shown once, when it is made (16 base32 characters, 80 random bits, shown in
groups of four); what is stored is Django's PBKDF2 encoding of it. The work factor is
lower than for passwords because a sign-in tries each of the user's ten codes: the codes
are random, so stretching matters only for the 8-character codes of the first release
that migration 0003 hashed.
"""

import secrets
from base64 import b32encode

from django.contrib.auth.hashers import PBKDF2PasswordHasher

CODE_BYTES = 10
ITERATIONS = 20_000


def recovery_code_new() -> str:
    raw = b32encode(secrets.token_bytes(CODE_BYTES)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def recovery_code_normalise(code: str) -> str:
    """What is hashed and compared: lower case, without spaces and hyphens (people type
    the code as they read it)."""
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_hash(code: str) -> str:
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(recovery_code_normalise(code), hasher.salt(), ITERATIONS)


def recovery_code_matches(code: str, encoded: str) -> bool:
    """Constant-time comparison (the hasher's own) of a typed code with one stored hash."""
    return PBKDF2PasswordHasher().verify(recovery_code_normalise(code), encoded)
