"""The solver's minutes are elapsed time from local midnight of day 0: every real instant has
one place on the axis, and the TimeModel the clock gives the solver reads days, parts of the
day and the grid from the wall clock, also on the nights the clocks change."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from cores.intervals import Interval
from cores.solver import PartOfDay
from planning.inputs import Clock, optimisation_grid
from tests.conftest import oslo
from tests.factories import AppointmentTypeFactory

OSLO = ZoneInfo("Europe/Oslo")
SPRING, AUTUMN = date(2027, 3, 28), date(2027, 10, 31)


def clock_from(epoch: date, days: int = 7) -> Clock:
    start = oslo(epoch.year, epoch.month, epoch.day)
    return Clock.for_span(Interval(start, start + timedelta(days=days)), OSLO)


@pytest.mark.parametrize(
    ("epoch", "moment", "minute"),
    [
        (date(2027, 3, 27), oslo(2027, 3, 29, 9, 0), 2 * 1440 - 60 + 540),  # an hour less
        (date(2027, 10, 30), oslo(2027, 11, 1, 9, 0), 2 * 1440 + 60 + 540),  # an hour more
        (date(2027, 1, 4), oslo(2027, 1, 4, 7, 0), 420),
        (date(2027, 1, 4), oslo(2027, 1, 3, 23, 45), -15),
    ],
)
def test_clock_counts_elapsed_minutes(epoch, moment, minute):
    clock = clock_from(epoch)
    assert clock.minute(moment) == minute
    assert clock.moment(minute) == moment


def test_the_two_half_past_twos_of_the_autumn_night_are_an_hour_apart():
    clock = clock_from(AUTUMN)
    first = oslo(2027, 10, 31, 2, 30)
    second = first.replace(fold=1)
    assert clock.minute(second) - clock.minute(first) == 60
    assert clock.moment(clock.minute(first)).isoformat() == "2027-10-31T02:30:00+02:00"
    assert clock.moment(clock.minute(second)).isoformat() == "2027-10-31T02:30:00+01:00"


def test_a_moment_is_written_with_the_offset_in_force_then():
    clock = clock_from(SPRING)
    half_past_one = clock.minute(oslo(2027, 3, 28, 1, 30))
    assert clock.moment(half_past_one + 30).isoformat() == "2027-03-28T03:00:00+02:00"


def test_the_clock_tells_the_solver_when_the_wall_clock_jumps():
    spring = clock_from(SPRING - timedelta(days=1), days=3)
    autumn = clock_from(AUTUMN - timedelta(days=1), days=3)
    assert spring.shifts() == ((1440 + 120, 60),)  # 02:00 winter time becomes 03:00
    assert autumn.shifts() == ((1440 + 180, -60),)  # 03:00 summer time becomes 02:00
    assert clock_from(date(2027, 1, 4)).shifts() == ()


def test_the_time_model_reads_days_and_times_from_the_wall_clock():
    clock = clock_from(AUTUMN - timedelta(days=1), days=3)
    time = clock.time_model()
    first, second = (clock.minute(oslo(2027, 10, 31, 2, 30).replace(fold=fold)) for fold in (0, 1))
    nine = clock.minute(oslo(2027, 10, 31, 9, 0))
    assert (time.day_of(first), time.day_of(second), time.day_of(nine)) == (1, 1, 1)
    assert (time.minute_of_day(first), time.minute_of_day(second)) == (150, 150)
    assert time.minute_of_day(nine) == 540
    assert time.part_of_day(nine) == PartOfDay.MORNING
    assert time.day_start(2) == clock.minute(oslo(2027, 11, 1))
    assert time.weekday_of(nine) == 6  # Sunday


def test_a_working_day_across_a_change_keeps_its_hours_on_the_clock():
    clock = clock_from(SPRING)
    day = Interval(oslo(2027, 3, 28, 0, 0), oslo(2027, 3, 28, 6, 0))
    span = clock.span(day)
    assert span is not None
    assert span[1] - span[0] == 5 * 60  # midnight to six: five hours on the spring night


@pytest.mark.parametrize(
    ("grids", "expected"), [([15], 15), ([5, 15], 15), ([10], 20), ([20, 10], 20), ([60], 60)]
)
def test_optimisation_grid_is_on_every_types_grid(grids, expected):
    types = [AppointmentTypeFactory.build(grid_minutes=g) for g in grids]
    assert optimisation_grid(types) == expected
