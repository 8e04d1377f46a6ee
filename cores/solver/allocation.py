"""Choosing which pools supply the resources of an appointment.

An allocation is a tuple of parts ``(requirement index, pool index, units)``. Units taken from
one pool by several requirements add up, which is how "distinct resources" is enforced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

Part = tuple[int, int, int]
Allocation = tuple[Part, ...]


def pool_units(allocation: Allocation) -> dict[int, int]:
    units: dict[int, int] = {}
    for _, pool, count in allocation:
        units[pool] = units.get(pool, 0) + count
    return units


def iter_allocations(
    pools_per_requirement: Sequence[Sequence[int]],
    counts: Sequence[int],
    capacity: Callable[[int], int],
) -> Iterator[Allocation]:
    """All allocations in preference order (earlier pools first), given free units per pool."""
    remaining: dict[int, int] = {}
    for pools in pools_per_requirement:
        for pool in pools:
            if pool not in remaining:
                remaining[pool] = capacity(pool)
    yield from _allocate(pools_per_requirement, counts, 0, remaining, ())


def _allocate(
    pools_per_requirement: Sequence[Sequence[int]],
    counts: Sequence[int],
    requirement: int,
    remaining: dict[int, int],
    chosen: Allocation,
) -> Iterator[Allocation]:
    if requirement == len(counts):
        yield chosen
        return
    pools = pools_per_requirement[requirement]
    for parts in _split(pools, 0, counts[requirement], remaining, requirement):
        for _, pool, units in parts:
            remaining[pool] -= units
        yield from _allocate(
            pools_per_requirement, counts, requirement + 1, remaining, chosen + parts
        )
        for _, pool, units in parts:
            remaining[pool] += units


def _split(
    pools: Sequence[int], first: int, needed: int, remaining: dict[int, int], requirement: int
) -> Iterator[Allocation]:
    """Ways to take ``needed`` units from ``pools[first:]`` (a multiset, pools in order)."""
    if needed == 0:
        yield ()
        return
    for index in range(first, len(pools)):
        pool = pools[index]
        for units in range(min(needed, remaining[pool]), 0, -1):
            for rest in _split(pools, index + 1, needed - units, remaining, requirement):
                yield ((requirement, pool, units), *rest)


def first_allocation(
    pools_per_requirement: Sequence[Sequence[int]],
    counts: Sequence[int],
    capacity: Callable[[int], int],
) -> Allocation | None:
    return next(iter_allocations(pools_per_requirement, counts, capacity), None)
