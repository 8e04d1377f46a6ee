"""Batch planning: a time for every booking task at once, and the greedy baseline."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from cores.solver.allocation import Allocation
from cores.solver.budget import Budget
from cores.solver.candidates import Candidate, CandidateCache, batch_candidates
from cores.solver.context import PlanningContext
from cores.solver.domain import Instance, ObjectiveWeights, SolveParams
from cores.solver.explain import explain_no_candidates
from cores.solver.greedy import Placement, greedy_placements
from cores.solver.items import ItemSpec, task_item
from cores.solver.outcome import build_assignments, capacity_taken, sorted_unplaced
from cores.solver.packing import PackingItem, PackingOutcome, minimise_core, solve_packing
from cores.solver.results import (
    PlanResult,
    ProgressPoint,
    Reason,
    SolveStats,
    SolveStatus,
    Unplaced,
    relative_gap,
)
from cores.solver.scoring import batch_score

# Without ``deterministic``, the greedy plan and the candidates stop when less time is left
# than turning the greedy plan into results takes: this share of the time limit, or as long as
# the greedy plan has taken (the same kind of work per task, measured under the machine's
# present load: 0.3-0.6 times as long on a quiet machine, up to once as long on a busy one).
_FINISHING_SHARE_OF_LIMIT = 0.05
_FINISHING_SHARE_OF_GREEDY = 1.0
# Writing the model takes about as long as finding the candidates (0.6-0.8 times, measured).
_WRITING_SHARE_OF_CANDIDATES = 1.0


def _out_of_time(budget: Budget, reserve_s: float) -> bool:
    return not budget.deterministic and budget.remaining() < reserve_s


class _GreedyGuard:
    """Lets the greedy plan go on while the wall-clock budget leaves time to turn it into
    results (never stops it with ``deterministic``); remembers which tasks it tried."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.started = time.perf_counter()
        self.tried: set[str] = set()
        self.stopped = False
        self.greedy_s: float | None = None

    def finish(self) -> None:
        self.greedy_s = time.perf_counter() - self.started

    def reserve(self) -> float:
        spent = time.perf_counter() - self.started if self.greedy_s is None else self.greedy_s
        share_of_limit = _FINISHING_SHARE_OF_LIMIT * self.budget.limit_s
        return max(share_of_limit, _FINISHING_SHARE_OF_GREEDY * spent)

    def __call__(self, item: ItemSpec) -> bool:
        if _out_of_time(self.budget, self.reserve()):
            self.stopped = True
            return False
        self.tried.add(item.id)
        return True


@dataclass(frozen=True, slots=True)
class _Prepared:
    context: PlanningContext
    items: dict[str, ItemSpec]
    grid: int


def _prepare(
    instance: Instance,
    task_ids: Iterable[str] | None,
    now: int | None,
    grid_minutes: int | None,
) -> _Prepared:
    context = PlanningContext(instance)
    wanted = None if task_ids is None else set(task_ids)
    if wanted is not None:
        unknown = wanted - {t.id for t in instance.tasks}
        if unknown:
            raise ValueError(f"unknown task ids {sorted(unknown)}")
    grid = grid_minutes if grid_minutes is not None else instance.time.grid_minutes
    if grid <= 0:
        raise ValueError("grid_minutes must be positive")
    items = {
        task.id: task_item(context, task, now)
        for task in sorted(instance.tasks, key=lambda t: t.id)
        if wanted is None or task.id in wanted
    }
    return _Prepared(context, items, grid)


def greedy_plan(
    instance: Instance,
    *,
    task_ids: Iterable[str] | None = None,
    now: int | None = None,
    grid_minutes: int | None = None,
    weights: ObjectiveWeights | None = None,
) -> PlanResult:
    """Baseline: tasks by deadline then priority, each at its earliest free start."""
    started = time.perf_counter()
    weights = weights or ObjectiveWeights()
    prepared = _prepare(instance, task_ids, now, grid_minutes)
    placements = greedy_placements(prepared.context, list(prepared.items.values()), prepared.grid)
    chosen = _scored(prepared, placements, weights)
    return _greedy_result(prepared, placements, chosen, SolveStatus.HEURISTIC, started)


def _greedy_result(
    prepared: _Prepared,
    placements: dict[str, Placement],
    chosen: dict[str, tuple[int, Allocation, int]],
    status: SolveStatus,
    started: float,
    progress: tuple[ProgressPoint, ...] = (),
    untried: frozenset[str] = frozenset(),
) -> PlanResult:
    unplaced = _greedy_unplaced(prepared, placements, untried)
    objective = float(sum(score for _, _, score in chosen.values()))
    elapsed = time.perf_counter() - started
    return PlanResult(
        assignments=build_assignments(prepared.context, prepared.items, chosen),
        unplaced=sorted_unplaced(unplaced),
        stats=SolveStats(
            status=status,
            objective=objective,
            best_bound=None,
            gap=None,
            wall_time_s=elapsed,
            build_time_s=elapsed,
            num_items=len(prepared.items),
            num_candidates=len(placements),
            progress=progress,
        ),
    )


