"""Small helpers to write solver instances by hand (minutes since Monday 00:00 of week 0)."""

from __future__ import annotations

from cores.solver import (
    AppointmentType,
    BookingTask,
    Preferences,
    Requirement,
    Resource,
    SolveParams,
)

DAY = 1440

GASTRO = Requirement("clinician", "gastro")
CONSULT = AppointmentType("consult", 60, (GASTRO,))
FAST = SolveParams(time_limit_s=5, num_workers=2, random_seed=7)


def at(day: int, hour: int, minute: int = 0) -> int:
    return day * DAY + hour * 60 + minute


def block(day: int, start_hour: float, end_hour: float) -> tuple[int, int]:
    return (day * DAY + round(start_hour * 60), day * DAY + round(end_hour * 60))


def clinician(
    resource_id: str, *blocks: tuple[int, int], tags: tuple[str, ...] = ("gastro",)
) -> Resource:
    return Resource(resource_id, "clinician", frozenset(tags), tuple(blocks))


def room(resource_id: str, *blocks: tuple[int, int], tag: str = "consult") -> Resource:
    return Resource(resource_id, "room", frozenset({tag}), tuple(blocks))


def task(
    task_id: str,
    *,
    earliest: int = 0,
    latest: int = at(4, 23),
    deadline: int = at(4, 23),
    priority: int = 0,
    patient: str | None = None,
    type_id: str = "consult",
    available: tuple[tuple[int, int], ...] = (),
    unavailable: tuple[tuple[int, int], ...] = (),
    preferences: Preferences | None = None,
) -> BookingTask:
    return BookingTask(
        id=task_id,
        patient_id=patient or f"patient-of-{task_id}",
        type_id=type_id,
        earliest_start=earliest,
        latest_start=latest,
        deadline=deadline,
        priority=priority,
        available=available,
        unavailable=unavailable,
        preferences=preferences or Preferences(),
    )
