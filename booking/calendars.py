"""Turn rows into the pure slot search's inputs: one calendar per resource over a window."""

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from booking.errors import AppointmentTypeChanged
from booking.models import (
    ALLOCATION_MAX_LENGTH,
    Absence,
    Allocation,
    AppointmentType,
    Resource,
    WorkingHours,
)
from booking.rows import busy_rows, free_resource_rows, is_kept, rule_rows
from cores.calendar import WeeklyRule, expand_rules
from cores.intervals import Interval
from cores.slots import Requirement, ResourceCalendar, SlotQuery


def requirements_of(appointment_type: AppointmentType) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(kind=r.kind, tag=r.tag or None, count=r.count)
        for r in appointment_type.requirements.all()
    )


def slot_query(appointment_type: AppointmentType, window: Interval) -> SlotQuery:
    return SlotQuery(
        requirements=requirements_of(appointment_type),
        duration=appointment_type.duration,
        window=window,
        tz=appointment_type.clinic.tz,
        grid=timedelta(minutes=appointment_type.grid_minutes),
        buffer_before=appointment_type.buffer_before,
        buffer_after=appointment_type.buffer_after,
    )


def _fills_one(kind: str, tags: list[str], requirements: Iterable[Requirement]) -> bool:
    return any(r.kind == kind and (r.tag is None or r.tag in tags) for r in requirements)


def candidate_resources(
    clinic_id: int, requirements: Iterable[Requirement], *, only: Collection[int] | None = None
) -> list[Resource]:
    """The clinic's active resources that could fill one of the requirements (of `only`)."""
    requirements = list(requirements)
    kinds = {r.kind for r in requirements}
    resources = Resource.objects.filter(clinic_id=clinic_id, kind__in=kinds, is_active=True)
    if only is not None:
        resources = resources.filter(pk__in=only)
    return [res for res in resources if _fills_one(res.kind, res.tags, requirements)]


def _busy_postgres(
    ids: list[int], span: Interval, ignoring: list[int]
) -> dict[int, list[Interval]]:
    params: dict[str, Any] = {
        "ids": ids,
        "start": span.start,
        "end": span.end,
        "earliest": span.start - ALLOCATION_MAX_LENGTH,
        "ignoring": ignoring,
    }
    by_resource: dict[int, list[Interval]] = defaultdict(list)
    interval = _shared_intervals()
    for resource_id, starts, ends in busy_rows(params):
        by_resource[resource_id] = list(map(interval, starts, ends))
    return by_resource


def _shared_intervals() -> Callable[[float, float], Interval]:
    """Intervals from epoch seconds, one object per distinct interval. Appointments start and
    end on a few grid times, so many resources share their busy intervals, and a search holds
    thousands fewer objects for the garbage collector to walk (Intervals are immutable)."""
    moment = cache(partial(datetime.fromtimestamp, tz=UTC))

    @cache
    def interval(start: float, end: float) -> Interval:
        return Interval(moment(start), moment(end))

    return interval


def _busy_portable(
    ids: list[int], span: Interval, ignoring: list[int]
) -> dict[int, list[Interval]]:
    overlapping = {"resource_id__in": ids, "starts_at__lt": span.end, "ends_at__gt": span.start}
    absences = Absence.objects.filter(**overlapping)
    allocations = Allocation.objects.filter(**overlapping).exclude(appointment_id__in=ignoring)
    by_resource: dict[int, list[Interval]] = defaultdict(list)
    for rows in (absences, allocations):
        for resource_id, start, end in rows.values_list("resource_id", "starts_at", "ends_at"):
            by_resource[resource_id].append(Interval(start, end))
    return by_resource


def busy_by_resource(
    ids: list[int], span: Interval, *, ignoring: Collection[int] = ()
) -> dict[int, list[Interval]]:
    """Absences and allocations of these resources overlapping the span, leaving out the
    allocations of the `ignoring` appointments; a resource with none reads as an empty list."""
    read = _busy_postgres if connection.vendor == "postgresql" else _busy_portable
    return read(ids, span, sorted(ignoring))


def _rule_days(span: Interval) -> tuple[date, date]:
    """The first and last day a rule must be valid on to give working time in the span."""
    return span.start.date() - timedelta(days=1), span.end.date()


def _rule_rows(resource_ids: list[int], span: Interval) -> Iterable[tuple[Any, ...]]:
    """Working-hour rows that may apply in the span. On PostgreSQL as plain SQL: the ORM's
    row handling cost more than the query for the ~450 rows of a department."""
    first, last = _rule_days(span)
    if connection.vendor == "postgresql":
        return rule_rows({"ids": resource_ids, "first": first, "last": last})
    return (
        WorkingHours.objects.filter(resource_id__in=resource_ids, valid_from__lte=last)
        .exclude(valid_until__lt=first)
        .values_list(
            "resource_id",
            "weekday",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "interval_weeks",
        )
    )


def _rules_by_resource(resource_ids: list[int], span: Interval) -> dict[int, list[WeeklyRule]]:
    rules: dict[int, list[WeeklyRule]] = defaultdict(list)
    made: dict[tuple[Any, ...], WeeklyRule] = {}  # most resources share their rules
    for resource_id, *fields in _rule_rows(resource_ids, span):
        key = tuple(fields)
        if key not in made:
            made[key] = WeeklyRule(*key)
        rules[resource_id].append(made[key])
    return rules


