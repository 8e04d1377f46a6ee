"""Norwegian national identity numbers (fødselsnummer) and D-numbers.

Eleven digits: date of birth (DDMMYY; a D-number adds 4 to the first digit), a three-digit
individual number that also tells the century, and two mod-11 check digits.
"""

from datetime import date

_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


class InvalidNationalId(ValueError):
    """The number is not a valid fødselsnummer or D-number."""


def check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 check digit for `digits`, or None when no digit can make the number valid."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    digit = (11 - remainder) % 11
    return None if digit == 10 else digit


def with_check_digits(first_nine: str) -> str | None:
    """Complete nine digits into a valid eleven-digit number, or None if impossible."""
    k1 = check_digit(first_nine, _WEIGHTS_1)
    if k1 is None:
        return None
    k2 = check_digit(first_nine + str(k1), _WEIGHTS_2)
    return None if k2 is None else f"{first_nine}{k1}{k2}"


def is_d_number(number: str) -> bool:
    return int(number[0]) >= 4


def _century(year_2: int, individual: int) -> int:
    if individual <= 499:
        return 1900
    if individual >= 900 and year_2 >= 40:
        return 1900
    if individual <= 749 and year_2 >= 54:
        return 1800
    if year_2 <= 39:
        return 2000
    raise InvalidNationalId("The individual number does not match the year of birth.")


def birth_date(number: str) -> date:
    """The date of birth encoded in a (checked) number."""
    day = int(number[0:2]) - (40 if is_d_number(number) else 0)
    month, year_2, individual = int(number[2:4]), int(number[4:6]), int(number[6:9])
    try:
        return date(_century(year_2, individual) + year_2, month, day)
    except ValueError as exc:
        raise InvalidNationalId("The number does not start with a valid date of birth.") from exc


def is_eleven_digits(number: str) -> bool:
    """Exactly eleven ASCII digits: str.isdigit alone also takes ² and ٣, which int() refuses
    or reads as other digits."""
    return len(number) == 11 and number.isascii() and number.isdigit()


def validate_national_id(number: str, *, today: date | None = None) -> date:
    """Check format, date and both check digits; return the date of birth. With `today`, a
    date of birth after it is refused too."""
    if not is_eleven_digits(number):
        raise InvalidNationalId("A national identity number has exactly 11 digits.")
    if with_check_digits(number[:9]) != number:
        raise InvalidNationalId("The check digits do not match.")
    born = birth_date(number)
    if today is not None and born > today:
        raise InvalidNationalId("The date of birth is in the future.")
    return born
