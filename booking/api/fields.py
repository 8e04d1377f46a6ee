"""Input fields that refuse what the rest of the code cannot handle, with a clear 400.

Dates and times are held to years 2000-2199: outside them, local-time arithmetic overflows
Python's datetime (year 1 in Europe/Oslo is UTC+00:43; 9999-12-31 has no next day), and no
outpatient appointment lies there. Ids are held to what a database integer column can hold.
"""

import re
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from booking.models import FIRST_DAY, LAST_DAY

MAX_ID = 2**63 - 1  # a 64-bit signed integer column
M = TypeVar("M", bound=models.Model)

_OUT_OF_RANGE = _("Choose a date between 2000-01-01 and 2199-12-31.")


def _check_day(field: serializers.Field[Any, Any, Any, Any], day: date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        field.fail("out_of_range")


class DateField(serializers.DateField):
    default_error_messages = {"out_of_range": _OUT_OF_RANGE}

    def to_internal_value(self, value: Any) -> date:
        day = super().to_internal_value(value)
        _check_day(self, day)
        return day


class DateTimeField(serializers.DateTimeField):
    """An instant: date, time and UTC offset. A time without an offset is refused rather than
    read as Oslo time: on the nights the clocks change it may not exist, or exist twice."""

    default_error_messages = {
        "out_of_range": _OUT_OF_RANGE,
        "naive": _("Give the time with its UTC offset, e.g. 2027-03-28T10:30:00+02:00."),
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            return super().enforce_timezone(value)
        except OverflowError:  # DRF misses one: making a naive time in year 1 aware
            self.fail("overflow")

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and _without_offset(value):
            self.fail("naive")
        moment = super().to_internal_value(value)
        _check_day(self, moment.date())
        return moment


def _without_offset(text: str) -> bool:
    """Whether the text reads as a date and time with no UTC offset (or as a bare date)."""
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        return False  # out of range: DRF's own message says so
    return parsed is not None and parsed.tzinfo is None


class TimeField(serializers.TimeField):
    """A time of day on the wall clock, to the minute: "08:00" (or "08:00:00"). Seconds,
    fractions and UTC offsets are refused, not dropped: working hours and availability are
    local times of day, the same on both sides of a daylight-saving change."""

    default_error_messages = {
        "not_a_clock_time": _("Give the time as hours and minutes, e.g. 08:00.")
    }

    def to_internal_value(self, value: Any) -> time:
        if isinstance(value, str) and not _CLOCK_TIME.fullmatch(value.strip()):
            self.fail("not_a_clock_time")
        parsed: time = super().to_internal_value(value)
        return parsed


_CLOCK_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:00)?")


class IdField(serializers.IntegerField):
    """A positive database id."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class PrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """DRF's, without quietly truncating 1.5 to 1 or looking up ids no column can hold."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not data.isdigit():
            self.fail("incorrect_type", data_type="str")
        if not 0 < int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class ModelSerializer(serializers.ModelSerializer[M]):
    """The project's model serializer: the fields above for dates, times and relations."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: DateField,
        models.DateTimeField: DateTimeField,
        models.TimeField: TimeField,
    }
    serializer_related_field = PrimaryKeyRelatedField