@lru_cache(maxsize=1024)
def _expanded(rules: tuple[WeeklyRule, ...], tz: ZoneInfo, span: Interval) -> tuple[Interval, ...]:
    """expand_rules is a pure function of its arguments, and most resources of a clinic share
    their hours: each booking on a day expands the same few rule sets over the same day."""
    return tuple(expand_rules(rules, tz=tz, window=span))


def _working_time(
    rules: dict[int, list[WeeklyRule]], tz: ZoneInfo, span: Interval
) -> dict[int, tuple[Interval, ...]]:
    return {
        resource_id: _expanded(tuple(sorted(resource_rules, key=repr)), tz, span)
        for resource_id, resource_rules in rules.items()
    }


def resource_calendars(
    query: SlotQuery,
    clinic_id: int,
    *,
    span: Interval | None = None,
    only: Collection[int] | None = None,
) -> list[ResourceCalendar]:
    """Calendars of every resource that could fill one of the query's requirements (of the
    resources in `only`, when given).

    The span read covers at least the window plus one appointment and its buffers, so a start
    near the window's end still sees what it would collide with.
    """
    resources = candidate_resources(clinic_id, query.requirements, only=only)
    ids = [res.id for res in resources]
    needed = Interval(
        query.window.start - query.buffer_before,
        query.window.end + query.duration + query.buffer_after,
    )
    span = (
        needed
        if span is None
        else Interval(min(span.start, needed.start), max(span.end, needed.end))
    )
    working = _working_time(_rules_by_resource(ids, span), query.tz, span)
    busy = busy_by_resource(ids, span)
    return [
        ResourceCalendar(
            resource_id=res.id,
            kind=res.kind,
            tags=frozenset(res.tags),
            working=working.get(res.id, ()),
            busy=tuple(busy.get(res.id, [])),
        )
        for res in resources
    ]


def _free_calendars_postgres(
    query: SlotQuery, appointment_type: AppointmentType, blocked: Interval, span: Interval
) -> list[ResourceCalendar]:
    first_day, last_day = _rule_days(span)
    params: dict[str, Any] = {
        "type_id": appointment_type.pk,
        "clinic_id": appointment_type.clinic_id,
        "kinds": sorted({r.kind for r in query.requirements}),
        "start": blocked.start,
        "end": blocked.end,
        "span_start": span.start,
        "span_end": span.end,
        "first_day": first_day,
        "last_day": last_day,
    }
    free = free_resource_rows(params)
    if is_kept(appointment_type) and (not free or free[0][0] != appointment_type.catalogue_version):
        # With no free resource there is no version to compare: the caller reads the type anew
        # and tries once more, so an answer that nothing is free always comes from a fresh type.
        raise AppointmentTypeChanged
    return [
        ResourceCalendar(
            resource_id=rid,
            kind=kind,
            tags=frozenset(tags),
            working=_expanded(_rules_from_json(rules), query.tz, span) if rules else (),
            busy=_busy_around(span, busy_until, busy_from),
        )
        for _, rid, kind, tags, rules, busy_until, busy_from in free
        if _fills_one(kind, tags, query.requirements)
    ]


@lru_cache(maxsize=256)
def _rules_from_json(text: str) -> tuple[WeeklyRule, ...]:
    """A resource's rules as free_resource_rows gives them; most resources share theirs, so
    this is read once."""
    return tuple(
        WeeklyRule(
            weekday=weekday,
            start=time.fromisoformat(start),
            end=time.fromisoformat(end),
            valid_from=date.fromisoformat(valid_from),
            valid_until=None if valid_until is None else date.fromisoformat(valid_until),
            interval_weeks=interval_weeks,
        )
        for weekday, start, end, valid_from, valid_until, interval_weeks in json.loads(text)
    )


def _busy_around(
    span: Interval, busy_until: float | None, busy_from: float | None
) -> tuple[Interval, ...]:
    """Stand-ins for the busy time that bounds the free block around a start."""
    before = () if busy_until is None else (Interval(span.start, _moment(busy_until)),)
    after = () if busy_from is None else (Interval(_moment(busy_from), span.end),)
    return before + after


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def calendars_around(
    query: SlotQuery, appointment_type: AppointmentType, *, start: datetime, span: Interval
) -> list[ResourceCalendar]:
    """What `assign_resources(query, ..., start)` needs for a best-fit choice within the span.

    On PostgreSQL only the resources free at `start` are read, each with its working hours in
    the span and the busy time just before and after: the free block around `start` comes out
    the same as from `resource_calendars` over the span, which other databases read instead.
    The same read checks that a type kept from an earlier request is still the clinic's
    (AppointmentTypeChanged if not), so it never books by rules the clinic has changed since.
    """
    blocked = query.blocked(start)
    span = Interval(min(span.start, blocked.start), max(span.end, blocked.end))
    if connection.vendor == "postgresql":
        return _free_calendars_postgres(query, appointment_type, blocked, span)
    return resource_calendars(query, appointment_type.clinic_id, span=span)


def local_day(moment: datetime, tz: ZoneInfo) -> Interval:
    """The local calendar day around `moment` (23 or 25 hours on the change days)."""
    day = moment.astimezone(tz).date()
    return Interval(
        datetime.combine(day, time.min, tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz),
    )


def working_time(
    resource_ids: list[int], tz: ZoneInfo, span: Interval
) -> dict[int, tuple[Interval, ...]]:
    """Each resource's working hours inside the span, as intervals."""
    return _working_time(_rules_by_resource(resource_ids, span), tz, span)
