"""Benchmark of the pure slot search (cores) on a synthetic hospital department.

50 clinicians, 30 rooms and 10 pieces of equipment work ~08:00-16:00 Monday-Friday for
12 weeks (Europe/Oslo, spanning the 2026-03-29 daylight-saving change), about 80% of their
working time is already booked, and a few clinicians have absences. 200 searches, each over
a 4-week window, look for a clinician + room + equipment appointment.

Before each search the calendars are cut down to what the database query would return
(intervals overlapping the window plus one appointment and its buffers); that part stands
in for the DB read and is timed separately. Run:

    python -m bench.bench_slots_pure
"""

from __future__ import annotations

import bisect
import random
import statistics
import time as timer
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from cores.calendar import WeeklyRule, expand_rules
from cores.intervals import Interval, subtract
from cores.slots import Requirement, ResourceCalendar, SlotQuery, find_slot_starts, find_slots

OSLO = ZoneInfo("Europe/Oslo")
FIRST_MONDAY = date(2026, 3, 2)
WEEKS = 12
SEARCHES = 200
SPECIALTIES = ("endoscopist", "cardiology", "general")
BOOKED_SHARE = 0.8  # chance that each appointment-sized piece of working time is booked

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Resource:
    resource_id: int
    kind: str
    tags: frozenset[str]
    working: tuple[Interval, ...]  # sorted, whole 12 weeks
    busy: tuple[Interval, ...]  # sorted by start, whole 12 weeks
    busy_starts: tuple[datetime, ...]
    max_busy: timedelta  # longest busy interval, to bound the "DB index" look-up


def _local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=OSLO)


def build_department(rng: random.Random) -> list[Resource]:
    horizon = Interval(_local(FIRST_MONDAY, 0), _local(FIRST_MONDAY + timedelta(weeks=WEEKS), 0))
    specs: list[tuple[str, frozenset[str]]] = []
    specs += [("clinician", frozenset({SPECIALTIES[i % 3]})) for i in range(50)]
    specs += [("room", frozenset({"procedure" if i % 3 == 0 else "consult"})) for i in range(30)]
    specs += [("equipment", frozenset({"ultrasound" if i % 2 else "ecg"})) for i in range(10)]

    resources = []
    for rid, (kind, tags) in enumerate(specs, start=1):
        start = rng.choice([time(7, 30), time(8), time(8), time(8, 30)])
        end = rng.choice([time(15, 30), time(16), time(16), time(16, 30)])
        weekdays = range(5) if rng.random() < 0.8 else rng.sample(range(5), 4)
        rules = [WeeklyRule(d, start, end, FIRST_MONDAY) for d in weekdays]
        working = expand_rules(rules, tz=OSLO, window=horizon)

        busy: list[Interval] = []
        if kind == "clinician":  # a few absence days
            for _ in range(rng.randrange(0, 4)):
                day = FIRST_MONDAY + timedelta(days=rng.randrange(WEEKS * 7))
                busy.append(Interval(_local(day, 0), _local(day + timedelta(days=1), 0)))
        for block in working:  # existing allocations, ~80% of the time
            t = block.start
            while t < block.end:
                length = timedelta(minutes=rng.choice([15, 20, 30, 30, 45, 60]))
                if rng.random() < BOOKED_SHARE:
                    busy.append(Interval(t, min(t + length, block.end)))
                t += length
        busy.sort()
        resources.append(
            Resource(
                rid,
                kind,
                tags,
                tuple(working),
                tuple(busy),
                tuple(b.start for b in busy),
                max(b.end - b.start for b in busy),
            )
        )
    return resources


def db_read(resources: list[Resource], span: Interval) -> list[ResourceCalendar]:
    """What the DB query returns: intervals overlapping ``span`` (via a start index)."""
    calendars = []
    for res in resources:
        lo = bisect.bisect_left(res.busy_starts, span.start - res.max_busy)
        hi = bisect.bisect_left(res.busy_starts, span.end)
        busy = tuple(b for b in res.busy[lo:hi] if b.end > span.start)
        working = tuple(w for w in res.working if w.end > span.start and w.start < span.end)
        calendars.append(ResourceCalendar(res.resource_id, res.kind, res.tags, working, busy))
    return calendars


