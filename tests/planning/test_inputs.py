"""The solver's minutes are local wall-clock minutes: 09:00 is 09:00 on both sides of DST."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from cores.intervals import Interval
from planning.inputs import Clock, optimisation_grid
from tests.conftest import oslo
from tests.factories import AppointmentTypeFactory

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("epoch", "moment", "minute"),
    [
        (date(2027, 3, 27), oslo(2027, 3, 29, 9, 0), 2 * 1440 + 540),  # after spring forward
        (date(2026, 10, 24), oslo(2026, 10, 26, 9, 0), 2 * 1440 + 540),  # after fall back
        (date(2027, 1, 4), oslo(2027, 1, 4, 7, 0), 420),
        (date(2027, 1, 4), oslo(2027, 1, 3, 23, 45), -15),
    ],
)
def test_clock_counts_local_wall_clock_minutes(epoch, moment, minute):
    clock = Clock(OSLO, epoch)
    assert clock.minute(moment) == minute
    assert clock.moment(minute) == moment


def test_working_day_across_spring_forward_is_eight_hours_on_the_clock():
    clock = Clock(OSLO, date(2027, 3, 27))
    day = Interval(oslo(2027, 3, 28, 8, 0), oslo(2027, 3, 28, 16, 0))
    assert clock.span(day) == (1440 + 480, 1440 + 960)


def test_the_repeated_hour_of_fall_back_is_empty_on_the_clock():
    clock = Clock(OSLO, date(2026, 10, 25))
    first = oslo(2026, 10, 25, 2, 30)
    second = first.replace(fold=1)
    assert clock.span(Interval(first, second)) is None


@pytest.mark.parametrize(
    ("grids", "expected"), [([15], 15), ([5, 15], 15), ([10], 20), ([20, 10], 20), ([60], 60)]
)
def test_optimisation_grid_is_on_every_types_grid(grids, expected):
    types = [AppointmentTypeFactory.build(grid_minutes=g) for g in grids]
    assert optimisation_grid(types) == expected
