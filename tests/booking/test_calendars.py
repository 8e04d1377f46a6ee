import random
from dataclasses import replace
from datetime import UTC, date, time, timedelta
from typing import Any

import pytest

from booking.calendars import (
    busy_by_resource,
    calendars_around,
    local_day,
    resource_calendars,
    slot_query,
    working_time,
)
from booking.models import Absence as AbsenceRow
from booking.models import Allocation, Appointment, ResourceKind
from cores.intervals import Interval, merge
from cores.slots import assign_resources
from tests import factories
from tests.conftest import oslo

pytestmark = pytest.mark.django_db

SPAN = Interval(oslo(2027, 1, 6, 8, 0), oslo(2027, 1, 6, 16, 0))


def hold(appointment_type, resource, start, end):
    appointment = Appointment.objects.create(
        patient=factories.PatientFactory.create(user=None),
        appointment_type=appointment_type,
        clinic=appointment_type.clinic,
        starts_at=start,
        ends_at=end,
    )
    Allocation.objects.create(
        appointment=appointment, resource=resource, starts_at=start, ends_at=end
    )


def test_busy_time_is_what_overlaps_the_span_merged_or_not(control_type, clinician, room):
    hold(control_type, clinician, oslo(2027, 1, 6, 7, 0), oslo(2027, 1, 6, 8, 0))  # ends at start
    hold(control_type, clinician, oslo(2027, 1, 6, 9, 0), oslo(2027, 1, 6, 9, 30))
    hold(control_type, clinician, oslo(2027, 1, 6, 9, 30), oslo(2027, 1, 6, 10, 0))  # touching
    hold(control_type, clinician, oslo(2027, 1, 6, 15, 45), oslo(2027, 1, 6, 16, 0))
    hold(control_type, clinician, oslo(2027, 1, 6, 16, 0), oslo(2027, 1, 6, 16, 30))  # at the end
    hold(control_type, room, oslo(2027, 1, 6, 7, 0), oslo(2027, 1, 6, 9, 0))  # began before

    busy = busy_by_resource([clinician.id, room.id], SPAN)

    assert merge(busy[clinician.id]) == [
        Interval(oslo(2027, 1, 6, 9, 0), oslo(2027, 1, 6, 10, 0)),
        Interval(oslo(2027, 1, 6, 15, 45), oslo(2027, 1, 6, 16, 0)),
    ]
    assert merge(busy[room.id]) == [Interval(oslo(2027, 1, 6, 7, 0), oslo(2027, 1, 6, 9, 0))]


def test_a_resource_with_no_busy_time_reads_as_an_empty_list(clinician):
    assert busy_by_resource([clinician.id], SPAN)[clinician.id] == []


def test_an_allocation_of_almost_a_day_that_began_the_day_before_is_busy_time(
    control_type, clinician
):
    start = SPAN.start - timedelta(hours=23)
    hold(control_type, clinician, start, SPAN.start + timedelta(minutes=1))

    busy = busy_by_resource([clinician.id], SPAN)

    assert merge(busy[clinician.id]) == [Interval(start, SPAN.start + timedelta(minutes=1))]


def _random_busy_time(rng, appointment_type, resource, start, end):
    """Back-to-back or spaced allocations from start to end, and maybe an absence."""
    t = start.astimezone(UTC)  # elapsed time, also across a change of the clocks
    while t < end:
        t += timedelta(minutes=rng.choice([0, 15, 30, 60, 90]))
        length = timedelta(minutes=rng.choice([15, 30, 60]))
        hold(appointment_type, resource, t, t + length)
        t += length
    if rng.random() < 0.3:
        away = start.astimezone(UTC) + timedelta(hours=rng.randint(1, 7))
        AbsenceRow.objects.create(
            resource=resource, starts_at=away, ends_at=away + timedelta(hours=1), reason="sick"
        )


def _count_choices_made_by_busy_time(appointment_type, day, first, last):
    """Assert that around every 5 minutes from first to last (instants, so both 02:30s of a
    fall-back night) the choice equals the one from the whole day's calendars; count how often
    it differs from a choice by working hours alone."""
    clinic = appointment_type.clinic
    whole_day = local_day(day, clinic.tz)
    decided_by_busy_time = 0
    start = first.astimezone(UTC)
    while start < last:
        query = slot_query(appointment_type, Interval(start, start + timedelta(minutes=1)))
        calendars = resource_calendars(query, clinic.id, span=whole_day)
        around = calendars_around(query, appointment_type, start=start, span=whole_day)

        chosen = assign_resources(query, calendars, start)
        assert assign_resources(query, around, start) == chosen, start
        working_only = [replace(c, busy=()) for c in around]
        decided_by_busy_time += assign_resources(query, working_only, start) != chosen
        start += timedelta(minutes=5)
    return decided_by_busy_time


@pytest.fixture
def buffered_type(clinic):
    appointment_type = factories.AppointmentTypeFactory.create(
        clinic=clinic, buffer_before_minutes=5, buffer_after_minutes=10
    )
    factories.requirement(appointment_type, ResourceKind.CLINICIAN)
    factories.requirement(appointment_type, ResourceKind.ROOM)
    return appointment_type


