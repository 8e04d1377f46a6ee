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
