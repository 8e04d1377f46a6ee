"""Mutable bookkeeping of units taken from pools and of patients' new appointments.

Used by the greedy baseline, the offers' protection plan and the final checks; the CP-SAT
models express the same rules as constraints.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from cores.intervals import spans_overlap
from cores.solver.allocation import Allocation
from cores.solver.context import Pool
from cores.solver.domain import Minutes

_Entry = tuple[int, int, int]


class PoolUsage:
    """Units in use per pool over time; a pool of size ``n`` may have ``n`` overlapping units.

    Entries are kept sorted by start, with a parallel list of starts for cheap bisection.
    """

    def __init__(self, pools: Sequence[Pool]) -> None:
        self._sizes = [pool.size for pool in pools]
        self._entries: list[list[_Entry]] = [[] for _ in pools]
        self._starts: list[list[int]] = [[] for _ in pools]
        self._longest = [0 for _ in pools]

    def free_units(self, pool: int, span: Minutes) -> int:
        starts = self._starts[pool]
        if not starts:
            return self._sizes[pool]
        if self._sizes[pool] == 1:
            # Entries of a single resource never overlap, so ends grow with starts: only the
            # last entry starting before the span ends can reach into it.
            index = bisect_left(starts, span[1])
            return 0 if index and self._entries[pool][index - 1][1] > span[0] else 1
        overlapping = self._overlapping(pool, span)
        if not overlapping:
            return self._sizes[pool]
        return self._sizes[pool] - _peak_load(overlapping, span)

    def first_free(self, pools: Sequence[int], span: Minutes) -> tuple[int, int] | None:
        """The first of ``pools`` with a unit free over ``span``, and its free units: the
        inner loop of first fit, with the one-resource case inlined."""
        sizes, all_starts, all_entries = self._sizes, self._starts, self._entries
        span_start, span_end = span
        for pool in pools:
            starts = all_starts[pool]
            if not starts:
                return pool, sizes[pool]
            if sizes[pool] == 1:
                index = bisect_left(starts, span_end)
                if index and all_entries[pool][index - 1][1] > span_start:
                    continue
                return pool, 1
            free = self.free_units(pool, span)
            if free > 0:
                return pool, free
        return None

    def _overlapping(self, pool: int, span: Minutes) -> list[_Entry]:
        entries = self._entries[pool]
        index = bisect_left(self._starts[pool], span[1])
        lowest_start = span[0] - self._longest[pool]
        found: list[_Entry] = []
        while index > 0:
            index -= 1
            entry = entries[index]
            if entry[0] < lowest_start:
                break
            if entry[1] > span[0]:
                found.append(entry)
        return found

    def entry_starts(self, pool: int, span: Minutes) -> list[int]:
        """Starts of the bookings of ``pool`` that begin within ``span``."""
        starts = self._starts[pool]
        return starts[bisect_left(starts, span[0]) : bisect_left(starts, span[1])]

    def add(self, pool: int, span: Minutes, units: int) -> None:
        entry = (span[0], span[1], units)
        index = bisect_left(self._entries[pool], entry)
        self._entries[pool].insert(index, entry)
        self._starts[pool].insert(index, span[0])
        self._longest[pool] = max(self._longest[pool], span[1] - span[0])

    def remove(self, pool: int, span: Minutes, units: int) -> None:
        index = bisect_left(self._entries[pool], (span[0], span[1], units))
        del self._entries[pool][index]
        del self._starts[pool][index]

    def fits(self, allocation: Allocation, span: Minutes) -> bool:
        needed: dict[int, int] = {}
        for _, pool, units in allocation:
            needed[pool] = needed.get(pool, 0) + units
        return all(self.free_units(pool, span) >= units for pool, units in needed.items())

    def book(self, allocation: Allocation, span: Minutes) -> None:
        for _, pool, units in allocation:
            self.add(pool, span, units)

    def release(self, allocation: Allocation, span: Minutes) -> None:
        for _, pool, units in allocation:
            self.remove(pool, span, units)


def _peak_load(entries: Sequence[_Entry], span: Minutes) -> int:
    events: list[tuple[int, int]] = []
    for start, end, units in entries:
        events.append((max(start, span[0]), units))
        events.append((min(end, span[1]), -units))
    events.sort(key=lambda event: (event[0], event[1]))
    load = peak = 0
    for _, change in events:
        load += change
        peak = max(peak, load)
    return peak


class PatientUsage:
    """New appointments per patient, so one patient is never booked twice at once."""

    def __init__(self) -> None:
        self._spans: dict[str, list[Minutes]] = {}

    def is_free(self, patient_id: str, span: Minutes) -> bool:
        taken = self._spans.get(patient_id)
        return not taken or not any(spans_overlap(span, other) for other in taken)

    def book(self, patient_id: str, span: Minutes) -> None:
        self._spans.setdefault(patient_id, []).append(span)

    def release(self, patient_id: str, span: Minutes) -> None:
        self._spans[patient_id].remove(span)
