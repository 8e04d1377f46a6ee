"""Candidate placements (start + allocation) for the CP-SAT models.

Batch planning cannot afford every (start, resources) pair of 2,000 tasks, so it keeps a
bounded, diverse subset per task: per day the best few starts (the score is constant on
segments of a day, so segments are ranked instead of single starts; starts at the edges of
free blocks come first), per start a few allocations. ``rotation`` differs per task so that
tasks with the same type look at different times and resources and, together, cover the
capacity. The bound CP-SAT proves is a bound of this candidate model.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from cores.solver.allocation import Allocation, iter_allocations
from cores.solver.context import PlanningContext, StartTable
from cores.solver.domain import ObjectiveWeights, SolveParams, TimeModel
from cores.solver.items import ItemSpec
from cores.solver.scoring import StartScorer, resource_score

_MAX_ENUMERATED_ALLOCATIONS = 64


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    allocation: Allocation
    score: int


def group_by_day(starts: Sequence[int], time: TimeModel) -> Iterator[Sequence[int]]:
    """Consecutive runs of sorted ``starts`` that fall on the same (local) day."""
    if not starts:
        return
    begin = 0
    for day in range(time.day_of(starts[0]), time.day_of(starts[-1]) + 1):
        end = bisect_left(starts, time.day_start(day + 1), lo=begin)
        if end > begin:
            yield starts[begin:end]
        begin = end


_Groups = tuple[tuple[int, tuple[int, ...]], ...]
_Pick = tuple[int, Allocation, int]


class CandidateCache:
    """What tasks of one type share: ranked allocations at a start and the picks of a day.

    Per (type, start) the pools of every requirement are grouped by how compact a booking
    would be (block edges touched); a task rotates the pools inside a group by its rotation,
    so equally good resources are spread over the tasks. A day on which nothing about the task
    changes the score of a start (no availability boundary, deadline or part-of-day wish, no
    patient restriction) gets the picks cached for its type, day and rotation bucket.
    """

    rotation_buckets = 4

    def __init__(
        self, context: PlanningContext, weights: ObjectiveWeights, params: SolveParams
    ) -> None:
        self.context = context
        self.weights = weights
        self.params = params
        self._groups: dict[tuple[str, int], tuple[_Groups, ...]] = {}
        self._day_picks: dict[tuple[str, int, int, int], list[_Pick]] = {}
        self._day_sizes: dict[tuple[str, int], dict[int, int]] = {}
        self._allocations_at: dict[tuple[str, int, int], list[tuple[Allocation, int]]] = {}
        self._simple: dict[str, bool] = {}

    def day_size(self, table: StartTable, day: int) -> int:
        key = (table.type.id, table.grid)
        sizes = self._day_sizes.get(key)
        if sizes is None:
            time = self.context.time
            sizes = self._day_sizes[key] = {
                time.day_of(group[0]): len(group) for group in group_by_day(table.starts, time)
            }
        return sizes.get(day, 0)

    def plain_day_picks(
        self, item: ItemSpec, table: StartTable, day_starts: Sequence[int], rotation: int
    ) -> list[_Pick]:
        bucket = rotation % self.rotation_buckets
        day = self.context.time.day_of(day_starts[0])
        key = (table.type.id, table.grid, day, bucket)
        picks = self._day_picks.get(key)
        if picks is None:
            potential = self.context.edge_potential(table.type.id, self.weights.compact_kinds)
            edges = sorted((s for s in day_starts if s in potential), key=lambda s: -potential[s])
            starts = _spread_pick(day_starts, edges, self.params.starts_per_day, bucket)
            picks = [
                (start, allocation, score)
                for start in sorted(starts)
                for allocation, score in self.allocations(item, table, start, bucket)
            ]
            self._day_picks[key] = picks
        return picks

    def allocations(
        self, item: ItemSpec, table: StartTable, start: int, rotation: int
    ) -> list[tuple[Allocation, int]]:
        if item.preferences.resource_ids:
            return self._allocations(item, table, start, rotation)
        key = (table.type.id, start, rotation % self.rotation_buckets)
        found = self._allocations_at.get(key)
        if found is None:
            found = self._allocations_at[key] = self._allocations(item, table, start, key[2])
        return found

    def _allocations(
        self, item: ItemSpec, table: StartTable, start: int, rotation: int
    ) -> list[tuple[Allocation, int]]:
        context, weights = self.context, self.weights
        limit = self.params.allocations_per_start
        type_id = item.type.id
        simple = self._simple.get(type_id)
        if simple is None:
            simple = self._simple[type_id] = context.requirements_disjoint(type_id) and all(
                r.count == 1 for r in item.type.requirements
            )
        if not simple:
            allocations = ranked_allocations(context, item, table, start, weights, limit, rotation)
            return [(a, resource_score(context, item, start, a, weights)) for a in allocations]
        key = (type_id, start)
        groups = self._groups.get(key)
        if groups is None:
            groups = self._groups[key] = self._group(item, table, start)
        ordered = [_rotated(requirement_groups, rotation) for requirement_groups in groups]
        result = []
        for allocation in _diagonal_allocations([pools for pools, _ in ordered], limit):
            if item.preferences.resource_ids:
                score = resource_score(context, item, start, allocation, weights)
            else:
                score = sum(
                    weights.compactness * edges[pool]
                    for (_, pool, _), (_, edges) in zip(allocation, ordered, strict=True)
                )
            result.append((allocation, score))
        return result

    def _group(self, item: ItemSpec, table: StartTable, start: int) -> tuple[_Groups, ...]:
        context = self.context
        grouped = []
        for pools in table.pools_at[start]:
            edges: dict[int, list[int]] = {}
            for pool in pools:
                compact = context.pools[pool].kind in self.weights.compact_kinds
                value = context.compact_edges(item.type.id, pool, start) if compact else 0
                edges.setdefault(value, []).append(pool)
            grouped.append(
                tuple((value, tuple(edges[value])) for value in sorted(edges, reverse=True))
            )
        return tuple(grouped)


def _rotated(groups: _Groups, rotation: int) -> tuple[list[int], dict[int, int]]:
    """Pools best group first, each group rotated; and the edges of every pool."""
    pools: list[int] = []
    edges: dict[int, int] = {}
    for value, members in groups:
        offset = rotation % len(members)
        pools.extend(members[offset:])
        pools.extend(members[:offset])
        for pool in members:
            edges[pool] = value
    return pools, edges


def batch_candidates(
    item: ItemSpec, table: StartTable, rotation: int, cache: CandidateCache
) -> list[Candidate]:
    context = cache.context
    per_day: list[list[Candidate]] = []
    starts = item.allowed_starts(table.starts)
    scorer = StartScorer(item, context.time, cache.weights)
    for day_starts in group_by_day(starts, context.time):
        segments = _constant_score_segments(context, item, day_starts)
        day = context.time.day_of(day_starts[0])
        if (
            len(segments) == 1
            and not item.preferences.resource_ids
            and len(day_starts) == cache.day_size(table, day)
        ):
            picks = cache.plain_day_picks(item, table, day_starts, rotation)
        else:
            picks = _day_picks(item, table, segments, scorer, rotation, cache)
        base = {start: scorer(start) for start, _, _ in picks}
        day_candidates = [Candidate(s, a, base[s] + score) for s, a, score in picks]
        day_candidates.sort(key=lambda c: -c.score)
        per_day.append(day_candidates)
    return _round_robin_by_tier(item, per_day, cache.params.max_candidates_per_item)


def _day_picks(
    item: ItemSpec,
    table: StartTable,
    segments: list[Sequence[int]],
    scorer: StartScorer,
    rotation: int,
    cache: CandidateCache,
) -> list[_Pick]:
    starts = _best_starts_of_day(cache, item, segments, scorer, rotation)
    return [
        (start, allocation, score)
        for start in starts
        for allocation, score in cache.allocations(item, table, start, rotation)
    ]


def _round_robin_by_tier(
    item: ItemSpec, per_day: list[list[Candidate]], limit: int
) -> list[Candidate]:
    """Take the best of every day, then the second best ... days meeting the deadline first."""
    result: list[Candidate] = []
    for tier in (True, False):
        queues = [[c for c in day if item.meets_deadline(c.start) == tier] for day in per_day]
        depth = 0
        while len(result) < limit and any(depth < len(q) for q in queues):
            for queue in queues:
                if depth < len(queue) and len(result) < limit:
                    result.append(queue[depth])
            depth += 1
    return result


def _best_starts_of_day(
    cache: CandidateCache,
    item: ItemSpec,
    segments: list[Sequence[int]],
    scorer: StartScorer,
    rotation: int,
) -> list[int]:
    potential = cache.context.edge_potential(item.type.id, cache.weights.compact_kinds)
    ranked = sorted(segments, key=lambda seg: -scorer(seg[0]))
    picked: list[int] = []
    for segment in ranked:
        wanted = cache.params.starts_per_day - len(picked)
        if wanted <= 0:
            break
        edges = sorted((s for s in segment if s in potential), key=lambda s: -potential[s])
        picked.extend(_spread_pick(segment, edges, wanted, rotation))
    return sorted(picked)


def _constant_score_segments(
    context: PlanningContext, item: ItemSpec, day_starts: Sequence[int]
) -> list[Sequence[int]]:
    """Split a day's starts where deadline, availability or part of day change."""
    first, last = day_starts[0], day_starts[-1]
    cuts: set[int] = set()
    if item.preferences.part_of_day is not None:
        cuts.add(context.time.midday_of(context.time.day_of(first)))
    if item.deadline is not None:
        cuts.add(item.deadline + 1)
    for low, high in item.fit_starts or ():
        if first < high and low <= last:
            cuts.update((low, high))
    cuts = {c for c in cuts if first < c <= last}
    if not cuts:
        return [day_starts]
    segments: list[Sequence[int]] = []
    begin = 0
    for cut in sorted(cuts):
        index = bisect_left(day_starts, cut)
        if index > begin:
            segments.append(day_starts[begin:index])
            begin = index
    segments.append(day_starts[begin:])
    return segments


