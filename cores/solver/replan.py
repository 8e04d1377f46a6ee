"""Re-planning the appointments hit by a resource's absence; everything else stays put.

Every affected appointment gets all its candidate placements (start on the grid or its old
start, any peer resources matching the type's requirements), each with a cost: moving to
another day, the number of days and quarter hours moved, changed resources, a deadline breach,
missing the patient's stated availability. CP-SAT minimises the total cost (as a
maximisation of ``unplaced_penalty - cost`` per placed appointment).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from cores.intervals import spans_overlap
from cores.solver.allocation import Allocation
from cores.solver.budget import Budget
from cores.solver.candidates import Candidate, all_candidates
from cores.solver.context import PlanningContext
from cores.solver.domain import Absence, Appointment, Instance, Minutes, ReplanWeights, SolveParams
from cores.solver.explain import explain_no_candidates
from cores.solver.items import ItemSpec, appointment_item
from cores.solver.occupancy import PatientUsage, PoolUsage
from cores.solver.outcome import capacity_taken, resource_ids_for, sorted_unplaced
from cores.solver.packing import PackingItem, solve_packing
from cores.solver.results import (
    Move,
    ReplanResult,
    SolveStats,
    SolveStatus,
    Unplaced,
    relative_gap,
)

_DEFAULT_HORIZON_DAYS = 14


@dataclass(frozen=True, slots=True)
class _Prepared:
    context: PlanningContext
    items: dict[str, ItemSpec]
    candidates: dict[str, list[Candidate]]
    unplaced: list[Unplaced]
    weights: ReplanWeights


def affected_appointments(instance: Instance, absences: Sequence[Absence]) -> list[Appointment]:
    """Appointments whose resource span overlaps an absence of one of their resources."""
    types = instance.type_by_id()
    known = {r.id for r in instance.resources}
    for absence in absences:
        if absence.resource_id not in known:
            raise ValueError(f"Absence: unknown resource {absence.resource_id!r}")
    hit = []
    for appointment in instance.appointments:
        span = types[appointment.type_id].resource_span(appointment.start)
        if any(
            absence.resource_id in appointment.resource_ids
            and spans_overlap(span, (absence.start, absence.end))
            for absence in absences
        ):
            hit.append(appointment)
    return sorted(hit, key=lambda a: (a.start, a.id))


def _default_window(instance: Instance, affected: Sequence[Appointment]) -> Minutes:
    time_model = instance.time
    first_day = time_model.day_of(min(a.start for a in affected))
    last_day = time_model.day_of(max(a.start for a in affected)) + _DEFAULT_HORIZON_DAYS
    return (time_model.day_start(first_day), time_model.day_start(last_day + 1) - 1)


def _prepare(
    instance: Instance,
    absences: Sequence[Absence],
    window: Minutes | None,
    now: int | None,
    grid: int,
    weights: ReplanWeights,
) -> _Prepared:
    affected = affected_appointments(instance, absences)
    context = PlanningContext(instance, absences=absences, released_ids=[a.id for a in affected])
    if not affected:
        return _Prepared(context, {}, {}, [], weights)
    if window is not None and window[1] < window[0]:
        raise ValueError(f"replan window end {window[1]} is before its start {window[0]}")
    first, last = window if window is not None else _default_window(instance, affected)
    first = first if now is None else max(first, now)
    items: dict[str, ItemSpec] = {}
    candidates: dict[str, list[Candidate]] = {}
    unplaced: list[Unplaced] = []
    for appointment in affected:
        item = appointment_item(context, appointment, (first, last))
        items[item.id] = item
        options = _candidates(context, item, grid, weights)
        if options:
            candidates[item.id] = options
        else:
            table = context.start_table(item.type.id, grid)
            unplaced.append(explain_no_candidates(context, item, table))
    return _Prepared(context, items, candidates, unplaced, weights)


def _candidates(
    context: PlanningContext, item: ItemSpec, grid: int, weights: ReplanWeights
) -> list[Candidate]:
    table = context.start_table(item.type.id, grid)
    starts = set(item.allowed_starts(table.starts))
    if item.original_start is not None and item.is_allowed(item.original_start):
        starts.add(item.original_start)

    def score(start: int, allocation: Allocation) -> int:
        return weights.unplaced * item.weight - move_cost(context, item, start, allocation, weights)

    return all_candidates(context, item, sorted(starts), score)


def move_cost(
    context: PlanningContext,
    item: ItemSpec,
    start: int,
    allocation: Allocation,
    weights: ReplanWeights,
) -> int:
    original = _original_start(item)
    time_model = context.time
    days = abs(time_model.day_of(start) - time_model.day_of(original))
    shift = abs(time_model.minute_of_day(start) - time_model.minute_of_day(original))
    cost = weights.per_day_moved * days + weights.per_quarter_hour_moved * (-(-shift // 15))
    if days:
        cost += weights.moved_to_other_day
    cost += weights.resource_changed * _changed_resources(context, item, allocation)
    if not item.meets_deadline(start):
        cost += weights.deadline_breach * item.weight
    if not item.fits_availability(start):
        cost += weights.availability_miss
    return cost


def _original_start(item: ItemSpec) -> int:
    if item.original_start is None:
        raise ValueError(f"{item.id} is not an existing appointment")
    return item.original_start


def _changed_resources(context: PlanningContext, item: ItemSpec, allocation: Allocation) -> int:
    """Old resources not kept: a pool keeps as many old members as the units it supplies."""
    kept_per_pool: dict[int, int] = {}
    for resource_id in item.original_resource_ids:
        pool = context.pool_of_resource[resource_id]
        kept_per_pool[pool] = kept_per_pool.get(pool, 0) + 1
    kept = 0
    for _, pool, units in allocation:
        take = min(units, kept_per_pool.get(pool, 0))
        kept += take
        if take:
            kept_per_pool[pool] -= take
    return len(item.original_resource_ids) - kept


def _first_fit_choice(prepared: _Prepared) -> dict[str, int]:
    """Baseline: in order of the old start, the earliest free candidate from the old start on
    (earlier times only if nothing later is free).
    """
    context = prepared.context
    usage = PoolUsage(context.pools)
    patients = PatientUsage()
    chosen: dict[str, int] = {}
    for item_id, options in prepared.candidates.items():
        item = prepared.items[item_id]
        original = _original_start(item)
        order = sorted(
            range(len(options)), key=lambda i: (options[i].start < original, options[i].start, i)
        )
        for index in order:
            candidate = options[index]
            span = item.type.resource_span(candidate.start)
            patient_span = item.type.patient_span(candidate.start)
            if usage.fits(candidate.allocation, span) and patients.is_free(
                item.patient_id, patient_span
            ):
                usage.book(candidate.allocation, span)
                patients.book(item.patient_id, patient_span)
                chosen[item_id] = index
                break
    return chosen


def greedy_replan(
    instance: Instance,
    absences: Sequence[Absence],
    *,
    window: Minutes | None = None,
    now: int | None = None,
    grid_minutes: int | None = None,
    weights: ReplanWeights | None = None,
) -> ReplanResult:
    """Baseline for ``replan``: each appointment to the next free slot on any peer."""
    started = time.perf_counter()
    grid = grid_minutes or instance.time.grid_minutes
    prepared = _prepare(instance, absences, window, now, grid, weights or ReplanWeights())
    chosen = _first_fit_choice(prepared)
    elapsed = time.perf_counter() - started
    objective = float(sum(prepared.candidates[i][c].score for i, c in chosen.items()))
    stats = SolveStats(
        SolveStatus.HEURISTIC,
        objective,
        None,
        None,
        elapsed,
        elapsed,
        len(prepared.items),
        sum(len(c) for c in prepared.candidates.values()),
    )
    return _result(prepared, chosen, stats, "were taken by appointments moved earlier")


def replan(
    instance: Instance,
    absences: Sequence[Absence],
    *,
    window: Minutes | None = None,
    now: int | None = None,
    grid_minutes: int | None = None,
    weights: ReplanWeights | None = None,
    params: SolveParams | None = None,
) -> ReplanResult:
    """New start and resources for every appointment the absences hit.

    ``window`` (inclusive start minutes) bounds the new times; by default from the day of the
    first affected appointment to two weeks after the last. Fixed appointments keep their start
    and may only change resources.
    """
    started = time.perf_counter()
    params = params or SolveParams()
    grid = grid_minutes or instance.time.grid_minutes
    prepared = _prepare(instance, absences, window, now, grid, weights or ReplanWeights())
    if not prepared.candidates:
        stats = SolveStats(
            SolveStatus.NOTHING_TO_SOLVE,
            0.0,
            0.0,
            0.0,
            time.perf_counter() - started,
            0.0,
            len(prepared.items),
            0,
        )
        return _result(prepared, {}, stats, "")
    hint = _first_fit_choice(prepared)
    packing_items = [
        PackingItem(
            item_id,
            prepared.items[item_id].patient_id,
            prepared.items[item_id].type,
            tuple(options),
        )
        for item_id, options in prepared.candidates.items()
    ]
    build_time = time.perf_counter() - started
    pool_sizes = [pool.size for pool in prepared.context.pools]
    outcome = solve_packing(
        packing_items, pool_sizes, params, hint, Budget.for_call(params, started)
    )
    chosen = outcome.chosen if outcome.chosen else hint
    objective = outcome.objective
    bound = outcome.bound
    stats = SolveStats(
        status=outcome.status,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound) if objective is not None and bound is not None else None,
        wall_time_s=time.perf_counter() - started,
        build_time_s=build_time,
        num_items=len(prepared.items),
        num_candidates=sum(len(c) for c in prepared.candidates.values()),
        progress=outcome.progress,
    )
    return _result(prepared, chosen, stats, "are needed by other moved appointments")


def _result(
    prepared: _Prepared, chosen: dict[str, int], stats: SolveStats, taken_by: str
) -> ReplanResult:
    context = prepared.context
    placements = {
        item_id: (
            prepared.candidates[item_id][index].start,
            prepared.candidates[item_id][index].allocation,
        )
        for item_id, index in chosen.items()
    }
    resources = resource_ids_for(context, prepared.items, placements, keep_original=True)
    moves = []
    total_cost = 0
    for item_id in sorted(chosen):
        item = prepared.items[item_id]
        start, allocation = placements[item_id]
        cost = move_cost(context, item, start, allocation, prepared.weights)
        total_cost += cost
        moves.append(_move(context, item, start, resources[item_id], cost))
    unplaced = list(prepared.unplaced)
    for item_id, options in prepared.candidates.items():
        if item_id not in chosen:
            unplaced.append(
                capacity_taken(context, prepared.items[item_id], len(options), taken_by)
            )
            total_cost += prepared.weights.unplaced * prepared.items[item_id].weight
    for entry in prepared.unplaced:
        total_cost += prepared.weights.unplaced * prepared.items[entry.item_id].weight
    return ReplanResult(
        affected_ids=tuple(prepared.items),
        moves=tuple(moves),
        unplaced=sorted_unplaced(unplaced),
        stats=stats,
        total_cost=total_cost,
    )


def _move(
    context: PlanningContext, item: ItemSpec, start: int, resource_ids: tuple[str, ...], cost: int
) -> Move:
    original = _original_start(item)
    time_model = context.time
    return Move(
        appointment_id=item.id,
        old_start=original,
        new_start=start,
        old_resource_ids=item.original_resource_ids,
        new_resource_ids=resource_ids,
        days_moved=abs(time_model.day_of(start) - time_model.day_of(original)),
        minutes_moved=abs(start - original),
        deadline_met=item.meets_deadline(start),
        cost=cost,
    )
