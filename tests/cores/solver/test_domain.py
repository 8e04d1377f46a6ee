"""Input validation and the time model."""

import pytest

from cores.solver import (
    Absence,
    Appointment,
    AppointmentType,
    Instance,
    PartOfDay,
    Requirement,
    Resource,
    TimeModel,
)
from tests.cores.solver.builders import CONSULT, GASTRO, at, block, clinician, task


def test_negative_duration_is_rejected():
    with pytest.raises(ValueError, match="duration must be positive"):
        AppointmentType("broken", -15, (GASTRO,))


def test_negative_buffer_is_rejected():
    with pytest.raises(ValueError, match="buffer_after must not be negative"):
        AppointmentType("broken", 30, (GASTRO,), buffer_after=-5)


def test_interval_ending_before_it_starts_is_rejected():
    with pytest.raises(ValueError, match="end 480 is before its start 600"):
        Resource("dr-a", "clinician", frozenset(), ((600, 480),))


def test_task_window_ending_before_it_starts_is_rejected():
    with pytest.raises(ValueError, match="latest_start 10 is before earliest_start 20"):
        task("t1", earliest=20, latest=10)


def test_absence_ending_before_it_starts_is_rejected():
    with pytest.raises(ValueError, match="must be after start"):
        Absence("dr-a", 100, 50)


def test_unknown_type_id_is_rejected_when_the_instance_is_built():
    with pytest.raises(ValueError, match="unknown appointment type 'x-ray'"):
        Instance((clinician("dr-a"),), (CONSULT,), (task("t1", type_id="x-ray"),))


def test_unknown_resource_of_an_appointment_is_rejected():
    appointment = Appointment("a1", "p1", "consult", at(0, 9), ("dr-ghost",))
    with pytest.raises(ValueError, match="unknown resources"):
        Instance((clinician("dr-a"),), (CONSULT,), (), (appointment,))


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate resource id 'dr-a'"):
        Instance((clinician("dr-a"), clinician("dr-a")), (CONSULT,))


def test_requirement_count_must_be_positive():
    with pytest.raises(ValueError, match="count must be at least 1"):
        Requirement("clinician", count=0)


def test_free_intervals_are_sorted_and_merged():
    resource = clinician("dr-a", block(1, 9, 10), block(0, 13, 14), block(0, 12, 13))
    assert resource.free == (block(0, 12, 14), block(1, 9, 10))


def test_time_model_maps_minutes_to_days_weekdays_and_parts_of_day():
    time = TimeModel(epoch_weekday=2)
    assert time.day_of(at(3, 10)) == 3
    assert time.minute_of_day(at(3, 10, 15)) == 615
    assert time.weekday_of(at(3, 10)) == 5
    assert time.part_of_day(at(0, 11, 59)) == PartOfDay.MORNING
    assert time.part_of_day(at(0, 12)) == PartOfDay.AFTERNOON


# The nights the clocks change, on an axis of elapsed minutes from midnight of day 0 (a
# Saturday): on the Sunday, spring forward at 02:00 (elapsed 1440 + 120), or fall back at
# 03:00 summer time (elapsed 1440 + 180).
SPRING = TimeModel(epoch_weekday=5, shifts=((1440 + 120, 60),))
AUTUMN = TimeModel(epoch_weekday=5, shifts=((1440 + 180, -60),))


def test_the_wall_clock_skips_an_hour_in_spring_and_repeats_one_in_autumn():
    assert [SPRING.minute_of_day(1440 + m) for m in (119, 120, 180)] == [119, 180, 240]
    assert [AUTUMN.minute_of_day(1440 + m) for m in (179, 180, 240)] == [179, 120, 180]
    # Sunday is 23 hours long in spring, 25 in autumn; Monday begins at its midnight.
    assert SPRING.day_start(2) - SPRING.day_start(1) == 23 * 60
    assert AUTUMN.day_start(2) - AUTUMN.day_start(1) == 25 * 60
    assert SPRING.day_of(SPRING.day_start(2) - 1) == 1
    assert AUTUMN.weekday_of(AUTUMN.day_start(2)) == 0  # Monday
    assert AUTUMN.part_of_day(AUTUMN.midday_of(1) - 1) == PartOfDay.MORNING
    assert AUTUMN.midday_of(1) == 1440 + 780  # noon comes 13 elapsed hours after midnight


def test_a_time_the_clocks_skip_is_the_moment_they_jump_past_it():
    assert SPRING.elapsed(1440 + 150) == 1440 + 120  # 02:30 does not exist: 03:00 does
    assert SPRING.elapsed(1440 + 200) == 1440 + 140
    assert AUTUMN.elapsed(1440 + 150) == 1440 + 150  # the first of the two 02:30s


def test_grid_starts_follow_the_wall_clock_through_both_nights():
    night = (1440, 1440 + 6 * 60)  # Sunday, elapsed midnight to six hours later
    spring = [SPRING.minute_of_day(m) for m in SPRING.grid_starts(*night, 30)]
    autumn = [AUTUMN.minute_of_day(m) for m in AUTUMN.grid_starts(*night, 30)]
    assert spring == [0, 30, 60, 90, 180, 210, 240, 270, 300, 330, 360, 390, 420]
    assert autumn == [0, 30, 60, 90, 120, 150, 120, 150, 180, 210, 240, 270, 300]
    # A grid that does not divide the hour stays on the wall clock's grid after the jump.
    ninety = [SPRING.minute_of_day(m) for m in SPRING.grid_starts(1440, 1440 + 600, 90)]
    assert ninety == [0, 90, 180, 270, 360, 450, 540, 630]  # not 240 (elapsed 180)


def test_existing_appointments_that_double_book_a_resource_are_refused():
    doctor = clinician("dr-a", block(0, 8, 16))
    first = Appointment("a-1", "p1", "consult", at(0, 9), ("dr-a",), fixed=True)
    overlapping = Appointment("a-2", "p2", "consult", at(0, 9, 30), ("dr-a",))
    with pytest.raises(ValueError, match=r"a-1 and a-2 both hold resource dr-a"):
        Instance((doctor,), (CONSULT,), (), (first, overlapping))


def test_back_to_back_appointments_on_one_resource_are_accepted():
    doctor = clinician("dr-a", block(0, 8, 16))
    first = Appointment("a-1", "p1", "consult", at(0, 9), ("dr-a",))
    after = Appointment("a-2", "p2", "consult", at(0, 10), ("dr-a",))
    assert len(Instance((doctor,), (CONSULT,), (), (first, after)).appointments) == 2
