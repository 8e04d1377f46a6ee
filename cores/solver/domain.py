"""Input data of the solver: plain frozen dataclasses, validated on construction.

Time is integer minutes since an epoch chosen by the caller (local midnight of day 0).
Intervals are half-open ``(start, end)`` minute pairs. The solver never sees datetimes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from cores.intervals import Span, merge_spans

__all__ = [
    "Absence",
    "Appointment",
    "AppointmentType",
    "BookingTask",
    "Instance",
    "Minutes",
    "ObjectiveWeights",
    "PartOfDay",
    "Preferences",
    "ReplanWeights",
    "Requirement",
    "Resource",
    "SolveParams",
    "TimeModel",
]


class PartOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


# A half-open span of whole minutes since the epoch, ``(start, end)``.
Minutes = Span[int]


def normalise(intervals: Iterable[Minutes], owner: str = "interval") -> tuple[Minutes, ...]:
    """Sort and merge; drop empty intervals; raise ValueError when an end precedes its start."""
    cleaned: list[Minutes] = []
    for start, end in intervals:
        if end < start:
            raise ValueError(f"{owner}: interval end {end} is before its start {start}")
        if end > start:
            cleaned.append((int(start), int(end)))
    return tuple(merge_spans(cleaned))


def _set_normalised(obj: object, name: str, intervals: Iterable[Minutes], owner: str) -> None:
    """Store sorted, merged intervals on a frozen dataclass (raises on end < start)."""
    object.__setattr__(obj, name, normalise(intervals, f"{owner}.{name}"))


def _check_weekdays(weekdays: frozenset[int], owner: str) -> None:
    _require(all(0 <= day <= 6 for day in weekdays), f"{owner}: weekdays must be 0..6 (Monday=0)")


@dataclass(frozen=True, slots=True)
class TimeModel:
    """How the solver's minutes map to the clinic's days and clock.

    A minute is elapsed time since the epoch (local midnight of day 0), so that every real
    instant has exactly one place on the axis, also on the nights the clocks change. ``shifts``
    says when the wall clock jumps: ``(minute, +60)`` where it springs forward an hour,
    ``(minute, -60)`` where it falls back. The wall-clock minute of ``m`` is ``m`` plus the
    jumps at or before it; days, weekdays, parts of the day and the grid are read from it.
    Without shifts the two are the same: day ``d`` is ``[d * minutes_per_day, ...)``.
    """

    minutes_per_day: int = 1440
    grid_minutes: int = 15
    epoch_weekday: int = 0
    midday_minute: int = 720
    shifts: tuple[tuple[int, int], ...] = ()
    _ats: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)
    _totals: tuple[int, ...] = field(default=(0,), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require(self.minutes_per_day > 0, "TimeModel.minutes_per_day must be positive")
        _require(self.grid_minutes > 0, "TimeModel.grid_minutes must be positive")
        _require(0 <= self.epoch_weekday <= 6, "TimeModel.epoch_weekday must be 0..6")
        _require(
            0 <= self.midday_minute < self.minutes_per_day,
            "TimeModel.midday_minute must lie within a day",
        )
        ats = tuple(at for at, _ in self.shifts)
        _require(list(ats) == sorted(set(ats)), "TimeModel.shifts must be in order of time")
        totals = [0]
        for _, jump in self.shifts:
            totals.append(totals[-1] + jump)
        object.__setattr__(self, "_ats", ats)
        object.__setattr__(self, "_totals", tuple(totals))

    def wall(self, minute: int) -> int:
        """The wall-clock minute (counted from the epoch's midnight) at this elapsed minute."""
        if not self._ats:
            return minute
        return minute + self._totals[bisect_right(self._ats, minute)]

    def elapsed(self, wall_minute: int) -> int:
        """The first elapsed minute whose wall clock reads ``wall_minute``; for a time the
        clocks skip, the moment they jump past it."""
        segment_starts = (None, *self._ats)
        for k, total in enumerate(self._totals):
            minute = wall_minute - total
            begins = segment_starts[k]
            ends = self._ats[k] if k < len(self._ats) else None
            if (begins is None or minute >= begins) and (ends is None or minute < ends):
                return minute
            if begins is not None and minute < begins:
                return begins  # a time skipped when the clock sprang forward
        raise AssertionError("unreachable: the last segment is unbounded")

    def day_of(self, minute: int) -> int:
        return self.wall(minute) // self.minutes_per_day

    def day_start(self, day: int) -> int:
        return self.elapsed(day * self.minutes_per_day)

    def midday_of(self, day: int) -> int:
        return self.elapsed(day * self.minutes_per_day + self.midday_minute)

    def minute_of_day(self, minute: int) -> int:
        return self.wall(minute) % self.minutes_per_day

    def weekday_of(self, minute: int) -> int:
        return (self.epoch_weekday + self.day_of(minute)) % 7

    def part_of_day(self, minute: int) -> PartOfDay:
        if self.minute_of_day(minute) < self.midday_minute:
            return PartOfDay.MORNING
        return PartOfDay.AFTERNOON

    def grid_starts(self, first: int, last: int, grid: int) -> Iterator[int]:
        """The minutes from ``first`` to ``last`` (both included) whose time of day is on the
        grid (a multiple of ``grid`` minutes after local midnight), in order. On the night the
        clocks go back, the repeated hour's grid times come twice, as they happen."""
        if first > last:
            return iter(())
        if not self._ats and self.minutes_per_day % grid == 0:
            return iter(range(-(-first // grid) * grid, last + 1, grid))
        return (
            start
            for low, high, total in self._pieces(first, last)
            for start in self._grid_starts_in(low, high, total, grid)
        )

    def _pieces(self, first: int, last: int) -> Iterator[tuple[int, int, int]]:
        """``[first, last]`` cut where the clock jumps: (low, high, jumps so far) each."""
        low = first
        index = bisect_right(self._ats, first)
        while index < len(self._ats) and self._ats[index] <= last:
            yield low, self._ats[index] - 1, self._totals[index]
            low = self._ats[index]
            index += 1
        yield low, last, self._totals[index]

    def _grid_starts_in(self, low: int, high: int, total: int, grid: int) -> Iterator[int]:
        """Grid starts between two jumps: wall = minute + total, day by day."""
        per_day = self.minutes_per_day
        wall, wall_high = low + total, high + total
        while wall <= wall_high:
            day_base = (wall // per_day) * per_day
            step_from = day_base + -(-(wall - day_base) // grid) * grid
            day_end = min(wall_high, day_base + per_day - 1)
            yield from (w - total for w in range(step_from, day_end + 1, grid))
            wall = day_base + per_day


@dataclass(frozen=True, slots=True)
class Requirement:
    """``count`` distinct resources of ``kind`` (carrying ``tag`` when given)."""

    kind: str
    tag: str | None = None
    count: int = 1

    def __post_init__(self) -> None:
        _require(bool(self.kind), "Requirement.kind must not be empty")
        _require(self.count >= 1, f"Requirement {self.label}: count must be at least 1")

    @property
    def label(self) -> str:
        tag = f"[{self.tag}]" if self.tag is not None else ""
        return f"{self.kind}{tag}x{self.count}"

    def matches(self, kind: str, tags: frozenset[str]) -> bool:
        return kind == self.kind and (self.tag is None or self.tag in tags)


@dataclass(frozen=True, slots=True)
class Resource:
    """A clinician, room, nurse, device ...

    ``free`` is working hours minus absences minus bookings the solver is not told about.
    Appointments passed in ``Instance.appointments`` are subtracted by the solver itself, so it
    does no harm if they were already removed from ``free``.
    """

    id: str
    kind: str
    tags: frozenset[str] = frozenset()
    free: tuple[Minutes, ...] = ()

    def __post_init__(self) -> None:
        _require(bool(self.id), "Resource.id must not be empty")
        _require(bool(self.kind), f"Resource {self.id}: kind must not be empty")
        object.__setattr__(self, "tags", frozenset(self.tags))
        _set_normalised(self, "free", self.free, f"Resource {self.id}")


@dataclass(frozen=True, slots=True)
class AppointmentType:
    """Resources are occupied from ``start - buffer_before`` to ``start + duration + buffer_after``;
    the patient only for ``duration``. ``grid_minutes`` is the grid of times offered to patients.
    """

    id: str
    duration: int
    requirements: tuple[Requirement, ...]
    buffer_before: int = 0
    buffer_after: int = 0
    grid_minutes: int = 15
    offers_count: int = 6

    def __post_init__(self) -> None:
        owner = f"AppointmentType {self.id}"
        _require(bool(self.id), "AppointmentType.id must not be empty")
        _require(self.duration > 0, f"{owner}: duration must be positive, got {self.duration}")
        _require(self.buffer_before >= 0, f"{owner}: buffer_before must not be negative")
        _require(self.buffer_after >= 0, f"{owner}: buffer_after must not be negative")
        _require(self.grid_minutes > 0, f"{owner}: grid_minutes must be positive")
        _require(self.offers_count > 0, f"{owner}: offers_count must be positive")
        _require(len(self.requirements) > 0, f"{owner}: needs at least one requirement")
        object.__setattr__(self, "requirements", tuple(self.requirements))

    def resource_span(self, start: int) -> Minutes:
        return (start - self.buffer_before, start + self.duration + self.buffer_after)

    def patient_span(self, start: int) -> Minutes:
        return (start, start + self.duration)


@dataclass(frozen=True, slots=True)
class Preferences:
    """Soft wishes of the patient; an empty field means "no preference"."""

    weekdays: frozenset[int] = frozenset()
    part_of_day: PartOfDay | None = None
    resource_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "resource_ids", frozenset(self.resource_ids))
        _check_weekdays(self.weekdays, "Preferences")


@dataclass(frozen=True, slots=True)
class BookingTask:
    """A timeoppgave: the patient (or the solver) must pick a start in
    ``[earliest_start, latest_start]``; starting after ``deadline`` breaches the frist.

    ``available`` are the times the patient said suit them (soft: empty = no statement);
    ``unavailable`` are hard (the appointment must not overlap them).
    """

    id: str
    patient_id: str
    type_id: str
    earliest_start: int
    latest_start: int
    deadline: int
    priority: int = 0
    available: tuple[Minutes, ...] = ()
    unavailable: tuple[Minutes, ...] = ()
    preferences: Preferences = field(default_factory=Preferences)

    def __post_init__(self) -> None:
        owner = f"BookingTask {self.id}"
        _require(bool(self.id), "BookingTask.id must not be empty")
        _require(
            self.latest_start >= self.earliest_start,
            f"{owner}: latest_start {self.latest_start} is before earliest_start "
            f"{self.earliest_start}",
        )
        _require(self.priority >= 0, f"{owner}: priority must not be negative")
        _set_normalised(self, "available", self.available, owner)
        _set_normalised(self, "unavailable", self.unavailable, owner)


@dataclass(frozen=True, slots=True)
class Appointment:
    """An existing booking. ``fixed`` ones must keep their start (re-planning may only swap
    their resources). ``deadline``, ``priority`` and the patient's times matter when the
    appointment has to be re-planned.
    """

    id: str
    patient_id: str
    type_id: str
    start: int
    resource_ids: tuple[str, ...]
    fixed: bool = False
    deadline: int | None = None
    priority: int = 0
    available: tuple[Minutes, ...] = ()
    unavailable: tuple[Minutes, ...] = ()
    preferences: Preferences = field(default_factory=Preferences)

    def __post_init__(self) -> None:
        owner = f"Appointment {self.id}"
        _require(bool(self.id), "Appointment.id must not be empty")
        _require(self.priority >= 0, f"{owner}: priority must not be negative")
        object.__setattr__(self, "resource_ids", tuple(self.resource_ids))
        _require(
            len(set(self.resource_ids)) == len(self.resource_ids),
            f"{owner}: resource_ids must be distinct",
        )
        _set_normalised(self, "available", self.available, owner)
        _set_normalised(self, "unavailable", self.unavailable, owner)


@dataclass(frozen=True, slots=True)
class Absence:
    """A resource becomes unavailable (sick day, course ...) over ``[start, end)``."""

    resource_id: str
    start: int
    end: int

    def __post_init__(self) -> None:
        _require(
            self.end > self.start,
            f"Absence of {self.resource_id}: end {self.end} must be after start {self.start}",
        )


@dataclass(frozen=True, slots=True)
class ObjectiveWeights:
    """Weights of batch planning and offer ranking (all maximised).

    ``placed`` and ``deadline_met`` are multiplied by ``1 + priority`` and dwarf the rest, which
    makes the objective lexicographic in practice: every task placed (never drop one patient to
    meet another's deadline), deadlines by priority, then the patient's availability
    (``availability_fit`` per fit point, 0-4 points), earliness (0-10 points), compactness of
    the days of resources whose kind is in ``compact_kinds`` (per touched free-block edge),
    continuity (a preferred resource) and, for offers, balance between clinicians (0-10).
    """

    placed: int = 10_000
    deadline_met: int = 1000
    availability_fit: int = 10
    continuity: int = 10
    compactness: int = 3
    earliness: int = 2
    balance: int = 1
    compact_kinds: frozenset[str] = frozenset({"clinician"})

    def __post_init__(self) -> None:
        for name in ("placed", "deadline_met", "availability_fit", "continuity"):
            _require(getattr(self, name) >= 0, f"ObjectiveWeights.{name} must not be negative")
        for name in ("compactness", "earliness", "balance"):
            _require(getattr(self, name) >= 0, f"ObjectiveWeights.{name} must not be negative")
        object.__setattr__(self, "compact_kinds", frozenset(self.compact_kinds))


@dataclass(frozen=True, slots=True)
class ReplanWeights:
    """Costs of re-planning (minimised). A move is always preferred to leaving a patient
    without an appointment; moving to another day costs far more than changing the time of
    day or the clinician.
    """

    unplaced: int = 100_000
    deadline_breach: int = 10_000
    moved_to_other_day: int = 1_000
    per_day_moved: int = 100
    per_quarter_hour_moved: int = 1
    resource_changed: int = 5
    availability_miss: int = 200

    def __post_init__(self) -> None:
        for name in (
            "unplaced",
            "deadline_breach",
            "moved_to_other_day",
            "per_day_moved",
            "per_quarter_hour_moved",
            "resource_changed",
            "availability_miss",
        ):
            _require(getattr(self, name) >= 0, f"ReplanWeights.{name} must not be negative")


@dataclass(frozen=True, slots=True)
class SolveParams:
    """Every CP-SAT solve takes these so results are reproducible.

    ``time_limit_s`` is the budget of the whole call, model building included (``budget.py``).
    Without ``deterministic`` it is wall-clock time: the call ends within about the limit
    (the greedy plan is returned when building the model takes the time up), CP-SAT runs
    ``num_workers`` workers, and when several plans are equally good, or the limit cuts the
    search, reruns may differ. With ``deterministic`` the clock decides nothing: building is
    charged by the size of the model and CP-SAT runs one worker on its deterministic time, so
    the same input and seed give the same plan on any machine under any load; there is no
    wall-clock stop, and the call takes as long as that work takes (on these models CP-SAT's
    deterministic second took 1-6 s of one core, more on a busy machine).

    CP-SAT's ``presolve`` is off by default: the models are already tight (maximal cliques);
    presolve costs seconds to tens of seconds on them and turns the capacity rows into
    at-most-one constraints that leave the LP relaxation.

    The candidate limits bound the batch model: per task at most ``max_candidates_per_item``
    placements, drawn from ``starts_per_day`` starts per day with ``allocations_per_start``
    resource choices each.
    """

    time_limit_s: float = 10.0
    num_workers: int = 2
    random_seed: int = 0
    deterministic: bool = False
    relative_gap_limit: float = 0.0
    presolve: bool = False
    max_candidates_per_item: int = 30
    starts_per_day: int = 2
    allocations_per_start: int = 2
    log_search: bool = False

    def __post_init__(self) -> None:
        _require(self.time_limit_s > 0, "SolveParams.time_limit_s must be positive")
        _require(self.num_workers >= 1, "SolveParams.num_workers must be at least 1")
        _require(self.relative_gap_limit >= 0, "SolveParams.relative_gap_limit must be >= 0")
        _require(self.max_candidates_per_item >= 1, "SolveParams.max_candidates_per_item >= 1")
        _require(self.starts_per_day >= 1, "SolveParams.starts_per_day must be at least 1")
        _require(self.allocations_per_start >= 1, "SolveParams.allocations_per_start >= 1")


def _unique_ids(kind: str, ids: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    for item_id in ids:
        _require(item_id not in seen, f"duplicate {kind} id {item_id!r}")
        seen.add(item_id)
    return seen


@dataclass(frozen=True, slots=True)
class Instance:
    """Everything the solver knows about one clinic. Cross references are validated."""

    resources: tuple[Resource, ...]
    appointment_types: tuple[AppointmentType, ...]
    tasks: tuple[BookingTask, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    time: TimeModel = field(default_factory=TimeModel)

    def __post_init__(self) -> None:
        for name in ("resources", "appointment_types", "tasks", "appointments"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        resource_ids = _unique_ids("resource", (r.id for r in self.resources))
        type_ids = _unique_ids("appointment type", (t.id for t in self.appointment_types))
        _unique_ids("task", (t.id for t in self.tasks))
        _unique_ids("appointment", (a.id for a in self.appointments))
        for task in self.tasks:
            _require(
                task.type_id in type_ids,
                f"BookingTask {task.id}: unknown appointment type {task.type_id!r}",
            )
            self._check_preferred(task.id, task.preferences, resource_ids)
        for appointment in self.appointments:
            _require(
                appointment.type_id in type_ids,
                f"Appointment {appointment.id}: unknown appointment type {appointment.type_id!r}",
            )
            unknown = [r for r in appointment.resource_ids if r not in resource_ids]
            _require(not unknown, f"Appointment {appointment.id}: unknown resources {unknown}")
        self._check_no_double_booking()

    def _check_no_double_booking(self) -> None:
        """Existing appointments never share a resource at one time (buffers included), as the
        database guarantees: a plan built on a double booking would be wrong from the start."""
        types = self.type_by_id()
        held: dict[str, list[tuple[int, int, str]]] = {}
        for appointment in self.appointments:
            start, end = types[appointment.type_id].resource_span(appointment.start)
            for resource_id in appointment.resource_ids:
                held.setdefault(resource_id, []).append((start, end, appointment.id))
        for resource_id in sorted(held):
            spans = sorted(held[resource_id])
            latest = spans[0]
            for span in spans[1:]:
                _require(
                    span[0] >= latest[1],
                    f"Appointments {latest[2]} and {span[2]} both hold resource {resource_id} "
                    f"over [{span[0]}, {min(span[1], latest[1])})",
                )
                latest = max(latest, span, key=lambda held_span: held_span[1])

    @staticmethod
    def _check_preferred(owner: str, preferences: Preferences, resource_ids: set[str]) -> None:
        unknown = sorted(preferences.resource_ids - resource_ids)
        _require(not unknown, f"BookingTask {owner}: unknown preferred resources {unknown}")

    def type_by_id(self) -> dict[str, AppointmentType]:
        return {t.id: t for t in self.appointment_types}

    def task(self, task_id: str) -> BookingTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise ValueError(f"unknown task id {task_id!r}")
