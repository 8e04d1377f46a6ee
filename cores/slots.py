"""Find appointment start times at which every required resource is free at once.

Pure Python (no Django). All datetimes returned by this module are aware datetimes in
UTC (``datetime.UTC``); inputs may use any timezone and are compared by instant.
Grid alignment is the only thing that depends on ``SlotQuery.tz``: candidate starts are
the local wall-clock times whose minutes since local midnight are a multiple of the grid.
On a fall-back day both occurrences of a repeated wall-clock time (e.g. 02:30 CEST and
02:30 CET) are candidates; times that do not exist on a spring-forward day are not.

Algorithm (sorted-interval sweeps, never per grid point x per resource):

1. Per resource matching some requirement: merged working hours minus merged busy
   intervals give free blocks; a block ``[a, b)`` allows starts in
   ``[a + buffer_before, b - duration - buffer_after]``, clipped to the window.
2. Per requirement: a counting sweep over its candidates' start ranges keeps the ranges
   where at least ``count`` distinct resources are free.
3. Requirements whose candidate sets overlap (e.g. "endoscopist" and "any clinician")
   need distinct resources. By Hall's theorem a start is feasible iff, for every subset S
   of such requirements, the number of free resources matching some requirement in S is
   at least the sum of their counts; each subset is just one more counting sweep. Only
   connected subsets of overlapping requirements are needed (disjoint ones add up). More
   than ``MAX_OVERLAPPING_REQUIREMENTS`` mutually overlapping requirements raise ValueError.
4. The ranges are intersected and the grid points inside them enumerated.

Concrete resources (``find_slots``/``assign_resources``) are chosen by augmenting-path
bipartite matching, trying candidates best-fit first: the shortest containing free block,
ties broken by resource id.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from operator import attrgetter
from zoneinfo import ZoneInfo

from cores.intervals import Interval, Span, intersect_spans, merge_sorted_spans, to_utc

__all__ = [
    "Requirement",
    "ResourceCalendar",
    "Slot",
    "SlotQuery",
    "assign_resources",
    "find_slot_starts",
    "find_slots",
]

# A span of instants, (start, end) in UTC.
Moments = Span[datetime]
_ZERO = timedelta(0)
_ONE_US = timedelta(microseconds=1)
_ONE_MINUTE = timedelta(minutes=1)
_ONE_DAY = timedelta(days=1)
# Hall's condition is checked over connected subsets of mutually overlapping requirements;
# refuse components so large that enumerating subsets would explode.
MAX_OVERLAPPING_REQUIREMENTS = 10


@dataclass(frozen=True, slots=True)
class ResourceCalendar:
    """Availability of one resource: expanded working hours and busy time.

    ``busy`` holds absences and existing allocations (allocations already including their
    buffers). Overlapping or touching working intervals are treated as one continuous
    working interval.
    """

    resource_id: int
    kind: str  # "clinician" | "room" | "equipment"
    tags: frozenset[str]
    working: tuple[Interval, ...]
    busy: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    """``count`` distinct resources of ``kind`` (having ``tag``, unless it is None)."""

    kind: str
    tag: str | None = None
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"Requirement count must be >= 1, got {self.count}")

    def matches(self, calendar: ResourceCalendar) -> bool:
        return calendar.kind == self.kind and (self.tag is None or self.tag in calendar.tags)


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """What to search for; candidate start times must lie in ``[window.start, window.end)``."""

    requirements: tuple[Requirement, ...]
    duration: timedelta
    window: Interval
    tz: ZoneInfo
    grid: timedelta = timedelta(minutes=5)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if not self.requirements:
            raise ValueError("SlotQuery needs at least one requirement")
        if self.duration <= _ZERO:
            raise ValueError(f"duration must be positive, got {self.duration}")
        if self.grid <= _ZERO or self.grid % _ONE_MINUTE:
            raise ValueError(f"grid must be a positive whole number of minutes, got {self.grid}")
        if self.buffer_before < _ZERO or self.buffer_after < _ZERO:
            raise ValueError("buffers must not be negative")
        if not isinstance(self.tz, tzinfo):
            raise ValueError(f"tz must be a ZoneInfo, got {self.tz!r}")

    def blocked(self, start: datetime) -> Interval:
        """Time the resources are held for a start: ``[start - before, start + duration + after)``.

        Computed on instants (UTC), so it is correct across daylight-saving changes.
        """
        s = to_utc(start, "start")
        return Interval(s - self.buffer_before, s + self.duration + self.buffer_after)


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start: patient-facing ``[start, end)`` (no buffers) and one assignment.

    ``resource_ids`` follows requirement order; a requirement with ``count=n`` contributes
    n consecutive ids.
    """

    start: datetime
    end: datetime
    resource_ids: tuple[int, ...]


