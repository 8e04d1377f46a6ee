from datetime import date

import pytest
from django.core.exceptions import ValidationError

from patients.identity import InvalidNationalId, validate_national_id, with_check_digits
from patients.validators import validate_e164_phone, validate_national_id_field


@pytest.mark.parametrize(
    ("number", "born"),
    [
        ("01010012356", date(1900, 1, 1)),  # check digits 5 and 6 computed by hand
        ("41010012420", date(1900, 1, 1)),  # a D-number: day + 40
        ("15076500565", date(1965, 7, 15)),  # individual number 005: the 1900s
        ("01017055018", date(1870, 1, 1)),  # individual 550 with year 70: the 1800s
    ],
)
def test_valid_numbers_give_the_date_of_birth(number, born):
    assert validate_national_id(number) == born


@pytest.mark.parametrize(
    "number",
    [
        "01010012357",  # second check digit wrong
        "01010012346",  # first check digit wrong
        "3201001235",  # ten digits
        "0101001235a",
    ],
)
def test_invalid_numbers_are_refused(number):
    with pytest.raises(InvalidNationalId):
        validate_national_id(number)


def test_a_number_with_right_check_digits_but_no_such_date_is_refused():
    with pytest.raises(InvalidNationalId, match="date of birth"):
        validate_national_id("32010012308")  # 32 January


def test_numbers_whose_check_digit_would_be_ten_do_not_exist():
    assert with_check_digits("010100123") == "01010012356"
    assert with_check_digits("410100123") is None  # k2 would be 10


def test_field_validators_speak_to_people():
    with pytest.raises(ValidationError) as bad_id:
        validate_national_id_field("12345678901")
    with pytest.raises(ValidationError) as bad_phone:
        validate_e164_phone("91234567")
    validate_e164_phone("+4791234567")
    assert bad_id.value.code == "invalid_national_id"
    assert bad_phone.value.code == "invalid_phone"


@pytest.mark.parametrize(
    "number",
    ["²⁸⁰³⁵⁴⁰⁰¹⁰⁰", "١٥٠٧٦٥٠٠٥٦٥", "１５０７６５００５６５"],
    ids=["superscript", "Arabic-Indic", "full-width"],
)
def test_digits_that_are_not_ascii_are_refused_not_crashed_on(number):
    with pytest.raises(InvalidNationalId):
        validate_national_id(number)
    with pytest.raises(ValidationError):
        validate_national_id_field(number)


def test_a_date_of_birth_in_the_future_is_refused():
    number = "01013550022"  # 1 January 2035: individual number 500 with year 35
    assert validate_national_id(number) == date(2035, 1, 1)  # a real date, but not yet
    with pytest.raises(InvalidNationalId, match="future"):
        validate_national_id(number, today=date(2027, 1, 4))
    with pytest.raises(ValidationError):
        validate_national_id_field(number)
