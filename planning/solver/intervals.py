"""Half-open minute intervals ``(start, end)`` kept as sorted, disjoint tuples."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

Interval = tuple[int, int]


def normalise(intervals: Iterable[Interval], owner: str = "interval") -> tuple[Interval, ...]:
    """Sort and merge; drop empty intervals; raise ValueError when an end precedes its start."""
    cleaned: list[Interval] = []
    for start, end in intervals:
        if end < start:
            raise ValueError(f"{owner}: interval end {end} is before its start {start}")
        if end > start:
            cleaned.append((int(start), int(end)))
    return merge(cleaned)


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def subtract(base: Sequence[Interval], removed: Iterable[Interval]) -> tuple[Interval, ...]:
    """``base`` minus the union of ``removed`` (both may be unsorted)."""
    cuts = merge(removed)
    result: list[Interval] = []
    for start, end in merge(base):
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return tuple(result)


def intersect(left: Sequence[Interval], right: Sequence[Interval]) -> tuple[Interval, ...]:
    """Intersection of two sorted, disjoint interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(result)


def block_containing(
    blocks: Sequence[Interval], starts: Sequence[int], span: Interval
) -> Interval | None:
    """The block of a sorted, disjoint list that contains ``span`` entirely, if any.

    ``starts`` must be the list of block starts (kept separately so bisect is cheap).
    """
    index = bisect_right(starts, span[0]) - 1
    if index < 0:
        return None
    block = blocks[index]
    if span[1] <= block[1]:
        return block
    return None


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def total_length(intervals: Iterable[Interval]) -> int:
    return sum(end - start for start, end in intervals)
