"""The CP-SAT model shared by batch planning and re-planning.

Time-indexed over candidates: one Boolean per (item, candidate placement) plus one "unplaced"
Boolean per item, exactly one of them true; for every pool and every maximal set of candidate
spans that overlap at one point in time, the units used stay within the pool size (an interval
graph's maximal cliques, so this is exact); the same for a patient with several items. The
summed candidate scores are maximised (written as a minimisation of lost score).

The model is written straight into the proto: the Python builder is several times slower at the
size of batch planning (hundreds of thousands of literals).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from cores.solver.allocation import Allocation
from cores.solver.budget import BUILD_SECONDS_PER_TERM, Budget
from cores.solver.candidates import Candidate
from cores.solver.domain import AppointmentType, Minutes, SolveParams
from cores.solver.results import ProgressPoint, SolveStatus

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.MODEL_INVALID: SolveStatus.MODEL_INVALID,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class PackingItem:
    id: str
    patient_id: str
    type: AppointmentType
    candidates: tuple[Candidate, ...]
    required: bool = False


@dataclass(frozen=True, slots=True)
class PackingOutcome:
    chosen: dict[str, int]
    status: SolveStatus
    objective: float | None
    bound: float | None
    progress: tuple[ProgressPoint, ...]
    core: tuple[str, ...]


# CP-SAT is not started with less than this (the plan of the hint is returned instead).
_MIN_SOLVE_S = 0.01
# Without ``deterministic``: the time CP-SAT takes beyond its own limit (loading the model,
# finishing an LP) and turning its answer into results, as a share of the time it took to write
# the model, kept free at the end of the call so that the call ends within its limit.
_FINISHING_SHARE_OF_WRITING = 0.5


class _ModelWriter:
    def __init__(self) -> None:
        self.model = cp_model.CpModel()
        self.proto = self.model.proto
        self.terms = 0

    def new_bools(self, count: int) -> range:
        self.terms += count
        first = len(self.proto.variables)
        variables = self.proto.variables
        for _ in range(count):
            variables.add().domain.extend((0, 1))
        return range(first, first + count)

    def linear(
        self, literals: Sequence[int], coefficients: Sequence[int], low: int, high: int
    ) -> None:
        """Clique and capacity rows are written as linear constraints on purpose: CP-SAT puts
        those in its LP relaxation (at-most-one constraints only enter as lazy clique cuts),
        and the LP bound and LP-guided neighbourhoods are what make the big model move.
        """
        self.terms += len(literals)
        linear = self.proto.constraints.add().linear
        linear.vars.extend(literals)
        linear.coeffs.extend(coefficients)
        linear.domain.extend((low, high))

    def exactly_one(self, literals: Sequence[int]) -> None:
        self.linear(literals, [1] * len(literals), 1, 1)

    def false_if(self, literal: int, enforcement: int) -> None:
        constraint = self.proto.constraints.add()
        constraint.enforcement_literal.append(enforcement)
        constraint.bool_and.literals.append(-literal - 1)

    def hint(self, values: Sequence[int]) -> None:
        self.proto.solution_hint.vars.extend(range(len(values)))
        self.proto.solution_hint.values.extend(values)


def _clique_constraints(
    writer: _ModelWriter, uses: Sequence[tuple[Minutes, int, int]], capacity: int
) -> None:
    """Capacity on every maximal set of spans sharing a point: sweep over start and end
    events (ends first at equal times, spans are half-open); a set is maximal when an end
    follows a start. Sets whose units cannot exceed the capacity need no row.
    """
    events = [(span[0], 1, index) for index, (span, _, _) in enumerate(uses)]
    events += [(span[1], 0, index) for index, (span, _, _) in enumerate(uses)]
    events.sort()
    active: dict[int, int] = {}
    active_units = 0
    grown = False
    for _, is_start, index in events:
        if is_start:
            units = uses[index][1]
            active[index] = units
            active_units += units
            grown = True
            continue
        if grown and active_units > capacity:
            writer.linear([uses[i][2] for i in active], list(active.values()), 0, capacity)
        grown = False
        active_units -= active.pop(index)


class _Progress(cp_model.CpSolverSolutionCallback):
    """Incumbents and bounds as they come, timed from the start of the call (reporting only)."""

    def __init__(self, started_at: float) -> None:
        super().__init__()
        self.started_at = started_at
        self.points: list[ProgressPoint] = []

    def on_solution_callback(self) -> None:
        self.points.append(
            ProgressPoint(
                time.perf_counter() - self.started_at,
                self.objective_value,
                self.best_objective_bound,
            )
        )

    def on_bound(self, bound: float) -> None:
        self.points.append(ProgressPoint(time.perf_counter() - self.started_at, None, bound))


def solve_packing(
    items: Sequence[PackingItem],
    pool_sizes: Sequence[int],
    params: SolveParams,
    hint: Mapping[str, int],
    budget: Budget,
) -> PackingOutcome:
    """Choose at most one candidate per item (exactly one for required items).

    Written as a minimisation of *loss*: an item loses its best score minus the score of the
    chosen candidate, or its whole best score when it stays unplaced (an explicit literal in
    an exactly-one). The reported objective and bound are ``sum(best) - loss``, i.e. the summed
    scores. With the loss form CP-SAT starts from the bound "every item gets its best
    candidate" instead of "every literal is true", and its core-based search can raise it.

    Writing the model and solving it come out of ``budget``; when nothing is left for CP-SAT
    the outcome is UNKNOWN without a plan (callers fall back to their hint).
    """
    if not budget.deterministic and budget.remaining() < _MIN_SOLVE_S:
        return _unsolved()
    writing_started = time.perf_counter()
    writer = _ModelWriter()
    literals = [writer.new_bools(len(item.candidates)) for item in items]
    unplaced = writer.new_bools(len(items))
    assumptions = _item_constraints(writer, items, literals, unplaced)
    _resource_constraints(writer, items, literals, pool_sizes)
    _patient_constraints(writer, items, literals)
    _minimise_loss(writer, items, literals, unplaced)
    writer.hint(_hint_values(items, hint, literals, unplaced, assumptions))
    if assumptions:
        writer.proto.assumptions.extend(list(assumptions))
    if budget.deterministic:
        budget.charge(BUILD_SECONDS_PER_TERM * writer.terms)
        reserve = 0.0
    else:
        reserve = _FINISHING_SHARE_OF_WRITING * (time.perf_counter() - writing_started)
    solved = _solve(writer.model, params, budget, reserve)
    if solved is None:
        return _unsolved()
    solver, progress = solved
    return _outcome(solver, progress, items, literals, assumptions)


def _unsolved() -> PackingOutcome:
    return PackingOutcome({}, SolveStatus.UNKNOWN, None, None, (), ())


def _minimise_loss(
    writer: _ModelWriter,
    items: Sequence[PackingItem],
    literals: Sequence[range],
    unplaced: range,
) -> None:
    variables: list[int] = []
    losses: list[int] = []
    best_total = 0
    for item, lits, not_placed in zip(items, literals, unplaced, strict=True):
        best = max(c.score for c in item.candidates)
        best_total += best
        for candidate, literal in zip(item.candidates, lits, strict=True):
            if candidate.score < best:
                variables.append(literal)
                losses.append(best - candidate.score)
        variables.append(not_placed)
        losses.append(best)
    writer.terms += len(variables)
    objective = writer.proto.objective
    objective.vars.extend(variables)
    objective.coeffs.extend(losses)
    objective.offset = -float(best_total)
    objective.scaling_factor = -1.0


def _item_constraints(
    writer: _ModelWriter,
    items: Sequence[PackingItem],
    literals: Sequence[range],
    unplaced: range,
) -> dict[int, str]:
    """Exactly one of the candidates or "unplaced" per item; a required item gets an
    assumption literal that forbids "unplaced", so an infeasible model names the required
    items that cannot all be placed.
    """
    assumptions: dict[int, str] = {}
    for item, lits, not_placed in zip(items, literals, unplaced, strict=True):
        writer.exactly_one([*lits, not_placed])
        if item.required:
            (assumption,) = writer.new_bools(1)
            writer.false_if(not_placed, assumption)
            assumptions[assumption] = item.id
    return assumptions


def _resource_constraints(
    writer: _ModelWriter,
    items: Sequence[PackingItem],
    literals: Sequence[range],
    pool_sizes: Sequence[int],
) -> None:
    uses: dict[int, list[tuple[Minutes, int, int]]] = defaultdict(list)
    for item, lits in zip(items, literals, strict=True):
        before = item.type.buffer_before
        after = item.type.duration + item.type.buffer_after
        for candidate, literal in zip(item.candidates, lits, strict=True):
            span = (candidate.start - before, candidate.start + after)
            for pool, units in _units_per_pool(candidate.allocation):
                uses[pool].append((span, units, literal))
    for pool in sorted(uses):
        _clique_constraints(writer, uses[pool], pool_sizes[pool])


def _units_per_pool(allocation: Allocation) -> list[tuple[int, int]]:
    """(pool, units) with each pool once, so no literal appears twice in one row."""
    if len(allocation) == 1:
        return [(allocation[0][1], allocation[0][2])]
    merged: dict[int, int] = {}
    for _, pool, units in allocation:
        merged[pool] = merged.get(pool, 0) + units
    return list(merged.items())


def _patient_constraints(
    writer: _ModelWriter, items: Sequence[PackingItem], literals: Sequence[range]
) -> None:
    by_patient: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        by_patient[item.patient_id].append(index)
    for indices in by_patient.values():
        if len(indices) < 2:
            continue
        uses = [
            (items[i].type.patient_span(c.start), 1, literal)
            for i in indices
            for c, literal in zip(items[i].candidates, literals[i], strict=True)
        ]
        _clique_constraints(writer, uses, 1)


def _hint_values(
    items: Sequence[PackingItem],
    hint: Mapping[str, int],
    literals: Sequence[range],
    unplaced: range,
    assumptions: Mapping[int, str],
) -> list[int]:
    """A value for every variable (CP-SAT repairs nothing when the hint is complete)."""
    size = unplaced.stop + len(assumptions)
    values = [0] * size
    for item, lits, not_placed in zip(items, literals, unplaced, strict=True):
        chosen = hint.get(item.id)
        if chosen is None:
            values[not_placed] = 1
        else:
            values[lits[chosen]] = 1
    placed = {item.id for item in items if item.id in hint}
    for assumption, item_id in assumptions.items():
        values[assumption] = int(item_id in placed)
    return values


def _solve(
    model: cp_model.CpModel, params: SolveParams, budget: Budget, reserve_s: float
) -> tuple[cp_model.CpSolver, _Progress] | None:
    """Solve with what is left of the budget (None if that is too little to start).

    Deterministic: one worker and CP-SAT's deterministic time, no wall-clock limit (a
    wall-clock stop would make the plan depend on the machine's load again). Otherwise the
    wall-clock time left minus ``reserve_s`` for what comes after the search.

    All rows go into the LP at once: its bound and the LP-guided neighbourhoods are what make
    progress on these packing models.
    """
    limit = budget.remaining() - reserve_s
    if limit < _MIN_SOLVE_S:
        return None
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = params.num_workers
    parameters.random_seed = params.random_seed
    parameters.relative_gap_limit = params.relative_gap_limit
    parameters.log_search_progress = params.log_search
    parameters.add_lp_constraints_lazily = False
    parameters.cp_model_presolve = params.presolve
    if budget.deterministic:
        parameters.num_workers = 1
        parameters.max_deterministic_time = limit
    else:
        parameters.max_time_in_seconds = limit
    progress = _Progress(budget.started_at)
    solver.best_bound_callback = progress.on_bound
    solver.solve(model, progress)
    budget.charge(solver.response_proto.deterministic_time)
    return solver, progress


def _outcome(
    solver: cp_model.CpSolver,
    progress: _Progress,
    items: Sequence[PackingItem],
    literals: Sequence[range],
    assumptions: Mapping[int, str],
) -> PackingOutcome:
    response = solver.response_proto
    status = _STATUS.get(response.status, SolveStatus.UNKNOWN)
    has_solution = status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    chosen: dict[str, int] = {}
    if has_solution:
        values = response.solution
        for item, lits in zip(items, literals, strict=True):
            for index, literal in enumerate(lits):
                if values[literal]:
                    chosen[item.id] = index
                    break
    core: tuple[str, ...] = ()
    if status == SolveStatus.INFEASIBLE and assumptions:
        found = solver.sufficient_assumptions_for_infeasibility()
        core = tuple(sorted(assumptions[lit] for lit in found if lit in assumptions))
        core = core or tuple(sorted(assumptions.values()))
    return PackingOutcome(
        chosen=chosen,
        status=status,
        objective=solver.objective_value if has_solution else None,
        bound=solver.best_objective_bound if has_solution else None,
        progress=tuple(progress.points),
        core=core,
    )


_MAX_CORE_TO_MINIMISE = 30
# The checks of a core may use this share of the budget left (the plan without the
# requirement is solved after them) and each at most this long.
_CORE_SHARE = 0.5
_MAX_CHECK_S = 2.0


def minimise_core(
    items: Sequence[PackingItem],
    core: Sequence[str],
    pool_sizes: Sequence[int],
    params: SolveParams,
    budget: Budget,
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Drop required items from an infeasible set while the rest stays infeasible.

    CP-SAT's own core is often the whole assumption set; deletion keeps only the items that
    really compete. Each check is a small feasibility model of the remaining items alone, and
    all of them share part of ``budget``: a check that runs out of time keeps its item (the
    core is then still a conflicting set, if not the smallest).
    Returns the core and the pools all its items could use.
    """
    by_id = {item.id: item for item in items}
    kept = list(core)
    if len(kept) <= _MAX_CORE_TO_MINIMISE:
        checks = budget.part(_CORE_SHARE * budget.remaining())
        check_params = replace(params, log_search=False)
        for item_id in list(kept):
            rest = [by_id[i] for i in kept if i != item_id]
            if rest and _infeasible(rest, pool_sizes, check_params, checks.part(_MAX_CHECK_S)):
                kept.remove(item_id)
    final = tuple(sorted(kept))
    return final, _shared_pools(items, final)


def _infeasible(
    required: Sequence[PackingItem],
    pool_sizes: Sequence[int],
    params: SolveParams,
    budget: Budget,
) -> bool:
    forced = [replace(item, required=True) for item in required]
    outcome = solve_packing(forced, pool_sizes, params, {}, budget)
    return outcome.status == SolveStatus.INFEASIBLE


def _shared_pools(items: Sequence[PackingItem], core: Sequence[str]) -> tuple[int, ...]:
    """Pools every item of the core could use: the capacity they fight over."""
    in_core = [item for item in items if item.id in set(core)]
    if not in_core:
        return ()
    shared: set[int] | None = None
    for item in in_core:
        pools = {pool for c in item.candidates for _, pool, _ in c.allocation}
        shared = pools if shared is None else shared & pools
    return tuple(sorted(shared or ()))