def rebuild_intervals(calendars: list[ResourceCalendar]) -> float:
    """Milliseconds to construct an Interval per busy row, as the DB layer does per row."""
    rows = [(b.start, b.end) for c in calendars for b in c.busy]
    ms, built = timed(lambda: [Interval(start, end) for start, end in rows])
    assert len(built) == len(rows)
    return ms


def random_query(rng: random.Random) -> SlotQuery:
    day = FIRST_MONDAY + timedelta(days=rng.randrange(0, 8 * 7))
    start = _local(day, rng.choice([0, 0, 7, 10, 13]))
    return SlotQuery(
        requirements=(
            Requirement("clinician", rng.choice([*SPECIALTIES, None])),
            Requirement("room", rng.choice(["procedure", None])),
            Requirement("equipment", rng.choice(["ultrasound", "ecg"])),
        ),
        duration=timedelta(minutes=rng.choice([20, 30, 45])),
        window=Interval(start, start + timedelta(weeks=4)),
        tz=OSLO,
        grid=timedelta(minutes=5),
        buffer_before=timedelta(minutes=rng.choice([0, 5])),
        buffer_after=timedelta(minutes=rng.choice([0, 5, 10])),
    )


def timed(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> tuple[float, T]:
    """Milliseconds taken by ``fn(*args, **kwargs)`` and its result."""
    t0 = timer.perf_counter()
    result = fn(*args, **kwargs)
    return (timer.perf_counter() - t0) * 1000, result


def report(name: str, samples: list[float]) -> None:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    print(
        f"{name:<44} p50 {statistics.median(samples):7.2f} ms   p95 {q[94]:7.2f} ms"
        f"   max {max(samples):7.2f} ms"
    )


def main() -> None:
    rng = random.Random(42)
    resources = build_department(rng)
    total_busy = sum(len(r.busy) for r in resources)
    worked = sum((w.end - w.start for r in resources for w in r.working), timedelta())
    free = sum(
        (f.end - f.start for r in resources for f in subtract(r.working, r.busy)), timedelta()
    )
    booked = worked - free
    print(
        f"{len(resources)} resources, {sum(len(r.working) for r in resources)} working "
        f"intervals, {total_busy} busy intervals over {WEEKS} weeks "
        f"(booked share of working time {booked / worked:.0%})"
    )

    read_ms: list[float] = []
    build_ms: list[float] = []
    starts_ms: list[float] = []
    slots20_ms: list[float] = []
    slots_all_ms: list[float] = []
    unfiltered_ms: list[float] = []
    found: list[int] = []
    busy_read: list[int] = []
    full = [ResourceCalendar(r.resource_id, r.kind, r.tags, r.working, r.busy) for r in resources]
    for _ in range(SEARCHES):
        query = random_query(rng)
        span = Interval(
            query.window.start - query.buffer_before,
            query.window.end + query.duration + query.buffer_after,
        )
        ms, calendars = timed(db_read, resources, span)
        read_ms.append(ms)
        busy_read.append(sum(len(c.busy) for c in calendars))
        build_ms.append(rebuild_intervals(calendars))

        ms, starts = timed(find_slot_starts, query, calendars)
        starts_ms.append(ms)
        found.append(len(starts))

        ms, slots = timed(find_slots, query, calendars, limit=20)
        slots20_ms.append(ms)
        assert [s.start for s in slots] == starts[:20]

        ms, all_slots = timed(find_slots, query, calendars)
        slots_all_ms.append(ms)
        assert [s.start for s in all_slots] == starts

        ms, unfiltered = timed(find_slot_starts, query, full)
        unfiltered_ms.append(ms)
        assert unfiltered == starts

    print(
        f"{SEARCHES} searches over 4-week windows: {statistics.median(busy_read):.0f} busy "
        f"intervals read per search (median), {statistics.median(found):.0f} starts found "
        f"(median, min {min(found)}, max {max(found)})"
    )
    report("simulated DB read (in-memory filter)", read_ms)
    report("Interval() for each busy row read", build_ms)
    report("find_slot_starts", starts_ms)
    report("find_slots(limit=20)", slots20_ms)
    report("find_slots (all, with assignments)", slots_all_ms)
    report("find_slot_starts on unfiltered 12 weeks", unfiltered_ms)


if __name__ == "__main__":
    main()
