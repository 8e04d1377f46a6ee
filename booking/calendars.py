"""Turn rows into the pure slot search's inputs: one calendar per resource over a window."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.models import Absence, Allocation, AppointmentType, Resource, WorkingHours
from planning.core.calendar import WeeklyRule, expand_rules
from planning.core.intervals import Interval
from planning.core.slots import Requirement, ResourceCalendar, SlotQuery


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


def _candidate_resources(clinic_id: int, requirements: Iterable[Requirement]) -> list[Resource]:
    kinds = {r.kind for r in requirements}
    resources = Resource.objects.filter(clinic_id=clinic_id, kind__in=kinds, is_active=True)
    return [
        res
        for res in resources
        if any(r.kind == res.kind and (r.tag is None or r.tag in res.tags) for r in requirements)
    ]


def _intervals_by_resource(
    rows: Iterable[tuple[int, datetime, datetime]],
) -> dict[int, list[Interval]]:
    by_resource: dict[int, list[Interval]] = defaultdict(list)
    for resource_id, start, end in rows:
        by_resource[resource_id].append(Interval(start, end))
    return by_resource


def _rules_by_resource(resource_ids: list[int], span: Interval) -> dict[int, list[WeeklyRule]]:
    rows = WorkingHours.objects.filter(
        resource_id__in=resource_ids,
        valid_from__lte=span.end.date(),
    ).exclude(valid_until__lt=span.start.date() - timedelta(days=1))
    rules: dict[int, list[WeeklyRule]] = defaultdict(list)
    for wh in rows:
        rules[wh.resource_id].append(
            WeeklyRule(
                weekday=wh.weekday,
                start=wh.start_time,
                end=wh.end_time,
                valid_from=wh.valid_from,
                valid_until=wh.valid_until,
                interval_weeks=wh.interval_weeks,
            )
        )
    return rules


def resource_calendars(
    query: SlotQuery, clinic_id: int, *, span: Interval | None = None
) -> list[ResourceCalendar]:
    """Calendars of every resource that could fill one of the query's requirements.

    The span read covers at least the window plus one appointment and its buffers, so a start
    near the window's end still sees what it would collide with.
    """
    resources = _candidate_resources(clinic_id, query.requirements)
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
    rules = _rules_by_resource(ids, span)
    busy = _intervals_by_resource(
        [
            *Absence.objects.filter(
                resource_id__in=ids, starts_at__lt=span.end, ends_at__gt=span.start
            ).values_list("resource_id", "starts_at", "ends_at"),
            *Allocation.objects.filter(
                resource_id__in=ids,
                starts_at__lt=span.end,
                ends_at__gt=span.start,
            ).values_list("resource_id", "starts_at", "ends_at"),
        ]
    )
    return [
        ResourceCalendar(
            resource_id=res.id,
            kind=res.kind,
            tags=frozenset(res.tags),
            working=tuple(expand_rules(rules.get(res.id, []), tz=query.tz, window=span)),
            busy=tuple(busy.get(res.id, [])),
        )
        for res in resources
    ]


def local_day(moment: datetime, tz: ZoneInfo) -> Interval:
    """The local calendar day around `moment` (23 or 25 hours on the change days)."""
    day = moment.astimezone(tz).date()
    return Interval(
        datetime.combine(day, time.min, tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz),
    )