def _scored(
    prepared: _Prepared, placements: dict[str, Placement], weights: ObjectiveWeights
) -> dict[str, tuple[int, Allocation, int]]:
    return {
        item_id: (
            p.start,
            p.allocation,
            batch_score(prepared.context, prepared.items[item_id], p.start, p.allocation, weights),
        )
        for item_id, p in placements.items()
    }


def _greedy_unplaced(
    prepared: _Prepared, placements: dict[str, Placement], untried: frozenset[str]
) -> list[Unplaced]:
    unplaced = []
    for item in prepared.items.values():
        if item.id in placements:
            continue
        table = prepared.context.start_table(item.type.id, prepared.grid)
        options = len(item.allowed_starts(table.starts))
        if options == 0:
            unplaced.append(explain_no_candidates(prepared.context, item, table))
        elif item.id in untried:
            unplaced.append(
                Unplaced(
                    item.id,
                    Reason.NO_SOLUTION_IN_TIME,
                    "the time limit ran out before a time was sought for this task",
                )
            )
        else:
            unplaced.append(
                capacity_taken(prepared.context, item, options, "were taken by more urgent tasks")
            )
    return unplaced


def plan_batch(
    instance: Instance,
    *,
    task_ids: Iterable[str] | None = None,
    now: int | None = None,
    grid_minutes: int | None = None,
    required_task_ids: Iterable[str] = (),
    weights: ObjectiveWeights | None = None,
    params: SolveParams | None = None,
) -> PlanResult:
    """Assign a start and resources to every task (or report why not).

    Maximises, per task, ``(1 + priority) * (placed + deadline_met)`` then the patient's
    availability fit, earliness and compactness. The greedy plan is the full CP-SAT hint, so
    the result is never worse than the baseline. Tasks in ``required_task_ids`` must be placed;
    if they cannot all be, the status is INFEASIBLE, the conflicting tasks are named, and the
    other tasks still get the best plan found without that requirement.

    ``params.time_limit_s`` covers the whole call (see ``budget.py``). Without
    ``deterministic``, when building the model takes up the time the greedy plan is returned
    (status UNKNOWN: no CP-SAT plan in time).
    """
    started = time.perf_counter()
    weights = weights or ObjectiveWeights()
    params = params or SolveParams()
    budget = Budget.for_call(params, started)
    prepared = _prepare(instance, task_ids, now, grid_minutes)
    required = set(required_task_ids)
    unknown = required - set(prepared.items)
    if unknown:
        raise ValueError(f"required task ids not planned: {sorted(unknown)}")
    guard = _GreedyGuard(budget)
    hint = greedy_placements(
        prepared.context, list(prepared.items.values()), prepared.grid, proceed=guard
    )
    guard.finish()
    scored = _scored(prepared, hint, weights)
    objective = float(sum(score for _, _, score in scored.values()))
    greedy_point = ProgressPoint(time.perf_counter() - started, objective, None, "greedy")
    built = None
    if not guard.stopped:
        built = _packing_items(prepared, hint, weights, params, required, budget, guard.reserve())
    if built is None:
        untried = frozenset(prepared.items) - guard.tried
        return _greedy_result(
            prepared, hint, scored, SolveStatus.UNKNOWN, started, (greedy_point,), untried
        )
    packing_items, hint_index, unplaced = built
    build_time = time.perf_counter() - started
    outcome, conflicts = _solve(prepared, packing_items, hint_index, params, budget)
    unplaced.extend(conflicts)
    infeasible = bool(conflicts) or any(u.item_id in required for u in unplaced)
    if not outcome.chosen and hint_index:
        outcome = _hint_as_outcome(packing_items, hint_index, outcome)
    outcome = replace(outcome, progress=(greedy_point, *outcome.progress))
    status = SolveStatus.INFEASIBLE if infeasible else outcome.status
    return _batch_result(prepared, packing_items, outcome, status, unplaced, build_time, started)


def _solve(
    prepared: _Prepared,
    packing_items: list[PackingItem],
    hint_index: dict[str, int],
    params: SolveParams,
    budget: Budget,
) -> tuple[PackingOutcome, list[Unplaced]]:
    """Solve; if the required tasks cannot all be placed, name a minimal conflicting set and
    solve again without the requirement. Returns conflicts only for tasks left unplaced.
    """
    pool_sizes = [pool.size for pool in prepared.context.pools]
    outcome = solve_packing(packing_items, pool_sizes, params, hint_index, budget)
    if outcome.status != SolveStatus.INFEASIBLE:
        return outcome, []
    core, pools = minimise_core(packing_items, outcome.core, pool_sizes, params, budget)
    relaxed = [replace(item, required=False) for item in packing_items]
    outcome = solve_packing(relaxed, pool_sizes, params, hint_index, budget)
    conflicts = _required_conflicts(prepared, core, pools)
    return outcome, [c for c in conflicts if c.item_id not in outcome.chosen]