# --------------------------------------------------------------------------- internals

# A start range: starts in [lo, hi) are feasible for a resource whose containing free
# block has the given length (used for best-fit).
_StartRange = tuple[datetime, datetime, timedelta]


@dataclass(slots=True)
class _Resource:
    resource_id: int
    mask: int  # bit i set <=> the resource matches requirement i
    ranges: list[_StartRange]


_START = attrgetter("start")


def _working_spans(calendar: ResourceCalendar) -> list[Moments]:
    return merge_sorted_spans(sorted((w.start, w.end) for w in calendar.working))


def _free_blocks(working: list[Moments], busy: Sequence[Interval]) -> list[Moments]:
    """``working`` (sorted, disjoint, non-empty) minus ``busy`` (sorted by start).

    One linear pass; the busy intervals need not be merged first.
    """
    free: list[Moments] = []
    n_working = len(working)
    w = 0
    w_start, w_end = working[0]
    cur = w_start  # everything in [w_start, cur) is known to be busy
    for interval in busy:
        b_start = interval.start
        while b_start >= w_end:  # this and later busy intervals start after the block
            if cur < w_end:
                free.append((cur, w_end))
            w += 1
            if w == n_working:
                return free
            w_start, w_end = working[w]
            if cur < w_start:
                cur = w_start
        b_end = interval.end
        if b_end > cur:
            if b_start > cur:
                free.append((cur, b_start))
            cur = b_end
    while True:
        if cur < w_end:
            free.append((cur, w_end))
        w += 1
        if w == n_working:
            return free
        w_start, w_end = working[w]
        if cur < w_start:
            cur = w_start


def _prepare(query: SlotQuery, calendars: Iterable[ResourceCalendar]) -> list[_Resource]:
    """Per relevant resource, the ranges of feasible start times inside the window."""
    window_start = query.window.start
    window_end = query.window.end
    before = query.buffer_before
    needed = query.buffer_before + query.duration + query.buffer_after
    # Latest feasible start in a block [a, b) is b - tail - 1us; ranges are half-open.
    tail = query.duration + query.buffer_after - _ONE_US
    lo = window_start - before
    hi = window_end + query.duration + query.buffer_after
    requirements = query.requirements

    seen: set[int] = set()
    resources: list[_Resource] = []
    for cal in calendars:
        if cal.resource_id in seen:
            raise ValueError(f"duplicate resource_id {cal.resource_id} in calendars")
        seen.add(cal.resource_id)
        mask = 0
        for i, req in enumerate(requirements):
            if req.matches(cal):
                mask |= 1 << i
        if not mask:
            continue
        res = _Resource(cal.resource_id, mask, [])
        resources.append(res)
        working = [w for w in _working_spans(cal) if w[1] > lo and w[0] < hi]
        if not working:
            continue
        busy = sorted(cal.busy, key=_START)  # linear when already sorted
        # Busy time starting after the last relevant working block cannot matter.
        busy = busy[: bisect_left(busy, working[-1][1], key=_START)]
        ranges = res.ranges
        for a, b in _free_blocks(working, busy):
            length = b - a
            if length < needed:
                continue
            first = a + before
            last = b - tail
            if first < window_start:
                first = window_start
            if last > window_end:
                last = window_end
            if first < last:
                ranges.append((first, last, length))
    return resources


def _coverage(resources: Sequence[_Resource], need: int) -> list[Moments]:
    """Ranges where at least ``need`` of ``resources`` have a feasible start range.

    A resource's ranges are disjoint, so the count is a count of distinct resources.
    """
    starts = sorted(r[0] for res in resources for r in res.ranges)
    if len(starts) < need:
        return []
    ends = sorted(r[1] for res in resources for r in res.ranges)
    out: list[Moments] = []
    n = len(starts)
    i = j = count = 0
    opened = starts[0]
    while j < n:
        if i < n and starts[i] < ends[j]:  # ends first on ties: ranges are half-open
            t = starts[i]
            i += 1
            count += 1
            if count == need:
                # Re-open a range that closed at this very instant instead of touching it.
                opened = out.pop()[0] if out and out[-1][1] == t else t
        else:
            t = ends[j]
            j += 1
            if count == need:
                out.append((opened, t))
            count -= 1
    return out


