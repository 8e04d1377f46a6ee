"""Interval maths for both pure cores, and the slot search's intervals of aware datetimes.

A *span* is a half-open ``(start, end)`` pair of ordered values: UTC datetimes in the slot
search, whole minutes in the planning solver. The span functions below (merge, subtract,
intersect, overlap, containing block) serve both; nothing else in the cores does this maths.

Every :class:`Interval` stores its endpoints normalised to UTC (``datetime.UTC``).
That makes comparison, hashing and ``+ timedelta`` arithmetic work on instants
(elapsed time) instead of local wall-clock time, which is what Python does for two
datetimes sharing a ``ZoneInfo`` and which goes wrong across daylight-saving changes.
Intervals constructed from local datetimes compare equal to the same instants in UTC.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

__all__ = [
    "Interval",
    "Span",
    "block_containing",
    "intersect_spans",
    "merge",
    "merge_sorted_spans",
    "merge_spans",
    "spans_overlap",
    "subtract",
    "subtract_merged_spans",
    "subtract_spans",
    "to_utc",
]

T = TypeVar("T", int, datetime)
# The allocation-light form of an interval: (start, end), start < end.
Span = tuple[T, T]


def to_utc(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` as a UTC datetime; raise ValueError if it is naive."""
    tz = value.tzinfo
    if tz is UTC:
        return value
    if tz is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Half-open interval ``[start, end)`` between two aware datetimes (stored in UTC).

    Raises ValueError when either endpoint is naive or when ``end <= start``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = self.start
        end = self.end
        if start.tzinfo is not UTC or end.tzinfo is not UTC:  # fast path: already UTC
            start = to_utc(start, "Interval.start")
            end = to_utc(end, "Interval.end")
            object.__setattr__(self, "start", start)
            object.__setattr__(self, "end", end)
        if end <= start:
            raise ValueError(f"Interval end must be after start: [{start}, {end})")

    def overlaps(self, other: Interval) -> bool:
        """True if the two intervals share at least one instant (touching is not overlapping)."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """True if ``other`` lies entirely inside this interval."""
        return self.start <= other.start and other.end <= self.end


def merge_sorted_spans(spans: Sequence[Span[T]]) -> list[Span[T]]:
    """Merge overlapping or touching spans; ``spans`` must be sorted by start."""
    out: list[Span[T]] = []
    if not spans:
        return out
    cur_start, cur_end = spans[0]
    for start, end in spans:
        if start <= cur_end:
            if end > cur_end:
                cur_end = end
        else:
            out.append((cur_start, cur_end))
            cur_start, cur_end = start, end
    out.append((cur_start, cur_end))
    return out


def merge_spans(spans: Iterable[Span[T]]) -> list[Span[T]]:
    """Sorted, disjoint spans covering the same points; touching ones are joined."""
    return merge_sorted_spans(sorted(spans))


def subtract_merged_spans(base: Sequence[Span[T]], holes: Sequence[Span[T]]) -> list[Span[T]]:
    """``base`` minus ``holes``; both sorted, disjoint and non-touching (e.g. merged).

    Linear two-pointer sweep: O(len(base) + len(holes)).
    """
    out: list[Span[T]] = []
    j = 0
    n_holes = len(holes)
    for b_start, b_end in base:
        # Holes ending at or before this base span cannot affect it (or any later one).
        while j < n_holes and holes[j][1] <= b_start:
            j += 1
        cur = b_start
        k = j
        while k < n_holes:
            h_start, h_end = holes[k]
            if h_start >= b_end:
                break
            if h_start > cur:
                out.append((cur, h_start))
            if h_end > cur:
                cur = h_end
            if h_end > b_end:
                break  # this hole may also cover the next base span
            k += 1
        j = k
        if cur < b_end:
            out.append((cur, b_end))
    return out


def subtract_spans(base: Iterable[Span[T]], holes: Iterable[Span[T]]) -> list[Span[T]]:
    """Points in ``base`` but in none of ``holes`` (both in any order, overlapping or not)."""
    return subtract_merged_spans(merge_spans(base), merge_spans(holes))


def intersect_spans(left: Sequence[Span[T]], right: Sequence[Span[T]]) -> list[Span[T]]:
    """Points in both; each list sorted and disjoint."""
    out: list[Span[T]] = []
    i = j = 0
    while i < len(left) and j < len(right):
        l_start, l_end = left[i]
        r_start, r_end = right[j]
        start = l_start if l_start > r_start else r_start
        end = l_end if l_end < r_end else r_end
        if start < end:
            out.append((start, end))
        if l_end < r_end:
            i += 1
        else:
            j += 1
    return out


def spans_overlap(a: Span[T], b: Span[T]) -> bool:
    """True if the spans share a point (touching is not overlapping)."""
    return a[0] < b[1] and b[0] < a[1]


def block_containing(
    blocks: Sequence[Span[T]], starts: Sequence[T], span: Span[T]
) -> Span[T] | None:
    """The block of a sorted, disjoint list that contains ``span`` entirely, if any.

    ``starts`` must be the list of block starts (kept separately so bisect is cheap).
    """
    index = bisect_right(starts, span[0]) - 1
    if index < 0:
        return None
    block = blocks[index]
    return block if span[1] <= block[1] else None


def _spans(intervals: Iterable[Interval]) -> list[Span[datetime]]:
    return [(iv.start, iv.end) for iv in intervals]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted list of disjoint intervals covering the same instants; touching ones are joined."""
    return [Interval(s, e) for s, e in merge_spans(_spans(intervals))]


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """Instants in ``base`` but in none of ``holes``, as a sorted list of disjoint intervals.

    Sorting is O(n log n); the subtraction itself is a single linear sweep.
    """
    return [Interval(s, e) for s, e in subtract_spans(_spans(base), _spans(holes))]
