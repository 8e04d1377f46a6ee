"""The configuration's own rules, as booking.configuration checks them for every caller (the
API and the admin alike): refused with a field error in the user's language, nothing written."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from booking import configuration
from booking.models import Absence, WorkingHours
from tests.conftest import oslo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def field_errors(call, **kwargs):
    with pytest.raises(ValidationError) as refused:
        call(**kwargs)
    return refused.value.message_dict


def test_working_hours_that_end_before_they_start_are_refused(clinician):
    before = WorkingHours.objects.count()
    with translation.override("en"):
        errors = field_errors(
            configuration.working_hours_create,
            resource=clinician,
            weekday=5,
            start_time=time(12, 0),
            end_time=time(8, 0),
            valid_from=date(2027, 1, 1),
        )
    assert errors == {"end_time": ["The end time must be after the start time."]}
    assert WorkingHours.objects.count() == before


def test_working_hours_valid_until_before_valid_from_are_refused_in_bokmal(clinician):
    hours = clinician.working_hours.first()
    with translation.override("nb"):
        errors = field_errors(
            configuration.working_hours_update,
            working_hours=hours,
            valid_until=date(2019, 12, 31),
        )
    assert list(errors) == ["valid_until"]
    assert errors["valid_until"] != ["The last valid day must not be before the first."]
    hours.refresh_from_db()
    assert hours.valid_until is None


def test_working_hours_of_one_day_are_valid_for_that_day(clinician):
    hours = configuration.working_hours_create(
        resource=clinician,
        weekday=5,
        start_time=time(8, 0),
        end_time=time(12, 0),
        valid_from=date(2027, 1, 9),
        valid_until=date(2027, 1, 9),
    )
    assert hours.pk is not None


def test_an_absence_that_ends_when_it_starts_is_refused(clinician):
    with translation.override("en"):
        errors = field_errors(
            configuration.absence_create,
            resource=clinician,
            starts_at=oslo(2027, 2, 1, 10),
            ends_at=oslo(2027, 2, 1, 10),
            reason="sick",
        )
    assert errors == {"ends_at": ["The absence must end after it starts."]}
    assert not Absence.objects.exists()


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "field"),
    [
        (date(1, 1, 1), None, "valid_from"),
        (date(2027, 1, 1), date(9999, 12, 31), "valid_until"),
    ],
)
def test_working_hours_are_held_to_the_years_local_time_can_reckon(
    clinician, valid_from, valid_until, field
):
    with translation.override("en"):
        errors = field_errors(
            configuration.working_hours_create,
            resource=clinician,
            weekday=5,
            start_time=time(8, 0),
            end_time=time(12, 0),
            valid_from=valid_from,
            valid_until=valid_until,
        )
    assert errors == {field: ["Choose a date between 2000-01-01 and 2199-12-31."]}


def test_an_absence_in_the_year_9999_is_refused(clinician):
    with translation.override("en"):
        errors = field_errors(
            configuration.absence_create,
            resource=clinician,
            starts_at=oslo(9999, 12, 30, 8),
            ends_at=oslo(9999, 12, 30, 16),
            reason="sick",
        )
    assert errors == {
        "starts_at": ["Choose a date between 2000-01-01 and 2199-12-31."],
        "ends_at": ["Choose a date between 2000-01-01 and 2199-12-31."],
    }
