"""Offering a patient the K best times for one booking task.

Ranking: meeting the deadline first, then fit to the patient's stated availability, earliness
within the window, compactness of the clinicians' days, continuity and balance between
clinicians. Selection spreads the offers: first at most one per day, then up to
``max_per_day`` per day (at least ``min_gap_minutes`` apart), alternating morning and
afternoon when that costs at most one availability-fit point; after those, every other
acceptable time in rank order, so that paging on (or a window of one day) reaches them all. A
time is only offered if the more urgent pending tasks can still meet their deadlines without it
(``protection``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice

from cores.intervals import intersect_spans
from cores.solver.allocation import Allocation, iter_allocations
from cores.solver.context import PlanningContext
from cores.solver.domain import Instance, ObjectiveWeights, PartOfDay
from cores.solver.explain import explain_no_candidates
from cores.solver.items import ItemSpec, task_item
from cores.solver.outcome import resource_ids_for
from cores.solver.protection import Protection, is_more_urgent
from cores.solver.results import Offer, OffersResult, Reason, Unplaced
from cores.solver.scoring import resource_score, start_score

_MAX_ALLOCATIONS_PER_START = 64


@dataclass(frozen=True, slots=True)
class _Option:
    start: int
    day: int
    part: PartOfDay
    met: bool
    score: int
    # The allocations to try, best first (made only when they are tried: most never are).
    allocations: Callable[[], Iterable[Allocation]]


@dataclass(frozen=True, slots=True)
class _Rules:
    max_per_day: int
    min_gap_minutes: int
    mix_tolerance: int


def offers(
    instance: Instance,
    task_id: str,
    *,
    k: int | None = None,
    offset: int = 0,
    weekdays: Iterable[int] | None = None,
    part_of_day: PartOfDay | None = None,
    now: int | None = None,
    max_per_day: int = 2,
    min_gap_minutes: int = 90,
    protect: bool = True,
    weights: ObjectiveWeights | None = None,
    exact: bool = True,
) -> OffersResult:
    """Up to ``k`` offers (default: the type's ``offers_count``) after skipping ``offset``.

    The ranking is deterministic, so ``offset`` pages through it. ``weekdays`` (0 = Monday)
    and ``part_of_day`` filter the times the patient wants to see. ``exact`` (the default)
    decides protection exactly (``Protection``); without it only the greedy reference plan and
    its repair are used, which is faster on a cold start and can miss arrangements.
    """
    started = time.perf_counter()
    weights = weights or ObjectiveWeights()
    if offset < 0 or (k is not None and k < 1) or max_per_day < 1 or min_gap_minutes < 0:
        raise ValueError("offset and min_gap_minutes must be >= 0, k and max_per_day >= 1")
    prepared = _prepare(instance, task_id, now, exact)
    with prepared.lock:
        context, item = prepared.context, prepared.item
        wanted = offset + (k if k is not None else item.type.offers_count)
        options, filtered_reason = _ranked_options(context, item, weekdays, part_of_day, weights)
        protection = prepared.protection() if protect and options else None
        rules = _Rules(max_per_day, min_gap_minutes, weights.availability_fit)
        safe = _safety_check(item, protection)
        chosen, withheld = _select(options, wanted + 1, rules, safe)
        undecided = protection.undecided if protection else 0
    page = chosen[offset:wanted]
    return OffersResult(
        task_id=task_id,
        offers=_to_offers(context, item, page),
        has_more=len(chosen) > wanted,
        withheld=withheld,
        unprotected_task_ids=protection.unprotected_ids if protection else (),
        reason=_empty_reason(context, item, filtered_reason, withheld) if not page else None,
        wall_time_s=time.perf_counter() - started,
        undecided=undecided,
    )


def offer_at(
    instance: Instance,
    task_id: str,
    start: int,
    *,
    now: int | None = None,
    protect: bool = True,
    weights: ObjectiveWeights | None = None,
    exact: bool = True,
) -> Offer | None:
    """The offer at ``start`` if the task may have it, with the resources ``offers`` would
    give it: a start on the grid, in the window, where the patient and resources are free and
    which takes nothing more urgent pending tasks need. Checks this one start only, so a
    patient's choice is confirmed without ranking every other time again.
    """
    weights = weights or ObjectiveWeights()
    prepared = _prepare(instance, task_id, now, exact)
    with prepared.lock:
        context, item = prepared.context, prepared.item
        table = context.start_table(item.type.id, item.type.grid_minutes)
        pools = table.pools_at.get(start)
        if pools is None or not item.is_allowed(start):
            return None
        option = _option(context, item, pools, start, weights, _balance_points(context, item))
        protection = prepared.protection() if protect else None
        allocation = _safety_check(item, protection)(option)
    if allocation is None:
        return None
    return _to_offers(context, item, [(option, allocation)])[0]


def earliest_offers(
    instance: Instance,
    task_id: str,
    *,
    k: int | None = None,
    now: int | None = None,
    weights: ObjectiveWeights | None = None,
) -> OffersResult:
    """Baseline: the ``k`` earliest free times, no spreading and no protection of other tasks.
    Scores use the same ranking score as ``offers`` so the two can be compared.
    """
    started = time.perf_counter()
    weights = weights or ObjectiveWeights()
    context = PlanningContext(instance)
    item = task_item(context, instance.task(task_id), now)
    wanted = k if k is not None else item.type.offers_count
    table = context.start_table(item.type.id, item.type.grid_minutes)
    starts = item.allowed_starts(table.starts)
    balance = _balance_points(context, item)
    chosen = []
    for start in starts[: wanted + 1]:
        option = _option(context, item, table.pools_at[start], start, weights, balance)
        chosen.append((option, next(iter(option.allocations()))))
    page = chosen[:wanted]
    return OffersResult(
        task_id=task_id,
        offers=_to_offers(context, item, page),
        has_more=len(chosen) > wanted,
        withheld=0,
        unprotected_task_ids=(),
        reason=None if page else explain_no_candidates(context, item, table),
        wall_time_s=time.perf_counter() - started,
    )


def _ranked_options(
    context: PlanningContext,
    item: ItemSpec,
    weekdays: Iterable[int] | None,
    part_of_day: PartOfDay | None,
    weights: ObjectiveWeights,
) -> tuple[list[_Option], Unplaced | None]:
    table = context.start_table(item.type.id, item.type.grid_minutes)
    starts = item.allowed_starts(table.starts)
    if not starts:
        return [], explain_no_candidates(context, item, table)
    days = None if weekdays is None else frozenset(weekdays)
    time_model = context.time
    starts = [
        s
        for s in starts
        if (days is None or time_model.weekday_of(s) in days)
        and (part_of_day is None or time_model.part_of_day(s) == part_of_day)
    ]
    if not starts:
        return [], Unplaced(
            item.id, Reason.NO_TIME_MATCHES_FILTER, "no free time matches the filter"
        )
    balance = _balance_points(context, item)
    options = [_option(context, item, table.pools_at[s], s, weights, balance) for s in starts]
    options.sort(key=lambda o: (not o.met, -o.score, o.start))
    return options, None


def _option(
    context: PlanningContext,
    item: ItemSpec,
    pools: tuple[tuple[int, ...], ...],
    start: int,
    weights: ObjectiveWeights,
    balance: dict[int, int],
) -> _Option:
    counts = [r.count for r in item.type.requirements]
    if _separable(context, item, counts):
        best, allocations = _best_first(context, item, pools, counts, start, weights, balance)
    else:
        best, allocations = _ranked_allocations(
            context, item, pools, counts, start, weights, balance
        )
    time_model = context.time
    return _Option(
        start=start,
        day=time_model.day_of(start),
        part=time_model.part_of_day(start),
        met=item.meets_deadline(start),
        score=start_score(item, time_model, start, weights) + best,
        allocations=allocations,
    )


def _separable(context: PlanningContext, item: ItemSpec, counts: list[int]) -> bool:
    """Whether a start's best allocation is simply the best pool of each requirement: one
    resource per requirement, no pool serving two of them, and no preferred resources (whose
    continuity bonus is not a sum over pools)."""
    return (
        all(count == 1 for count in counts)
        and not item.preferences.resource_ids
        and context.requirements_disjoint(item.type.id)
    )


def _pool_points(
    context: PlanningContext,
    item: ItemSpec,
    pool: int,
    start: int,
    weights: ObjectiveWeights,
    balance: dict[int, int],
) -> int:
    """A pool's part of an allocation's score at the start (resource_score and balance are
    sums over the allocation's pools)."""
    points = weights.balance * balance.get(pool, 0)
    if context.pools[pool].kind in weights.compact_kinds:
        points += weights.compactness * context.compact_edges(item.type.id, pool, start)
    return points


def _best_first(
    context: PlanningContext,
    item: ItemSpec,
    pools: tuple[tuple[int, ...], ...],
    counts: list[int],
    start: int,
    weights: ObjectiveWeights,
    balance: dict[int, int],
) -> tuple[int, Callable[[], Iterable[Allocation]]]:
    """The best allocation's score, and the allocations from the best pools on: each
    requirement's pools in order of their points, so the first allocation is the best."""
    ordered = []
    best = 0
    for requirement_pools in pools:
        points = {
            p: _pool_points(context, item, p, start, weights, balance) for p in requirement_pools
        }
        ranked = tuple(sorted(requirement_pools, key=lambda p: -points[p]))
        ordered.append(ranked)
        best += points[ranked[0]] if ranked else 0

    def allocations() -> Iterable[Allocation]:
        return islice(
            iter_allocations(ordered, counts, context.pool_size), _MAX_ALLOCATIONS_PER_START
        )

    return best, allocations


def _ranked_allocations(
    context: PlanningContext,
    item: ItemSpec,
    pools: tuple[tuple[int, ...], ...],
    counts: list[int],
    start: int,
    weights: ObjectiveWeights,
    balance: dict[int, int],
) -> tuple[int, Callable[[], Iterable[Allocation]]]:
    """Every allocation (up to a bound) scored, best first: when pools serve several
    requirements or resources are preferred, the best is not found pool by pool."""
    scored: list[tuple[int, int, Allocation]] = []
    for order, allocation in enumerate(iter_allocations(pools, counts, context.pool_size)):
        if order == _MAX_ALLOCATIONS_PER_START:
            break
        score = resource_score(context, item, start, allocation, weights)
        score += weights.balance * sum(balance.get(pool, 0) for _, pool, _ in allocation)
        scored.append((-score, order, allocation))
    scored.sort()
    ranked = tuple(allocation for _, _, allocation in scored)
    return -scored[0][0], lambda: ranked


def _balance_points(context: PlanningContext, item: ItemSpec) -> dict[int, int]:
    """0-10 per compact-kind pool: its free time in the task's window relative to the
    freest eligible pool, so emptier clinicians' days rank a little higher.
    """
    window = ((item.window[0], item.window[1] + item.type.duration),)
    free: dict[int, int] = {}
    for index in range(len(item.type.requirements)):
        for pool in context.eligible_pools(item.type.id, index):
            overlap = intersect_spans(context.pools[pool].free, window)
            free[pool] = sum(end - start for start, end in overlap)
    most = max(free.values(), default=0)
    if most == 0:
        return {}
    return {pool: (10 * minutes) // most for pool, minutes in free.items()}


class _Prepared:
    """What offers and offer_at for one task of one instance share: the context (pools, start
    tables) and the protection (the reference plan and the decided verdicts). Kept for the
    last few requests (``_CACHE_SIZE``), keyed by the instance's content, so that paging and
    confirming a choice do not build them again; every request is answered the same way cold.
    Exact verdicts are kept only when decided (they are facts about the plan); each request
    gets the whole exact budget afresh. ``lock``: one request at a time uses an entry."""

    def __init__(self, instance: Instance, task_id: str, now: int | None, exact: bool) -> None:
        self.context = PlanningContext(instance)
        self.item = task_item(self.context, instance.task(task_id), now)
        self.lock = threading.Lock()
        self._now = now
        self._exact = exact
        self._protection: Protection | None = None

    def protection(self) -> Protection:
        if self._protection is None:
            self._protection = _protection(self.context, self.item, self._now, self._exact)
        self._protection.new_request()
        return self._protection


_CACHE_SIZE = 8
_cache: OrderedDict[tuple[Instance, str, int | None, bool], _Prepared] = OrderedDict()
_cache_lock = threading.Lock()


def forget_kept_plans() -> None:
    """Drop the kept contexts and reference plans, so the next request starts cold (benches)."""
    with _cache_lock:
        _cache.clear()


def _prepare(instance: Instance, task_id: str, now: int | None, exact: bool) -> _Prepared:
    key = (instance, task_id, now, exact)
    with _cache_lock:
        prepared = _cache.get(key)
        if prepared is not None:
            _cache.move_to_end(key)
            return prepared
    prepared = _Prepared(instance, task_id, now, exact)
    with _cache_lock:
        prepared = _cache.setdefault(key, prepared)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return prepared


def _protection(
    context: PlanningContext, item: ItemSpec, now: int | None, exact: bool
) -> Protection:
    # Only the more urgent tasks are protected: ask before building their items.
    urgent = [
        task_item(context, task, now)
        for task in context.instance.tasks
        if task.id != item.id and is_more_urgent(task, item)
    ]
    return Protection(
        context,
        urgent,
        exact=exact,
        patient_id=item.patient_id,
    )


def _safety_check(
    item: ItemSpec, protection: Protection | None
) -> Callable[[_Option], Allocation | None]:
    def first_safe_allocation(option: _Option) -> Allocation | None:
        if protection is None:
            return next(iter(option.allocations()))
        return protection.first_safe(
            item.type.resource_span(option.start),
            item.type.patient_span(option.start),
            option.allocations(),
        )

    return first_safe_allocation


def _select(
    options: list[_Option],
    wanted: int,
    rules: _Rules,
    safe: Callable[[_Option], Allocation | None],
) -> tuple[list[tuple[_Option, Allocation]], int]:
    """Times meeting the deadline first: one per day, then up to ``max_per_day`` (spread),
    then the rest in rank order; only then times after the deadline in the same way. Without
    spreading (``max_per_day`` as large as the list and no gap) the order is the ranking."""
    chosen: list[tuple[_Option, Allocation]] = []
    rejected: set[int] = set()
    spreads = rules.min_gap_minutes > 0 or rules.max_per_day < len(options)
    caps = sorted({1, rules.max_per_day}) if spreads else []

    def take(option: _Option) -> None:
        allocation = safe(option)
        if allocation is None:
            rejected.add(option.start)
        else:
            chosen.append((option, allocation))

    for on_time in (True, False):
        for per_day_cap in caps:
            while len(chosen) < wanted:
                option = _next_option(options, chosen, rejected, on_time, per_day_cap, rules)
                if option is None:
                    break
                take(option)
        # The rest, best first: one pass, since nothing limits which come next.
        taken = {option.start for option, _ in chosen} | rejected
        for option in options:
            if len(chosen) >= wanted:
                break
            if option.met == on_time and option.start not in taken:
                take(option)
    return chosen, len(rejected)


def _next_option(
    options: list[_Option],
    chosen: list[tuple[_Option, Allocation]],
    rejected: set[int],
    on_time: bool,
    per_day_cap: int,
    rules: _Rules,
) -> _Option | None:
    """The best acceptable option, or the best one in the under-represented part of day if
    that is at most ``mix_tolerance`` worse.
    """
    per_day = Counter(option.day for option, _ in chosen)
    minority = _minority_part(Counter(option.part for option, _ in chosen))
    taken = {option.start for option, _ in chosen}
    best: _Option | None = None
    for option in options:
        if option.met != on_time:
            continue
        if option.start in taken or option.start in rejected or per_day[option.day] >= per_day_cap:
            continue
        if rules.min_gap_minutes and any(
            other.day == option.day and abs(other.start - option.start) < rules.min_gap_minutes
            for other, _ in chosen
        ):
            continue
        if best is None:
            best = option
            if minority is None or option.part == minority:
                return best
        elif best.score - option.score > rules.mix_tolerance:
            return best
        elif option.part == minority:
            return option
    return best


def _minority_part(parts: Counter[PartOfDay]) -> PartOfDay | None:
    morning, afternoon = parts[PartOfDay.MORNING], parts[PartOfDay.AFTERNOON]
    if morning == afternoon:
        return None
    return PartOfDay.MORNING if morning < afternoon else PartOfDay.AFTERNOON


def _to_offers(
    context: PlanningContext, item: ItemSpec, page: list[tuple[_Option, Allocation]]
) -> tuple[Offer, ...]:
    result = []
    for option, allocation in page:
        resources = resource_ids_for(
            context, {item.id: item}, {item.id: (option.start, allocation)}
        )
        result.append(
            Offer(
                start=option.start,
                end=option.start + item.type.duration,
                day=option.day,
                part_of_day=option.part,
                resource_ids=resources[item.id],
                deadline_met=option.met,
                fits_availability=item.fits_availability(option.start),
                score=option.score,
            )
        )
    return tuple(result)


def _empty_reason(
    context: PlanningContext, item: ItemSpec, filtered: Unplaced | None, withheld: int
) -> Unplaced:
    if filtered is not None:
        return filtered
    if withheld:
        return Unplaced(
            item.id,
            Reason.PROTECTED_FOR_URGENT_TASKS,
            f"{withheld} free time(s) are needed by more urgent pending tasks",
        )
    table = context.start_table(item.type.id, item.type.grid_minutes)
    return explain_no_candidates(context, item, table)
