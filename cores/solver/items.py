"""One thing to place (a booking task or an appointment being re-planned), in solver terms.

All times here are *start values*: ``allowed`` holds half-open ranges of start minutes at
which the appointment fits the window and the patient is not unavailable.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cores.intervals import intersect_spans, merge_spans, subtract_spans
from cores.solver.context import PlanningContext
from cores.solver.domain import Appointment, AppointmentType, BookingTask, Minutes, Preferences


@dataclass(frozen=True, slots=True)
class ItemSpec:
    id: str
    patient_id: str
    type: AppointmentType
    window: Minutes
    allowed: tuple[Minutes, ...]
    fit_starts: tuple[Minutes, ...] | None
    deadline: int | None
    priority: int
    preferences: Preferences
    original_start: int | None = None
    original_resource_ids: tuple[str, ...] = ()
    fixed: bool = False

    @property
    def weight(self) -> int:
        return 1 + self.priority

    def is_allowed(self, start: int) -> bool:
        return _in_ranges(self.allowed, start)

    def fits_availability(self, start: int) -> bool:
        return self.fit_starts is None or _in_ranges(self.fit_starts, start)

    def meets_deadline(self, start: int) -> bool:
        return self.deadline is None or start <= self.deadline

    def allowed_starts(self, sorted_starts: Sequence[int]) -> list[int]:
        """The members of ``sorted_starts`` that are allowed, in order."""
        result: list[int] = []
        for low, high in self.allowed:
            result.extend(
                sorted_starts[bisect_left(sorted_starts, low) : bisect_left(sorted_starts, high)]
            )
        return result


def _in_ranges(ranges: Sequence[Minutes], value: int) -> bool:
    index = bisect_right(ranges, value, key=_range_start) - 1
    return index >= 0 and ranges[index][0] <= value < ranges[index][1]


def _range_start(interval: Minutes) -> int:
    return interval[0]


def _blocked_starts(blocked: Iterable[Minutes], duration: int) -> list[Minutes]:
    """Start values at which ``[start, start + duration)`` would overlap a blocked interval."""
    return [(low - duration + 1, high) for low, high in blocked]


def _fit_starts(available: Sequence[Minutes], duration: int) -> tuple[Minutes, ...] | None:
    if not available:
        return None
    return tuple(
        merge_spans((low, high - duration + 1) for low, high in available if high - low >= duration)
    )


def allowed_starts(
    window: Minutes, blocked: Iterable[Minutes], duration: int
) -> tuple[Minutes, ...]:
    """``window`` is inclusive ``[first, last]``; the result is half-open ranges."""
    first, last = window
    if last < first:
        return ()
    return tuple(subtract_spans([(first, last + 1)], _blocked_starts(blocked, duration)))


def task_item(context: PlanningContext, task: BookingTask, not_before: int | None) -> ItemSpec:
    appointment_type = context.types[task.type_id]
    first = task.earliest_start if not_before is None else max(task.earliest_start, not_before)
    window = (first, task.latest_start)
    blocked = [*task.unavailable, *context.patient_busy(task.patient_id)]
    return ItemSpec(
        id=task.id,
        patient_id=task.patient_id,
        type=appointment_type,
        window=window,
        allowed=allowed_starts(window, blocked, appointment_type.duration),
        fit_starts=_fit_starts(task.available, appointment_type.duration),
        deadline=task.deadline,
        priority=task.priority,
        preferences=task.preferences,
    )


def appointment_item(
    context: PlanningContext, appointment: Appointment, window: Minutes
) -> ItemSpec:
    """An appointment to re-plan; a fixed one may only keep its start."""
    appointment_type = context.types[appointment.type_id]
    if appointment.fixed:
        window = (appointment.start, appointment.start)
    blocked = [*appointment.unavailable, *context.patient_busy(appointment.patient_id)]
    return ItemSpec(
        id=appointment.id,
        patient_id=appointment.patient_id,
        type=appointment_type,
        window=window,
        allowed=allowed_starts(window, blocked, appointment_type.duration),
        fit_starts=_fit_starts(appointment.available, appointment_type.duration),
        deadline=appointment.deadline,
        priority=appointment.priority,
        preferences=appointment.preferences,
        original_start=appointment.start,
        original_resource_ids=appointment.resource_ids,
        fixed=appointment.fixed,
    )


def restrict_to(item: ItemSpec, ranges: Sequence[Minutes]) -> tuple[Minutes, ...]:
    return tuple(intersect_spans(item.allowed, merge_spans(ranges)))