# calendars_around reads only the free resources with their neighbouring busy time, in one
# PostgreSQL query; on other databases it *is* resource_calendars over the span, so comparing
# the two there would compare a function with itself. These run on PostgreSQL only.


@pytest.mark.postgres
def test_around_a_start_best_fit_chooses_as_from_the_whole_day(clinic, buffered_type):
    rng = random.Random(20270106)
    resources = [
        factories.weekday_resource(clinic, ResourceKind.CLINICIAN, start=time(8), end=time(16)),
        factories.weekday_resource(clinic, ResourceKind.CLINICIAN, start=time(10), end=time(18)),
        factories.weekday_resource(clinic, ResourceKind.CLINICIAN, start=time(7), end=time(12)),
        factories.weekday_resource(clinic, ResourceKind.CLINICIAN),
        factories.weekday_resource(clinic, ResourceKind.ROOM),
        factories.weekday_resource(clinic, ResourceKind.ROOM, start=time(9), end=time(15)),
        factories.weekday_resource(clinic, ResourceKind.ROOM),
    ]
    days = [6, 7, 8]
    for resource in resources[1:]:
        for day in days:
            first, last = oslo(2027, 1, day, 7), oslo(2027, 1, day, 17)
            _random_busy_time(rng, buffered_type, resource, first, last)

    decided_by_busy_time = sum(
        _count_choices_made_by_busy_time(
            buffered_type, oslo(2027, 1, day), oslo(2027, 1, day, 7), oslo(2027, 1, day, 18)
        )
        for day in days
    )
    assert decided_by_busy_time > 20  # the busy time around a start really decides the choice


@pytest.mark.postgres
@pytest.mark.parametrize("sunday", [oslo(2027, 3, 28), oslo(2027, 10, 31)])
def test_around_a_start_on_the_nights_the_clocks_change(clinic, buffered_type, sunday):
    rng = random.Random(sunday.month + 5)
    night_shifts = [(time(0, 0), time(5, 0)), (time(0, 30), time(6, 0)), (time(1, 0), time(4, 0))]
    for kind in [ResourceKind.CLINICIAN, ResourceKind.ROOM]:
        for start, end in night_shifts * 2:
            resource = factories.ResourceFactory.create(clinic=clinic, kind=kind)
            factories.WorkingHoursFactory.create(
                resource=resource, weekday=6, start_time=start, end_time=end
            )
            _random_busy_time(rng, buffered_type, resource, sunday, sunday + timedelta(hours=6))

    decided_by_busy_time = _count_choices_made_by_busy_time(
        buffered_type, sunday, sunday, sunday + timedelta(hours=7)
    )
    assert decided_by_busy_time > 5


@pytest.mark.postgres
def test_around_a_start_working_hours_are_read_as_for_the_whole_day(clinic, buffered_type):
    """calendars_around reads each free resource's rules with its free block (on PostgreSQL in
    the same query, as JSON): split days, every other week, rules ending or starting on the day,
    and resources with no rule at all come out as working_time reads them."""
    day = oslo(2027, 1, 6)  # a Wednesday
    wednesday = 2
    shapes: list[list[tuple[Any, ...]]] = [
        [(time(8), time(11)), (time(12), time(16))],  # a split day
        [(time(7, 30), time(15, 30), {"interval_weeks": 2, "valid_from": date(2026, 12, 30)})],
        [(time(7, 30), time(15, 30), {"interval_weeks": 2, "valid_from": date(2026, 12, 23)})],
        [(time(9), time(17), {"valid_until": date(2027, 1, 6)})],  # ends on the day
        [(time(9), time(17), {"valid_until": date(2027, 1, 5)})],  # ended the day before
        [(time(10), time(14), {"valid_from": date(2027, 1, 6)})],  # starts on the day
        [],  # no working hours at all
    ]
    for kind in (ResourceKind.CLINICIAN, ResourceKind.ROOM):
        for rules in shapes:
            resource = factories.ResourceFactory.create(clinic=clinic, kind=kind, tags=[])
            for start, end, *extra in rules:
                factories.WorkingHoursFactory.create(
                    resource=resource,
                    weekday=wednesday,
                    start_time=start,
                    end_time=end,
                    **(extra[0] if extra else {}),
                )
    whole_day = local_day(day, clinic.tz)
    start = oslo(2027, 1, 6, 10, 0)
    query = slot_query(buffered_type, Interval(start, start + timedelta(minutes=1)))

    around = calendars_around(query, buffered_type, start=start, span=whole_day)

    expected = working_time([c.resource_id for c in around], clinic.tz, whole_day)
    assert len(around) == 2 * len(shapes)  # nothing is busy: every resource is read
    assert {c.resource_id: c.working for c in around} == {
        c.resource_id: expected.get(c.resource_id, ()) for c in around
    }
    # Per kind, the off week, the rule that ended and no rule at all give no working time.
    assert sum(1 for c in around if c.working) == 2 * 4