def _components(n_requirements: int, resources: Sequence[_Resource]) -> list[list[int]]:
    """Groups of requirements linked by sharing at least one candidate resource."""
    parent = list(range(n_requirements))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for mask in {res.mask for res in resources}:
        bits = [i for i in range(n_requirements) if mask >> i & 1]
        for bit in bits[1:]:
            parent[find(bit)] = find(bits[0])
    groups: dict[int, list[int]] = {}
    for i in range(n_requirements):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _hall_subsets(component: list[int], masks: set[int]) -> list[int]:
    """Connected subsets (as bitmasks) of an overlapping requirement component."""
    if len(component) == 1:
        return [1 << component[0]]
    if len(component) > MAX_OVERLAPPING_REQUIREMENTS:
        raise ValueError(
            f"more than {MAX_OVERLAPPING_REQUIREMENTS} requirements share candidate resources"
        )
    adjacent = dict.fromkeys(component, 0)
    for mask in masks:
        for i in component:
            if mask >> i & 1:
                adjacent[i] |= mask
    subsets: list[int] = []
    for selector in range(1, 1 << len(component)):
        members = [component[k] for k in range(len(component)) if selector >> k & 1]
        subset = sum(1 << i for i in members)
        # Connectivity check (flood fill over the "share a candidate" relation).
        reached = 1 << members[0]
        frontier = [members[0]]
        while frontier:
            i = frontier.pop()
            new = adjacent[i] & subset & ~reached
            reached |= new
            frontier.extend(k for k in members if new >> k & 1)
        if reached == subset:
            subsets.append(subset)
    return subsets


def _feasible_ranges(query: SlotQuery, resources: list[_Resource]) -> list[Moments]:
    """Start ranges (UTC, half-open) at which every requirement can be met at once."""
    requirements = query.requirements
    masks = {res.mask for res in resources}
    constraints: list[tuple[int, int]] = []  # (requirement subset bitmask, resources needed)
    for component in _components(len(requirements), resources):
        for subset in _hall_subsets(component, masks):
            need = sum(r.count for i, r in enumerate(requirements) if subset >> i & 1)
            constraints.append((subset, need))
    # Cheapest, most selective sweeps first; stop as soon as nothing is left.
    constraints.sort(key=lambda c: (c[0].bit_count(), -c[1]))
    result: list[Moments] | None = None
    for subset, need in constraints:
        covered = _coverage([res for res in resources if res.mask & subset], need)
        result = covered if result is None else intersect_spans(result, covered)
        if not result:
            return []
    return result or []


def _local_day_pieces(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[Moments, datetime]]:
    """Split ``[start, end)`` into pieces of constant UTC offset within one local date.

    Each piece comes with its grid anchor: the UTC instant at which that local date's
    midnight would fall under the piece's offset, so that a wall-clock minute-of-day m
    is at ``anchor + m minutes`` throughout the piece. Assumes a zone changes offset at
    most once between two probes (true for real zones: at most once per local day).
    """
    pieces: list[tuple[Moments, datetime]] = []
    t = start
    while t < end:
        local = t.astimezone(tz)
        offset = local.utcoffset() or _ZERO
        anchor = datetime.combine(local.date(), time(0), tzinfo=UTC) - offset
        piece_end = min(end, anchor + _ONE_DAY)
        probe = piece_end - _ONE_US
        if probe.astimezone(tz).utcoffset() != offset:
            # Binary search the first instant with a different offset.
            good, bad = t, probe
            while bad - good > _ONE_US:
                mid = good + (bad - good) // 2
                if mid.astimezone(tz).utcoffset() == offset:
                    good = mid
                else:
                    bad = mid
            piece_end = bad
        pieces.append(((t, piece_end), anchor))
        t = piece_end
    return pieces


def _grid_starts(ranges: list[Moments], query: SlotQuery) -> list[datetime]:
    """All grid-aligned instants inside the (sorted, disjoint, half-open) ``ranges``."""
    if not ranges:
        return []
    grid = query.grid
    pieces = _local_day_pieces(ranges[0][0], ranges[-1][1], query.tz)
    out: list[datetime] = []
    i = 0
    n_pieces = len(pieces)
    for r_start, r_end in ranges:
        while i < n_pieces and pieces[i][0][1] <= r_start:
            i += 1
        k = i
        while k < n_pieces:
            (p_start, p_end), anchor = pieces[k]
            if p_start >= r_end:
                break
            lo = max(p_start, r_start)
            hi = min(p_end, r_end)
            rest = (lo - anchor) % grid
            t = lo + (grid - rest) if rest else lo
            while t < hi:
                out.append(t)
                t += grid
            if p_end > r_end:
                break
            k += 1
        i = k
    return out


