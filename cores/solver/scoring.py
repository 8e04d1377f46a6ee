"""Integer scores of a placement (start + allocation); higher is better.

The same functions score the greedy baseline, the CP-SAT candidates and the offers, so
objective values are comparable across methods.
"""

from __future__ import annotations

from cores.solver.allocation import Allocation
from cores.solver.context import PlanningContext
from cores.solver.domain import ObjectiveWeights, TimeModel
from cores.solver.items import ItemSpec

MAX_FIT_POINTS = 4
MAX_EARLINESS_POINTS = 10


def fit_points(item: ItemSpec, time: TimeModel, start: int) -> int:
    """0-4: 2 for lying inside the patient's stated availability, 1 each for the preferred
    weekday and part of day. A wish the patient did not state counts as met.
    """
    preferences = item.preferences
    points = 2 if item.fits_availability(start) else 0
    if not preferences.weekdays or time.weekday_of(start) in preferences.weekdays:
        points += 1
    if preferences.part_of_day is None or time.part_of_day(start) == preferences.part_of_day:
        points += 1
    return points


def earliness_points(item: ItemSpec, start: int) -> int:
    """10 at the start of the window falling to 0 at the deadline (or the window's end)."""
    first, last = item.window
    horizon = item.deadline if item.deadline is not None and item.deadline > first else last
    length = max(1, horizon - first)
    return max(0, MAX_EARLINESS_POINTS - (MAX_EARLINESS_POINTS * (start - first)) // length)


def start_score(item: ItemSpec, time: TimeModel, start: int, weights: ObjectiveWeights) -> int:
    """The part of the batch score that depends on the start only."""
    return StartScorer(item, time, weights)(start)


class StartScorer:
    """``start_score`` for one item with the per-item arithmetic done once (hot loop)."""

    __slots__ = (
        "_deadline",
        "_earliness",
        "_first",
        "_fit_weight",
        "_item",
        "_length",
        "_met",
        "_part",
        "_placed",
        "_time",
        "_weekdays",
    )

    def __init__(self, item: ItemSpec, time: TimeModel, weights: ObjectiveWeights) -> None:
        self._item = item
        self._time = time
        self._placed = item.weight * weights.placed
        self._met = item.weight * weights.deadline_met
        self._deadline = item.deadline
        self._fit_weight = weights.availability_fit
        self._earliness = weights.earliness
        self._weekdays = item.preferences.weekdays
        self._part = item.preferences.part_of_day
        first, last = item.window
        horizon = item.deadline if item.deadline is not None and item.deadline > first else last
        self._first = first
        self._length = max(1, horizon - first)

    def __call__(self, start: int) -> int:
        early = (
            MAX_EARLINESS_POINTS - (MAX_EARLINESS_POINTS * (start - self._first)) // self._length
        )
        score = self._placed + self._earliness * max(0, early)
        if self._deadline is None or start <= self._deadline:
            score += self._met
        points = 2 if self._item.fits_availability(start) else 0
        if not self._weekdays or self._time.weekday_of(start) in self._weekdays:
            points += 1
        if self._part is None or self._time.part_of_day(start) == self._part:
            points += 1
        return score + self._fit_weight * points


def resource_score(
    context: PlanningContext,
    item: ItemSpec,
    start: int,
    allocation: Allocation,
    weights: ObjectiveWeights,
) -> int:
    """Compactness of the days of resources of ``weights.compact_kinds`` and continuity."""
    score = 0
    preferred = item.preferences.resource_ids
    uses_preferred = False
    for _, pool_index, _units in allocation:
        pool = context.pools[pool_index]
        if pool.kind in weights.compact_kinds:
            score += weights.compactness * context.compact_edges(item.type.id, pool_index, start)
        if preferred and not preferred.isdisjoint(pool.member_ids):
            uses_preferred = True
    if uses_preferred:
        score += weights.continuity
    return score


def batch_score(
    context: PlanningContext,
    item: ItemSpec,
    start: int,
    allocation: Allocation,
    weights: ObjectiveWeights,
) -> int:
    return start_score(item, context.time, start, weights) + resource_score(
        context, item, start, allocation, weights
    )
