"""Offers, batch plans and re-plans on the nights the clocks change: the solver's minutes are
elapsed time, so each of the two 02:30s of the autumn night has a place of its own, and the
hour that spring skips has none.

Minute 0 is midnight of Saturday; the clocks change in the night to Sunday (day 1). A clinic
works through that night, 00:00-06:00 on the wall clock, with a 30-minute type on a 30-minute
grid.
"""

import pytest

from cores.solver import (
    Absence,
    Appointment,
    AppointmentType,
    BookingTask,
    Instance,
    Requirement,
    Resource,
    TimeModel,
    offers,
    plan_batch,
    replan,
)
from tests.cores.solver.builders import FAST

NIGHT = AppointmentType("night", 30, (Requirement("clinician"),), grid_minutes=30)
SUNDAY = 1440
AUTUMN = TimeModel(grid_minutes=30, epoch_weekday=5, shifts=((SUNDAY + 180, -60),))
SPRING = TimeModel(grid_minutes=30, epoch_weekday=5, shifts=((SUNDAY + 120, 60),))
NIGHT_LENGTH = {"autumn": 7 * 60, "spring": 5 * 60}  # 00:00-06:00 on the wall clock
TIME = {"autumn": AUTUMN, "spring": SPRING}


def _night(time: TimeModel, free: set[int], tasks=(), appointments=()) -> Instance:
    """One clinician through the night, busy at every grid start except those in `free`
    (elapsed minutes): the busy ones are booked appointments."""
    length = SUNDAY + (NIGHT_LENGTH["autumn"] if time is AUTUMN else NIGHT_LENGTH["spring"])
    starts = list(time.grid_starts(SUNDAY, length - 30, 30))
    booked = tuple(
        Appointment(f"booked-{s}", f"someone-{s}", "night", s, ("dr",), fixed=True)
        for s in starts
        if s not in free
    )
    return Instance(
        resources=(Resource("dr", "clinician", frozenset(), ((SUNDAY, length),)),),
        appointment_types=(NIGHT,),
        tasks=tuple(tasks),
        appointments=booked + tuple(appointments),
        time=time,
    )


def _task(task_id: str = "t") -> BookingTask:
    return BookingTask(task_id, f"p-{task_id}", "night", SUNDAY, SUNDAY + 8 * 60, SUNDAY + 8 * 60)


# The grid starts of the autumn night, elapsed: 00:00 .. 02:30 summer time, then 02:00 and
# 02:30 once more in winter time, then 03:00 .. 05:30.
SECOND_TWO, SECOND_HALF_PAST_TWO = SUNDAY + 180, SUNDAY + 210
FIRST_TWO, FIRST_HALF_PAST_TWO = SUNDAY + 120, SUNDAY + 150


@pytest.mark.parametrize(
    "free",
    [{SECOND_TWO, SECOND_HALF_PAST_TWO}, {FIRST_TWO, FIRST_HALF_PAST_TWO}],
    ids=["the winter-time 02:00 and 02:30", "the summer-time 02:00 and 02:30"],
)
def test_autumn_offers_batch_and_replan_see_exactly_the_free_occurrences(free):
    instance = _night(AUTUMN, free, tasks=[_task()])

    offered = offers(instance, "t", k=10, max_per_day=10, min_gap_minutes=0)
    planned = plan_batch(instance, params=FAST)

    assert {o.start for o in offered.offers} == free
    assert {a.start for a in planned.assignments} <= free
    assert len(planned.assignments) == 1


def test_autumn_replan_moves_into_the_repeated_hour():
    free = {SECOND_TWO, SECOND_HALF_PAST_TWO}
    hit = Appointment("hit", "p-hit", "night", SUNDAY + 60, ("dr",))
    instance = _night(AUTUMN, free | {SUNDAY + 60}, appointments=[hit])
    absence = Absence("dr", SUNDAY + 60, SUNDAY + 90)

    result = replan(instance, [absence], params=FAST)

    assert [m.new_start for m in result.moves] in ([SECOND_TWO], [SECOND_HALF_PAST_TWO])


def test_spring_offers_the_night_without_the_hour_it_skips():
    instance = _night(SPRING, set(range(SUNDAY, SUNDAY + 6 * 60)), tasks=[_task()])

    offered = offers(instance, "t", k=50, max_per_day=50, min_gap_minutes=0)

    wall = sorted(SPRING.minute_of_day(o.start) for o in offered.offers)
    assert wall == [0, 30, 60, 90, 180, 210, 240, 270, 300, 330]  # 02:00-02:59 do not exist
    # 01:30 + 30 minutes ends at 03:00 on the wall clock.
    last_winter = next(o for o in offered.offers if SPRING.minute_of_day(o.start) == 90)
    assert SPRING.minute_of_day(last_winter.end) == 180