def _match(
    requirements: Sequence[Requirement], candidates: Iterable[tuple[int, int, timedelta]]
) -> tuple[int, ...] | None:
    """One assignment of distinct resources to requirement places, or None.

    ``candidates`` are (resource_id, requirement mask, free block length) of resources
    free at the start in question. Kuhn's augmenting paths, candidates tried best-fit
    first (shortest free block, then lowest id).
    """
    ranked = sorted(candidates, key=lambda c: (c[2], c[0]))
    per_requirement = [
        [rid for rid, mask, _ in ranked if mask >> i & 1] for i in range(len(requirements))
    ]
    places = [i for i, req in enumerate(requirements) for _ in range(req.count)]
    owner: dict[int, int] = {}  # resource id -> place index

    def augment(place: int, visited: set[int]) -> bool:
        candidates = per_requirement[places[place]]
        # A free candidate first, so earlier places keep their best fit when possible...
        for rid in candidates:
            if rid not in owner:
                owner[rid] = place
                return True
        # ...otherwise re-route an owner along an augmenting path.
        for rid in candidates:
            if rid in visited:
                continue
            visited.add(rid)
            if augment(owner[rid], visited):
                owner[rid] = place
                return True
        return False

    for place in range(len(places)):
        if len(per_requirement[places[place]]) < requirements[places[place]].count:
            return None
        if not augment(place, set()):
            return None
    assigned = [0] * len(places)
    for rid, place in owner.items():
        assigned[place] = rid
    return tuple(assigned)


# ------------------------------------------------------------------------------ public


def find_slot_starts(query: SlotQuery, calendars: Iterable[ResourceCalendar]) -> list[datetime]:
    """Sorted grid-aligned start times (UTC) in the window at which all requirements fit.

    Does not compute concrete resource assignments (see :func:`find_slots`).
    """
    resources = _prepare(query, calendars)
    return _grid_starts(_feasible_ranges(query, resources), query)


def find_slots(
    query: SlotQuery, calendars: Iterable[ResourceCalendar], *, limit: int | None = None
) -> list[Slot]:
    """Like :func:`find_slot_starts`, with one best-fit resource assignment per start.

    ``limit`` caps the number of slots returned (the earliest ones).
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    resources = _prepare(query, calendars)
    starts = _grid_starts(_feasible_ranges(query, resources), query)
    if limit is not None:
        starts = starts[:limit]
    if not starts:
        return []
    # Sweep the starts in order, keeping the set of resources free at the current start.
    events: list[tuple[datetime, int, int, timedelta]] = []  # (time, 0=leave/1=enter, idx, len)
    for idx, res in enumerate(resources):
        for r_start, r_end, length in res.ranges:
            if r_end > starts[0] and r_start <= starts[-1]:
                events.append((r_start, 1, idx, length))
                events.append((r_end, 0, idx, length))
    events.sort()
    active: dict[int, timedelta] = {}
    slots: list[Slot] = []
    k = 0
    n_events = len(events)
    for start in starts:
        while k < n_events and events[k][0] <= start:
            _, enter, idx, length = events[k]
            if enter:
                active[idx] = length
            else:
                active.pop(idx, None)
            k += 1
        ids = _match(
            query.requirements,
            ((resources[idx].resource_id, resources[idx].mask, ln) for idx, ln in active.items()),
        )
        if ids is None:  # pragma: no cover - the sweep guarantees an assignment exists
            raise AssertionError(f"no assignment at feasible start {start}")
        slots.append(Slot(start, start + query.duration, ids))
    return slots


def assign_resources(
    query: SlotQuery, calendars: Iterable[ResourceCalendar], start: datetime
) -> tuple[int, ...] | None:
    """Best-fit distinct resources for a booking at ``start``, or None if none exists.

    Only checks that ``query.blocked(start)`` lies inside one (merged) working interval
    and overlaps no busy interval of each chosen resource; the window and grid of
    ``query`` are not applied (so a booked slot can be re-validated on its own).
    """
    start = to_utc(start, "start")
    resources = _prepare(replace(query, window=Interval(start, start + _ONE_US)), calendars)
    candidates = [
        (res.resource_id, res.mask, length)
        for res in resources
        for r_start, r_end, length in res.ranges
        if r_start <= start < r_end
    ]
    return _match(query.requirements, candidates)