def _hint_as_outcome(
    packing_items: Sequence[PackingItem], hint_index: dict[str, int], outcome: PackingOutcome
) -> PackingOutcome:
    """CP-SAT found nothing in time: fall back to the greedy plan (feasible by construction)."""
    by_id = {item.id: item for item in packing_items}
    objective = float(sum(by_id[i].candidates[c].score for i, c in hint_index.items()))
    return replace(outcome, chosen=dict(hint_index), objective=objective)


def _packing_items(
    prepared: _Prepared,
    hint: dict[str, Placement],
    weights: ObjectiveWeights,
    params: SolveParams,
    required: set[str],
    budget: Budget,
    finishing_s: float,
) -> tuple[list[PackingItem], dict[str, int], list[Unplaced]] | None:
    """The candidates of every item; None when the wall-clock budget would run out before the
    model is written (never with ``deterministic``: there building is charged by the size of
    the model)."""
    packing_items: list[PackingItem] = []
    hint_index: dict[str, int] = {}
    unplaced: list[Unplaced] = []
    context = prepared.context
    cache = CandidateCache(context, weights, params)
    building_started = time.perf_counter()
    for rotation, item in enumerate(prepared.items.values()):
        if _out_of_time(budget, finishing_s):
            return None
        table = context.start_table(item.type.id, prepared.grid)
        candidates = batch_candidates(item, table, rotation, cache)
        placement = hint.get(item.id)
        if placement is not None:
            index = _index_of(candidates, placement)
            if index is None:
                score = batch_score(context, item, placement.start, placement.allocation, weights)
                candidates.append(Candidate(placement.start, placement.allocation, score))
                index = len(candidates) - 1
            hint_index[item.id] = index
        if not candidates:
            unplaced.append(explain_no_candidates(context, item, table))
            continue
        packing_items.append(
            PackingItem(item.id, item.patient_id, item.type, tuple(candidates), item.id in required)
        )
    writing_s = _WRITING_SHARE_OF_CANDIDATES * (time.perf_counter() - building_started)
    if _out_of_time(budget, finishing_s + writing_s):
        return None
    return packing_items, hint_index, unplaced


def _index_of(candidates: Sequence[Candidate], placement: Placement) -> int | None:
    for index, candidate in enumerate(candidates):
        if candidate.start == placement.start and candidate.allocation == placement.allocation:
            return index
    return None


def _required_conflicts(
    prepared: _Prepared, core: Sequence[str], conflict_pools: Sequence[int]
) -> list[Unplaced]:
    pools = prepared.context.pools
    shared = ", ".join("/".join(pools[p].member_ids) for p in conflict_pools)
    where = f" for {shared}" if shared else ""
    names = ", ".join(core)
    return [
        Unplaced(
            item_id,
            Reason.REQUIRED_CONFLICT,
            f"required tasks {names} cannot all be placed: they compete for the same "
            f"capacity{where} in their windows",
        )
        for item_id in core
    ]


def _batch_result(
    prepared: _Prepared,
    packing_items: Sequence[PackingItem],
    outcome: PackingOutcome,
    status: SolveStatus,
    unplaced: list[Unplaced],
    build_time: float,
    started: float,
) -> PlanResult:
    by_id = {item.id: item for item in packing_items}
    chosen = {
        item_id: (
            by_id[item_id].candidates[index].start,
            by_id[item_id].candidates[index].allocation,
            by_id[item_id].candidates[index].score,
        )
        for item_id, index in outcome.chosen.items()
    }
    explained = {u.item_id for u in unplaced}
    for item in packing_items:
        if item.id not in chosen and item.id not in explained:
            spec = prepared.items[item.id]
            unplaced.append(
                capacity_taken(
                    prepared.context,
                    spec,
                    len(item.candidates),
                    "are needed by other tasks (higher priority, earlier deadline or better fit)",
                )
            )
    objective = outcome.objective
    bound = outcome.bound
    gap = relative_gap(objective, bound) if objective is not None and bound is not None else None
    return PlanResult(
        assignments=build_assignments(prepared.context, prepared.items, chosen),
        unplaced=sorted_unplaced(unplaced),
        stats=SolveStats(
            status=status,
            objective=objective,
            best_bound=bound,
            gap=gap,
            wall_time_s=time.perf_counter() - started,
            build_time_s=build_time,
            num_items=len(prepared.items),
            num_candidates=sum(len(item.candidates) for item in packing_items),
            progress=outcome.progress,
        ),
    )
