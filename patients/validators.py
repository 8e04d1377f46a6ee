import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.identity import InvalidNationalId, validate_national_id


def validate_national_id_field(value: str) -> None:
    try:
        validate_national_id(value, today=timezone.localdate())
    except InvalidNationalId as exc:
        raise ValidationError(
            _("Enter a valid Norwegian national identity number or D-number (11 digits)."),
            code="invalid_national_id",
        ) from exc


def validate_e164_phone(value: str) -> None:
    """Phone numbers are stored in E.164 (+4791234567) so SMS reminders can be sent as they are."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("Enter the phone number with country code, e.g. +4791234567."), code="invalid_phone"
        ) from exc
    is_e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == value
    if not (is_e164 and phonenumbers.is_valid_number(parsed)):
        raise ValidationError(
            _("Enter the phone number with country code, e.g. +4791234567."), code="invalid_phone"
        )
