"""Turning pool units into resource ids.

Members of a pool share the same free time, so any member free at an appointment's start stays
free for its whole span; handing out members in order of start time (interval partitioning)
always succeeds when the pool's capacity holds at every point in time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cores.solver.allocation import Allocation
from cores.solver.context import PlanningContext
from cores.solver.domain import AppointmentType


@dataclass(frozen=True, slots=True)
class Booked:
    type: AppointmentType
    start: int
    allocation: Allocation
    preferred: frozenset[str] = frozenset()


def assign_members(
    context: PlanningContext, booked: Mapping[str, Booked]
) -> dict[str, tuple[str, ...]]:
    """Resource ids per item, listed in the order of the type's requirements."""
    demands: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    for item_id, entry in booked.items():
        span = entry.type.resource_span(entry.start)
        for part_index, (_, pool, units) in enumerate(entry.allocation):
            for _ in range(units):
                demands[pool].append((span[0], span[1], item_id, part_index))
    given: dict[tuple[str, int], list[str]] = defaultdict(list)
    for pool, pool_demands in demands.items():
        members = context.pools[pool].member_ids
        for (item_id, part_index), member in _partition(members, pool_demands, booked):
            given[(item_id, part_index)].append(member)
    return {
        item_id: tuple(
            member
            for part_index in range(len(entry.allocation))
            for member in given[(item_id, part_index)]
        )
        for item_id, entry in booked.items()
    }


def _partition(
    members: Sequence[str],
    demands: list[tuple[int, int, str, int]],
    booked: Mapping[str, Booked],
) -> list[tuple[tuple[str, int], str]]:
    busy_until = dict.fromkeys(members, -(2**62))
    result: list[tuple[tuple[str, int], str]] = []
    for start, end, item_id, part_index in sorted(demands):
        free = [m for m in members if busy_until[m] <= start]
        if not free:
            raise AssertionError(f"pool over capacity at {start} (bug in the model)")
        preferred = [m for m in free if m in booked[item_id].preferred]
        member = (preferred or free)[0]
        busy_until[member] = end
        result.append(((item_id, part_index), member))
    return result
