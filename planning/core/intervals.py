"""Half-open time intervals on aware datetimes.

Every :class:`Interval` stores its endpoints normalised to UTC (``datetime.UTC``).
That makes comparison, hashing and ``+ timedelta`` arithmetic work on instants
(elapsed time) instead of local wall-clock time, which is what Python does for two
datetimes sharing a ``ZoneInfo`` and which goes wrong across daylight-saving changes.
Intervals constructed from local datetimes compare equal to the same instants in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Interval", "merge", "subtract"]

# A span is the internal, allocation-light form of an interval: (start, end) in UTC.
Span = tuple[datetime, datetime]


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


def merge_spans(spans: list[Span]) -> list[Span]:
    """Merge overlapping or touching spans; ``spans`` must be sorted by start."""
    out: list[Span] = []
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


def subtract_spans(base: list[Span], holes: list[Span]) -> list[Span]:
    """``base`` minus ``holes``; both sorted, disjoint and non-touching (e.g. merged).

    Linear two-pointer sweep: O(len(base) + len(holes)).
    """
    out: list[Span] = []
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


def _sorted_spans(intervals: Iterable[Interval]) -> list[Span]:
    return sorted((iv.start, iv.end) for iv in intervals)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted list of disjoint intervals covering the same instants; touching ones are joined."""
    return [Interval(s, e) for s, e in merge_spans(_sorted_spans(intervals))]


def subtract(base: Iterable[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """Instants in ``base`` but in none of ``holes``, as a sorted list of disjoint intervals.

    Sorting is O(n log n); the subtraction itself is a single linear sweep.
    """
    base_spans = merge_spans(_sorted_spans(base))
    hole_spans = merge_spans(_sorted_spans(holes))
    return [Interval(s, e) for s, e in subtract_spans(base_spans, hole_spans)]
