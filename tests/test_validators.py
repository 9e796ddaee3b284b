"""Personal data validators: INN checksums and phone normalisation."""

import pytest
from django.core.exceptions import ValidationError

from tickets.validators import (
    inn_is_valid,
    normalize_phone,
    phone_e164,
    validate_inn,
    validate_phone,
)


@pytest.mark.parametrize(
    "inn",
    [
        "7707083893",  # organisation, 10 digits
        "7830002293",
        "500100732259",  # person, 12 digits
        "773370857141",
    ],
)
def test_inn_with_a_valid_checksum_is_accepted(inn):
    assert inn_is_valid(inn)
    validate_inn(inn)


@pytest.mark.parametrize(
    "inn",
    [
        "7707083894",  # last digit wrong
        "500100732258",  # 12th digit wrong
        "500100732269",  # 11th digit wrong
        "12345",
        "12345678901",  # 11 digits
        "77070838a3",
        "7707 083893",
    ],
)
def test_inn_with_a_bad_checksum_or_length_is_refused(inn):
    assert not inn_is_valid(inn)
    with pytest.raises(ValidationError):
        validate_inn(inn)


def test_empty_inn_is_allowed_because_it_is_optional():
    validate_inn("")


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("+7 900 123-45-67", "+79001234567"),
        ("8 (900) 123-45-67", "+79001234567"),
        ("9001234567", "+79001234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
        # The ways a Russian number is written (issue 17): all the same E.164 number.
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 3456789", "+79123456789"),
        ("79123456789", "+79123456789"),
        ("912/345-67-89", "+79123456789"),
        ("0079123456789", "+79123456789"),
    ],
)
def test_phone_is_normalised_to_plus_and_digits(typed, normalized):
    assert normalize_phone(typed) == normalized


@pytest.mark.parametrize("phone", ["12345", "+7 900 abc-45-67", "1" * 16])
def test_phone_with_too_few_digits_or_letters_is_refused(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)


@pytest.mark.parametrize(
    ("caller_id", "e164"),
    [
        ("89123456789", "+79123456789"),
        ("+79123456789", "+79123456789"),
        ("anonymous", ""),
        ("101", ""),
        ("", ""),
    ],
)
def test_caller_ids_become_e164_or_nothing(caller_id, e164):
    assert phone_e164(caller_id) == e164
