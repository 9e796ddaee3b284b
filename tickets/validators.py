"""Validators for personal data fields (INN, phone)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    """Russian taxpayer number: 10 digits (organisation) or 12 (person), with checksums."""
    if not value.isdigit():
        return False
    if len(value) == 10:
        return _inn_digit(value, _INN10_WEIGHTS) == int(value[9])
    if len(value) == 12:
        return _inn_digit(value, _INN12_WEIGHTS_11) == int(value[10]) and _inn_digit(
            value, _INN12_WEIGHTS_12
        ) == int(value[11])
    return False


def validate_inn(value: str) -> None:
    if value and not inn_is_valid(value):
        raise ValidationError(
            _("INN must have 10 or 12 digits with a valid checksum."), code="invalid_inn"
        )


# Separators people type: spaces, dashes, brackets, dots, slashes ("912/345-67-89").
_PHONE_CLEAN = re.compile(r"[\s\-()./]")


def normalize_phone(value: str) -> str:
    """Phone as digits with a leading +; Russian numbers as +7XXXXXXXXXX.

    `8 (912) 345-67-89`, `+7 912 3456789`, `79123456789` and `912/345-67-89` all become
    `+79123456789`; an international `00` prefix becomes `+`.
    """
    value = _PHONE_CLEAN.sub("", value or "")
    if not value:
        return ""
    if value.startswith("00") and len(value) > 12:
        value = "+" + value[2:]
    digits = value.lstrip("+")
    if len(digits) == 11 and digits.startswith("8") and not value.startswith("+"):
        digits = "7" + digits[1:]
    elif len(digits) == 10 and not value.startswith("+"):
        digits = "7" + digits
    return "+" + digits


def phone_e164(value: str) -> str:
    """The number in E.164 (`+79123456789`), or "" when it is not a phone number at all
    (letters, too few or too many digits). For numbers from machines (caller ids)."""
    normalized = normalize_phone(value)
    digits = normalized.lstrip("+")
    if not digits.isdigit() or not 10 <= len(digits) <= 15:
        return ""
    return normalized


def validate_phone(value: str) -> None:
    digits = normalize_phone(value).lstrip("+")
    if value and (not digits.isdigit() or not 10 <= len(digits) <= 15):
        raise ValidationError(
            _("Enter a phone number of 10 to 15 digits, for example +7 900 123-45-67."),
            code="invalid_phone",
        )
