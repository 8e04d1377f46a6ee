"""Build the pure solver's input from the database, and turn its minutes back into datetimes.

The solver counts elapsed minutes from local midnight of day 0 (see `Clock`), so every real
instant has exactly one place on its axis, on the nights the clocks change too: the two
02:30s of the autumn night are an hour apart. The solver's TimeModel is told when the clock
jumps, and reads days, weekdays, morning and afternoon and the grid from the wall clock. That
09:00 stays 09:00 on both sides of a change comes from the working hours, which are expanded
in the clinic's time zone before they become minutes.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from math import lcm
from zoneinfo import ZoneInfo

from booking.calendars import (
    busy_by_resource,
    candidate_resources,
    requirements_of,
    working_time,
)
from booking.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentType,
    Clinic,
)
from cores import solver
from cores.intervals import Interval, subtract_spans
from patients.models import AvailabilityWindow, UnavailablePeriod
from planning.models import BookingTask

ONE_MINUTE = timedelta(minutes=1)
OPTIMISATION_GRID = 15

Span = tuple[int, int]


@dataclass(frozen=True)
class Clock:
    """Maps aware datetimes to the solver's elapsed minutes and back, for a span of time in
    the clinic's time zone (`until`: how far ahead the clock changes are told to the solver)."""

    tz: ZoneInfo
    epoch: date
    until: datetime

    @classmethod
    def for_span(cls, span: Interval, tz: ZoneInfo) -> "Clock":
        return cls(tz=tz, epoch=span.start.astimezone(tz).date(), until=span.end)

    @cached_property
    def _origin(self) -> datetime:
        return datetime.combine(self.epoch, time.min, tzinfo=self.tz).astimezone(UTC)

    def minute(self, moment: datetime) -> int:
        # Aware datetimes subtract as instants whatever their zone (a naive one raises).
        return (moment - self._origin) // ONE_MINUTE

    def day_start(self, day: date) -> int:
        return self.minute(datetime.combine(day, time.min, tzinfo=self.tz))

    def day_end(self, day: date) -> int:
        """The last minute of the day: a start at or before it is on that day or earlier."""
        return self.day_start(day + timedelta(days=1)) - 1

    def at(self, day: date, wall: time) -> int:
        """The minute of a local time of day (a time the clocks skip counts as the moment
        they jump past it; a repeated one as its first occurrence)."""
        return self.minute(datetime.combine(day, wall, tzinfo=self.tz))

    def moment(self, minute: int) -> datetime:
        """The instant, written with the UTC offset in force then."""
        return (self._origin + minute * ONE_MINUTE).astimezone(self.tz)

    def span(self, interval: Interval) -> Span | None:
        """The interval in minutes, or None when it is shorter than a minute."""
        start, end = self.minute(interval.start), self.minute(interval.end)
        return (start, end) if end > start else None

    def spans(self, intervals: Iterable[Interval]) -> tuple[Span, ...]:
        return tuple(s for s in map(self.span, intervals) if s is not None)

    def shifts(self) -> tuple[tuple[int, int], ...]:
        """When the wall clock jumps between the epoch and `until`, and by how much (minutes)."""
        found = []
        day = self.epoch
        last_day = self.until.astimezone(self.tz).date() + timedelta(days=1)
        while day <= last_day:
            start, end = (
                datetime.combine(d, time.min, tzinfo=self.tz).astimezone(UTC)
                for d in (day, day + timedelta(days=1))
            )
            before, after = self._offset(start), self._offset(end)
            if before != after:
                found.append((self.minute(self._first_with(after, start, end)), after - before))
            day += timedelta(days=1)
        return tuple(found)

    def _offset(self, instant: datetime) -> int:
        offset = instant.astimezone(self.tz).utcoffset()
        assert offset is not None
        return offset // ONE_MINUTE

    def _first_with(self, offset: int, low: datetime, high: datetime) -> datetime:
        """The first whole minute in (low, high] whose UTC offset is `offset` (one change
        between them)."""
        while high - low > ONE_MINUTE:
            middle = low + ((high - low) // ONE_MINUTE // 2) * ONE_MINUTE
            if self._offset(middle) == offset:
                high = middle
            else:
                low = middle
        return high

    def time_model(self) -> solver.TimeModel:
        return solver.TimeModel(
            grid_minutes=OPTIMISATION_GRID,
            epoch_weekday=self.epoch.weekday(),
            shifts=self.shifts(),
        )


def solver_priority(priority: int) -> int:
    """Referral priority 1 (urgent) .. 3 (normal) as the solver's weight 2 .. 0."""
    return 3 - priority


def optimisation_grid(types: Sequence[AppointmentType]) -> int:
    """The coarsest grid every type accepts, at least 15 minutes: a multiple of each type's grid
    so a planned start is always on the type's own grid."""
    common = lcm(*(t.grid_minutes for t in types)) if types else 1
    return common * -(-OPTIMISATION_GRID // common)


def solver_type(appointment_type: AppointmentType) -> solver.AppointmentType:
    return solver.AppointmentType(
        id=str(appointment_type.pk),
        duration=appointment_type.duration_minutes,
        requirements=tuple(
            solver.Requirement(kind=r.kind, tag=r.tag or None, count=r.count)
            for r in appointment_type.requirements.all()
        ),
        buffer_before=appointment_type.buffer_before_minutes,
        buffer_after=appointment_type.buffer_after_minutes,
        grid_minutes=appointment_type.grid_minutes,
        offers_count=appointment_type.offers_count,
    )


@dataclass(frozen=True)
class PatientTimes:
    available: tuple[Span, ...] = ()
    unavailable: tuple[Span, ...] = ()


@dataclass
class InstanceBuilder:
    """Reads one clinic's calendars over a span and builds a solver `Instance`.

    `movable` appointments are left out of the resources' and patients' busy time: the solver
    gets them as appointments it may move.
    """

    clinic: Clinic
    span: Interval
    types: Sequence[AppointmentType]
    movable: Sequence[Appointment] = ()
    clock: Clock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = Clock.for_span(self.span, self.clinic.tz)
        self._movable_ids = {a.pk for a in self.movable}
        self._resources = candidate_resources(
            self.clinic.pk, [r for t in self.types for r in requirements_of(t)]
        )

    def resources(self) -> tuple[solver.Resource, ...]:
        ids = [r.pk for r in self._resources]
        working = working_time(ids, self.clinic.tz, self.span)
        busy = busy_by_resource(ids, self.span, ignoring=self._movable_ids)
        return tuple(
            solver.Resource(
                id=str(res.pk),
                kind=res.kind,
                tags=frozenset(res.tags),
                free=self._free(working.get(res.pk, ()), busy[res.pk]),
            )
            for res in self._resources
        )

    def _free(self, working: Iterable[Interval], busy: Iterable[Interval]) -> tuple[Span, ...]:
        """Working time minus busy time, subtracted on the minute axis: it keeps the order of
        instants, so the result is the same as subtracting the intervals, without an Interval
        object for every free piece of every resource."""
        return tuple(subtract_spans(self.clock.spans(working), self.clock.spans(busy)))

    def patient_times(self, patient_ids: Iterable[int]) -> dict[int, PatientTimes]:
        ids = set(patient_ids)
        available = self._weekly_windows(ids)
        unavailable = self._unavailable(ids)
        return {pid: PatientTimes(tuple(available[pid]), tuple(unavailable[pid])) for pid in ids}

    def _days(self) -> Iterable[date]:
        first = self.span.start.astimezone(self.clinic.tz).date()
        last = self.span.end.astimezone(self.clinic.tz).date()
        return (first + timedelta(days=n) for n in range((last - first).days + 1))

    def _weekly_windows(self, ids: set[int]) -> dict[int, list[Span]]:
        by_weekday: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
        for window in AvailabilityWindow.objects.filter(patient_id__in=ids):
            by_weekday[window.weekday].append(
                (window.patient_id, window.start_time, window.end_time)
            )
        windows: dict[int, list[Span]] = defaultdict(list)
        for day in self._days():
            for patient_id, start, end in by_weekday.get(day.weekday(), []):
                span = (self.clock.at(day, start), self.clock.at(day, end))
                if span[1] > span[0]:
                    windows[patient_id].append(span)
        return windows

    def _unavailable(self, ids: set[int]) -> dict[int, list[Span]]:
        spans: dict[int, list[Span]] = defaultdict(list)
        periods = UnavailablePeriod.objects.filter(
            patient_id__in=ids,
            start_date__lte=self.span.end.date(),
            end_date__gte=self.span.start.date() - timedelta(days=1),
        )
        for period in periods:
            spans[period.patient_id].append(
                (
                    self.clock.day_start(period.start_date),
                    self.clock.day_start(period.end_date + timedelta(days=1)),
                )
            )
        appointments = (
            Appointment.objects.filter(
                patient_id__in=ids,
                status__in=HOLDING_STATUSES,
                starts_at__lt=self.span.end,
                ends_at__gt=self.span.start,
            )
            .exclude(pk__in=self._movable_ids)
            .values_list("patient_id", "starts_at", "ends_at")
        )
        for patient_id, start, end in appointments:
            span = self.clock.span(Interval(start, end))
            if span is not None:
                spans[patient_id].append(span)
        return spans

    def task(
        self,
        task: BookingTask,
        times: PatientTimes,
        *,
        now: datetime,
        not_after: datetime | None = None,
    ) -> solver.BookingTask | None:
        """The task as the solver sees it, or None if its window has already passed."""
        notice = timedelta(hours=task.appointment_type.min_notice_hours)
        earliest = max(self.clock.day_start(task.earliest_date), self.clock.minute(now + notice))
        latest = self.clock.day_end(task.latest_date)
        if not_after is not None:
            latest = min(latest, self.clock.minute(not_after))
        if latest < earliest:
            return None
        return solver.BookingTask(
            id=str(task.pk),
            patient_id=str(task.patient_id),
            type_id=str(task.appointment_type_id),
            earliest_start=earliest,
            latest_start=latest,
            deadline=self.clock.day_end(task.deadline),
            priority=solver_priority(task.priority),
            available=times.available,
            unavailable=times.unavailable,
        )

    def appointment(
        self,
        appointment: Appointment,
        times: PatientTimes,
        *,
        fixed: bool,
        origin: BookingTask | None,
        known: set[str],
    ) -> solver.Appointment:
        """`known`: the instance's resource ids (an inactive resource is left out)."""
        resource_ids = (str(a.resource_id) for a in appointment.allocations.all())
        return solver.Appointment(
            id=str(appointment.pk),
            patient_id=str(appointment.patient_id),
            type_id=str(appointment.appointment_type_id),
            start=self.clock.minute(appointment.starts_at),
            resource_ids=tuple(r for r in resource_ids if r in known),
            fixed=fixed,
            deadline=(self.clock.day_end(origin.deadline) if origin else None),
            priority=solver_priority(origin.priority) if origin else 0,
            available=times.available,
            unavailable=times.unavailable,
        )