def _spread_pick(
    segment: Sequence[int], preferred: list[int], wanted: int, rotation: int
) -> list[int]:
    """``wanted`` starts: preferred ones first (at most half), then evenly spaced, rotated."""
    if len(segment) <= wanted:
        return list(segment)
    picked = preferred[: max(1, wanted // 2)] if preferred else []
    remaining = [s for s in segment if s not in picked]
    step = len(remaining) / max(1, wanted - len(picked))
    offset = rotation % len(remaining)
    index = 0.0
    while len(picked) < wanted and remaining:
        picked.append(remaining[(offset + int(index)) % len(remaining)])
        index += step
    return list(dict.fromkeys(picked))


def ranked_allocations(
    context: PlanningContext,
    item: ItemSpec,
    table: StartTable,
    start: int,
    weights: ObjectiveWeights,
    limit: int,
    rotation: int,
) -> list[Allocation]:
    """Up to ``limit`` allocations at ``start``, best resource score first, preferring
    allocations whose first requirement uses different pools (different clinicians).
    """
    requirements = item.type.requirements
    ordered = [
        _ordered_pools(context, item.type.id, pools, start, weights, rotation)
        for pools in table.pools_at[start]
    ]
    if context.requirements_disjoint(item.type.id) and all(r.count == 1 for r in requirements):
        return _diagonal_allocations(ordered, limit)
    pools_per_requirement = [
        pools[: limit + r.count - 1] for pools, r in zip(ordered, requirements, strict=True)
    ]
    counts = [r.count for r in requirements]
    options = list(
        islice(
            iter_allocations(pools_per_requirement, counts, context.pool_size),
            _MAX_ENUMERATED_ALLOCATIONS,
        )
    )
    options.sort(key=lambda a: -resource_score(context, item, start, a, weights))
    return _distinct_first(options, limit)


def _diagonal_allocations(ordered: list[list[int]], limit: int) -> list[Allocation]:
    """With one unit per requirement and no shared pools, the j-th allocation takes the j-th
    best pool of every requirement: best first, and the alternatives differ in every resource.
    """
    count = min(limit, max(len(pools) for pools in ordered))
    return [
        tuple((index, pools[j % len(pools)], 1) for index, pools in enumerate(ordered))
        for j in range(count)
    ]


def _ordered_pools(
    context: PlanningContext,
    type_id: str,
    pools: tuple[int, ...],
    start: int,
    weights: ObjectiveWeights,
    rotation: int,
) -> list[int]:
    if not pools:
        return []
    offset = rotation % len(pools)
    rotated = [*pools[offset:], *pools[:offset]]
    if context.pools[pools[0]].kind not in weights.compact_kinds:
        return rotated
    return sorted(rotated, key=lambda pool: -context.compact_edges(type_id, pool, start))


def _distinct_first(options: list[Allocation], limit: int) -> list[Allocation]:
    chosen: list[Allocation] = []
    seen: set[tuple[int, ...]] = set()
    for allocation in options:
        key = tuple(pool for requirement, pool, _ in allocation if requirement == 0)
        if key not in seen:
            seen.add(key)
            chosen.append(allocation)
        if len(chosen) == limit:
            return chosen
    for allocation in options:
        if len(chosen) == limit:
            break
        if allocation not in chosen:
            chosen.append(allocation)
    return chosen


def all_candidates(
    context: PlanningContext,
    item: ItemSpec,
    starts: Sequence[int],
    score: Callable[[int, Allocation], int],
) -> list[Candidate]:
    """Every allocation at every given start that the pools allow (for small models)."""
    candidates: list[Candidate] = []
    counts = [r.count for r in item.type.requirements]
    for start in starts:
        pools = context.pools_free_at(item.type.id, start)
        if pools is None:
            continue
        for allocation in iter_allocations(pools, counts, context.pool_size):
            candidates.append(Candidate(start, allocation, score(start, allocation)))
    return candidates
