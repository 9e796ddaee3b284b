"""Existing plain-text recovery codes (django-otp StaticToken rows) become hashed
RecoveryCode rows, and the plain text is deleted.

The hashing is inlined (the same encoding staffauth.recovery makes, self-describing, so
later changes there still verify these rows). There is no way back: a hash cannot give
the code again. Reversing leaves the hashes where they are and restores nothing; going
back to the code before 0002 means every user makes new recovery codes.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import migrations

ITERATIONS = 20_000


def hash_plain_codes(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    RecoveryCode = apps.get_model("staffauth", "RecoveryCode")
    hasher = PBKDF2PasswordHasher()
    tokens = StaticToken.objects.all()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(
            device_id=token.device_id,
            code_hash=hasher.encode(
                "".join(token.token.split()).replace("-", "").lower(), hasher.salt(), ITERATIONS
            ),
        )
        for token in tokens.iterator()
    )
    tokens.delete()


def irreversible(apps, schema_editor):
    # Deliberately nothing: the plain text is gone for good (that is the point).
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("staffauth", "0002_recovery_code"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_plain_codes, irreversible)]
