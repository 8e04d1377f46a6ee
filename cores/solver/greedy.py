"""First-fit placement: items in order of urgency, each at its earliest feasible start.

This is the plain baseline the benchmarks compare against, the full hint given to CP-SAT, and
the reference plan the offers' protection check works with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cores.solver.allocation import Allocation, first_allocation
from cores.solver.context import PlanningContext, StartTable
from cores.solver.items import ItemSpec
from cores.solver.occupancy import PatientUsage, PoolUsage


@dataclass(frozen=True, slots=True)
class Placement:
    start: int
    allocation: Allocation


def urgency_key(item: ItemSpec) -> tuple[float, int, int, str]:
    """Earliest deadline first, then higher priority, then earliest window."""
    deadline = float("inf") if item.deadline is None else float(item.deadline)
    return (deadline, -item.priority, item.window[0], item.id)


def first_fit(
    context: PlanningContext,
    item: ItemSpec,
    starts: Iterable[int],
    table: StartTable,
    usage: PoolUsage,
    patients: PatientUsage,
    full: set[int] | None = None,
) -> Placement | None:
    """The first of ``starts`` (resource-feasible) at which pools and patient are free.

    ``full``: starts of this type and grid at which no allocation is free; read and added to,
    valid only while ``usage`` only gains bookings (building a plan)."""
    counts = [r.count for r in item.type.requirements]
    disjoint = context.requirements_disjoint(item.type.id)
    for start in starts:
        if full is not None and start in full:
            continue
        if not patients.is_free(item.patient_id, item.type.patient_span(start)):
            continue
        span = item.type.resource_span(start)
        if disjoint:
            allocation = _first_disjoint(table.pools_at[start], counts, usage, span)
        else:
            allocation = _first_general(table.pools_at[start], counts, usage, span)
        if allocation is not None:
            return Placement(start, allocation)
        if full is not None:
            full.add(start)
    return None


def _first_disjoint(
    pools_per_requirement: tuple[tuple[int, ...], ...],
    counts: list[int],
    usage: PoolUsage,
    span: tuple[int, int],
) -> Allocation | None:
    """First allocation when no pool serves two requirements: fill each one in pool order."""
    parts: list[tuple[int, int, int]] = []
    if len(counts) == 1 and counts[0] == 1:
        found = usage.first_free(pools_per_requirement[0], span)
        return None if found is None else ((0, found[0], 1),)
    for index, (pools, count) in enumerate(zip(pools_per_requirement, counts, strict=True)):
        if count == 1:
            found = usage.first_free(pools, span)
            if found is None:
                return None
            parts.append((index, found[0], 1))
            continue
        needed = count
        for pool in pools:
            free = usage.free_units(pool, span)
            if free > 0:
                take = min(free, needed)
                parts.append((index, pool, take))
                needed -= take
                if needed == 0:
                    break
        if needed:
            return None
    return tuple(parts)


def _first_general(
    pools_per_requirement: tuple[tuple[int, ...], ...],
    counts: list[int],
    usage: PoolUsage,
    span: tuple[int, int],
) -> Allocation | None:
    free = {pool: usage.free_units(pool, span) for pools in pools_per_requirement for pool in pools}
    pools = [[pool for pool in pools if free[pool] > 0] for pools in pools_per_requirement]
    return first_allocation(pools, counts, free.__getitem__)


def latest_first_key(item: ItemSpec) -> tuple[int, int, str]:
    """Mirror image of ``urgency_key`` for placing as late as possible: latest window first."""
    return (-item.window[0], -item.priority, item.id)


def greedy_placements(
    context: PlanningContext,
    items: Sequence[ItemSpec],
    grid: int | None,
    usage: PoolUsage | None = None,
    patients: PatientUsage | None = None,
    *,
    as_late_as_possible: bool = False,
    proceed: Callable[[ItemSpec], bool] | None = None,
) -> dict[str, Placement]:
    """Place items in urgency order, each at its earliest free start; ``usage``/``patients``
    are updated in place if given. ``grid`` None means each appointment type's own grid.

    ``as_late_as_possible`` is the mirror image (latest window first, latest free start):
    a reference plan that leaves the early times free. ``proceed`` is asked before each
    item; when it says no, the items from there on are not placed.
    """
    usage = usage if usage is not None else PoolUsage(context.pools)
    patients = patients if patients is not None else PatientUsage()
    placements: dict[str, Placement] = {}
    full: dict[tuple[str, int], set[int]] = defaultdict(set)
    order = latest_first_key if as_late_as_possible else urgency_key
    for item in sorted(items, key=order):
        if proceed is not None and not proceed(item):
            break
        table = context.start_table(item.type.id, grid or item.type.grid_minutes)
        starts = item.allowed_starts(table.starts)
        if as_late_as_possible:
            starts.reverse()
        placement = first_fit(
            context, item, starts, table, usage, patients, full[(item.type.id, table.grid)]
        )
        if placement is not None:
            usage.book(placement.allocation, item.type.resource_span(placement.start))
            patients.book(item.patient_id, item.type.patient_span(placement.start))
            placements[item.id] = placement
    return placements
