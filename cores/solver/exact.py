"""Exact feasibility for the offers' protection: can a set of urgent tasks all still be placed
before their deadlines, with some capacity taken?

The question is always asked about a *plan* (placements of the protected tasks, which is
feasible) and a set of *free* tasks ``D`` that may move; the plan's other tasks stay where they
are. A small CP-SAT model places every task of ``D`` (any start before its deadline that the
start table allows, any pools free there) together with one of the offer's allocations (the
*taken* capacity, when there is one), with capacity per pool and one appointment at a time per
patient.

- If that model (the *restriction*) is feasible, so is the whole problem: the rest of the plan
  did not move. Verdict: feasible, with the new placements.
- The tasks of the plan outside ``D`` whose placements use a pool, or the patient, at a time some
  candidate of ``D`` (or of the offer) needs are ``D``'s *blockers*. When ``D`` holds all its
  blockers, the fixed tasks touch no candidate of the model, so freeing them could not help:
  an infeasible restriction is then a proof. Verdict: infeasible, exactly.
- Otherwise ``D`` grows by its blockers (the most flexible first) and the model is solved
  again, within ``ExactBudget``. For an offer the tasks are first moved only near it
  (``local_minutes``): a cheap search for a rearrangement nearby, which can only prove
  feasibility; then over their whole windows.
- When the budget runs out: the model of ``D`` alone, with every other task of the plan
  dropped (the *relaxation*), is solved; infeasible there is a proof too. Else: undecided.

Every feasible and every infeasible verdict is exact; only ``UNDECIDED`` is not, and the
callers treat it conservatively (an offer is withheld, a task that could not be shown to fit
is reported as unprotected). The CP-SAT budget is deterministic time on one worker, and the
models' size is bounded per check and per request (``Allowance``), so the same input gives the
same verdict under any load.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from ortools.sat.python import cp_model

from cores.intervals import merge_spans, spans_overlap
from cores.solver.allocation import Allocation, pool_units
from cores.solver.context import PlanningContext
from cores.solver.domain import Minutes
from cores.solver.greedy import Placement, urgency_key
from cores.solver.items import ItemSpec
from cores.solver.occupancy import PatientUsage, PoolUsage


class Verdict(Enum):
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class ExactBudget:
    """Bounds of one exact check: the free tasks (``max_free``), the variables of one model
    (``max_candidates``: a start of a task, or a pool at that start), how often ``D`` grows
    (``max_rounds``, by at most ``grow_by`` tasks, the most flexible blockers first: latest
    deadline first) and CP-SAT's deterministic time per solve (one worker)."""

    max_free: int = 12
    max_candidates: int = 1500
    max_rounds: int = 4
    grow_by: int = 4
    deterministic_time_s: float = 0.05
    # The first search moves tasks only this close to the offer (0: not at all).
    local_minutes: int = 240
    # Variables all the checks of one request (one ``Protection``) may build together; when
    # they are used up, the remaining checks are undecided without being tried.
    per_request: int = 1000


class Allowance:
    """What is left of ``ExactBudget.per_request``."""

    def __init__(self, budget: ExactBudget) -> None:
        self.left = budget.per_request


@dataclass(frozen=True, slots=True)
class Taken:
    """Capacity an offer would take: one of ``allocations`` (in order of preference) over
    ``span``, and the patient over ``patient_span``."""

    span: Minutes
    patient_id: str
    patient_span: Minutes
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    # With FEASIBLE: the index of the allocation used in ``Taken.allocations`` (the lowest the
    # model found) and the new placements of the tasks that were free.
    allocation_index: int | None = None
    placements: dict[str, Placement] = field(default_factory=dict)
    solves: int = 0


class PlanState:
    """A plan with its occupancy, indexed for the exact check (shared with ``Protection``)."""

    def __init__(self, context: PlanningContext, items: dict[str, ItemSpec]) -> None:
        self.context = context
        self.items = items
        self.placements: dict[str, Placement] = {}
        self.usage = PoolUsage(context.pools)
        self.patients = PatientUsage()
        self.by_pool: dict[int, set[str]] = defaultdict(set)
        self.by_patient: dict[str, set[str]] = defaultdict(set)

    def book(self, item_id: str, placement: Placement) -> None:
        item = self.items[item_id]
        self.usage.book(placement.allocation, item.type.resource_span(placement.start))
        self.patients.book(item.patient_id, item.type.patient_span(placement.start))

    def release(self, item_id: str, placement: Placement) -> None:
        item = self.items[item_id]
        self.usage.release(placement.allocation, item.type.resource_span(placement.start))
        self.patients.release(item.patient_id, item.type.patient_span(placement.start))

    def place(self, item_id: str, placement: Placement) -> None:
        """Add ``item_id`` to the plan (or move it there)."""
        old = self.placements.get(item_id)
        if old is not None:
            self.release(item_id, old)
            for pool in pool_units(old.allocation):
                self.by_pool[pool].discard(item_id)
        self.book(item_id, placement)
        self.placements[item_id] = placement
        for pool in pool_units(placement.allocation):
            self.by_pool[pool].add(item_id)
        self.by_patient[self.items[item_id].patient_id].add(item_id)

    def users(self, pool: int, span: Minutes, exclude: set[str]) -> list[str]:
        """Tasks of the plan (not in ``exclude``) holding ``pool`` during ``span``."""
        found = []
        for item_id in self.by_pool.get(pool, ()):
            if item_id in exclude:
                continue
            item = self.items[item_id]
            if spans_overlap(item.type.resource_span(self.placements[item_id].start), span):
                found.append(item_id)
        return found

    def patient_users(self, patient_id: str, span: Minutes, exclude: set[str]) -> list[str]:
        found = []
        for item_id in self.by_patient.get(patient_id, ()):
            if item_id in exclude or item_id not in self.placements:
                continue
            item = self.items[item_id]
            if spans_overlap(item.type.patient_span(self.placements[item_id].start), span):
                found.append(item_id)
        return found


def check(
    state: PlanState,
    free: Iterable[str],
    taken: Taken | None,
    budget: ExactBudget,
    allowance: Allowance,
) -> Outcome:
    """Whether the plan's tasks, with those in ``free`` allowed to move (they need not be in
    the plan yet: a task being added), can all be placed together with ``taken``.

    With ``taken``, the tasks are first moved only within ``budget.local_minutes`` of it (a
    cheap search for a rearrangement nearby, which can only show feasibility); then over their
    whole windows, where a closed group proves infeasibility; then the relaxation."""
    solves = 0
    if taken is not None and budget.local_minutes:
        near = (taken.span[0] - budget.local_minutes, taken.span[1] + budget.local_minutes)
        outcome, _ = _rounds(state, set(free), taken, budget, allowance, near)
        solves += outcome.solves
        if outcome.verdict is Verdict.FEASIBLE:
            return outcome
    outcome, group = _rounds(state, set(free), taken, budget, allowance, None)
    solves += outcome.solves
    if outcome.verdict is not Verdict.UNDECIDED:
        return Outcome(outcome.verdict, outcome.allocation_index, outcome.placements, solves)
    limit = min(budget.max_candidates, allowance.left)
    if limit <= 0:
        return Outcome(Verdict.UNDECIDED, solves=solves)
    relaxed = _Model(state, group, taken, restricted=False, limit=limit)
    allowance.left -= relaxed.candidates
    if not relaxed.too_large:
        verdict, _ = relaxed.solve(budget)
        solves += 1
        if verdict is Verdict.INFEASIBLE:
            return Outcome(Verdict.INFEASIBLE, solves=solves)
    return Outcome(Verdict.UNDECIDED, solves=solves)


def _rounds(
    state: PlanState,
    group: set[str],
    taken: Taken | None,
    budget: ExactBudget,
    allowance: Allowance,
    near: Minutes | None,
) -> tuple[Outcome, set[str]]:
    """Restricted models, the group growing by its blockers. Infeasible is concluded only
    over whole windows (``near`` None) and a closed group."""
    solves = 0
    for _ in range(budget.max_rounds):
        limit = min(budget.max_candidates, allowance.left)
        if limit <= 0:
            break
        model = _Model(state, group, taken, restricted=True, limit=limit, near=near)
        allowance.left -= model.candidates
        if model.too_large:
            break
        verdict, outcome = model.solve(budget)
        solves += not model.infeasible
        if verdict is Verdict.FEASIBLE:
            return Outcome(verdict, outcome[0], outcome[1], solves), group
        if verdict is Verdict.UNDECIDED:
            break
        new = model.blockers - group
        if not new:
            if near is None:
                return Outcome(Verdict.INFEASIBLE, solves=solves), group
            break
        room = min(budget.grow_by, budget.max_free - len(group))
        if room <= 0:
            break
        flexible_first = sorted(new, key=lambda i: urgency_key(state.items[i]), reverse=True)
        group = group | set(flexible_first[:room])
    return Outcome(Verdict.UNDECIDED, solves=solves), group


_Use = tuple[Minutes, cp_model.IntVar, int]


class _Model:
    """The CP-SAT model of one check. ``restricted``: the plan's tasks outside ``group`` are
    fixed (their capacity is taken; the ones in the way are recorded in ``blockers``); else
    they are ignored (the relaxation)."""

    def __init__(
        self,
        state: PlanState,
        group: set[str],
        taken: Taken | None,
        *,
        restricted: bool,
        limit: int,
        near: Minutes | None = None,
    ) -> None:
        self.state = state
        self.model = cp_model.CpModel()
        self._blocked: dict[int, list[Minutes]] = defaultdict(list)
        self._blocked_patient: list[tuple[str, Minutes]] = []
        self.candidates = 0
        self.too_large = False
        self._limit = limit
        self._near = near
        self.restricted = restricted
        self.infeasible = False
        self._group = group
        self._pool_uses: dict[int, list[_Use]] = defaultdict(list)
        self._patient_uses: dict[str, list[tuple[Minutes, cp_model.IntVar]]] = defaultdict(list)
        self._starts: dict[str, list[tuple[int, cp_model.IntVar]]] = {}
        self._parts: dict[str, dict[int, list[tuple[int, int, cp_model.IntVar]]]] = {}
        self._choices: dict[int, cp_model.IntVar] = {}
        released = [i for i in sorted(group) if i in state.placements]
        for item_id in released:
            state.release(item_id, state.placements[item_id])
        try:
            if taken is not None:
                self._add_taken(taken)
            for item_id in sorted(group, key=lambda i: urgency_key(state.items[i])):
                self._add_item(state.items[item_id])
                if self.too_large:
                    return
            if not self.infeasible:
                self._add_capacity()
        finally:
            for item_id in released:
                state.book(item_id, state.placements[item_id])

    # Residual capacity of the fixed part of the plan (restricted only).
    def _free_units(self, pool: int, span: Minutes) -> int:
        size = self.state.context.pools[pool].size
        if not self.restricted:
            return size
        free = self.state.usage.free_units(pool, span)
        if free < size:
            self._blocked[pool].append(span)
        return free

    def _patient_free(self, patient_id: str, span: Minutes) -> bool:
        if not self.restricted or self.state.patients.is_free(patient_id, span):
            return True
        self._blocked_patient.append((patient_id, span))
        return False

    @property
    def blockers(self) -> set[str]:
        """The fixed tasks in the way of some candidate (restricted models only)."""
        found: set[str] = set()
        for pool, spans in self._blocked.items():
            merged = merge_spans(spans)
            for item_id in self.state.by_pool.get(pool, ()):
                if item_id in self._group or item_id in found:
                    continue
                item = self.state.items[item_id]
                held = item.type.resource_span(self.state.placements[item_id].start)
                if any(spans_overlap(held, span) for span in merged):
                    found.add(item_id)
        for patient_id, span in self._blocked_patient:
            found.update(self.state.patient_users(patient_id, span, self._group))
        return found

    def _add_taken(self, taken: Taken) -> None:
        if not self._patient_free(taken.patient_id, taken.patient_span):
            self.infeasible = True  # until the patient's other task is free to move
        usable = []
        for index, allocation in enumerate(taken.allocations):
            units = pool_units(allocation)
            # Every pool is asked (no short cut), so that every blocker is recorded.
            free = {p: self._free_units(p, taken.span) for p in units}
            if all(free[p] >= u for p, u in units.items()):
                usable.append((index, units))
        if not usable:
            self.infeasible = True
            return
        for index, units in usable:
            choice = self.model.new_bool_var(f"taken{index}")
            self._choices[index] = choice
            for pool, count in units.items():
                self._pool_uses[pool].append((taken.span, choice, count))
        self.model.add_exactly_one(self._choices.values())
        self.model.minimize(sum(index * choice for index, choice in self._choices.items()))
        always = self.model.new_constant(1)
        self._patient_uses[taken.patient_id].append((taken.patient_span, always))

    def _add_item(self, item: ItemSpec) -> None:
        context = self.state.context
        table = context.start_table(item.type.id, item.type.grid_minutes)
        counts = [r.count for r in item.type.requirements]
        starts: list[tuple[int, cp_model.IntVar]] = []
        parts: dict[int, list[tuple[int, int, cp_model.IntVar]]] = {}
        starts_allowed = item.allowed_starts(table.starts)
        if self._near is not None:
            low, high = self._near
            starts_allowed = [s for s in starts_allowed if low <= s <= high]
            if item.id in self.state.placements:
                # Staying put is always a candidate.
                current = self.state.placements[item.id].start
                if current not in starts_allowed:
                    starts_allowed.append(current)
        for start in starts_allowed:
            if self.candidates > self._limit:
                self.too_large = True
                return
            patient_span = item.type.patient_span(start)
            if not self._patient_free(item.patient_id, patient_span):
                continue
            span = item.type.resource_span(start)
            options: list[list[tuple[int, int]]] = []
            for pools, count in zip(table.pools_at[start], counts, strict=True):
                usable = [(p, min(count, f)) for p in pools if (f := self._free_units(p, span))]
                if sum(units for _, units in usable) < count:
                    break
                options.append(usable)
            else:
                chosen = self.model.new_bool_var(f"{item.id}@{start}")
                starts.append((start, chosen))
                self.candidates += 1
                parts[start] = []
                for index, (usable, count) in enumerate(zip(options, counts, strict=True)):
                    terms = []
                    for pool, most in usable:
                        if count == 1:
                            units = self.model.new_bool_var("")
                        else:
                            units = self.model.new_int_var(0, most, "")
                        terms.append(units)
                        self.candidates += 1
                        parts[start].append((index, pool, units))
                        self._pool_uses[pool].append((span, units, most))
                    self.model.add(sum(terms) == count * chosen)
                self._patient_uses[item.patient_id].append((patient_span, chosen))
        if not starts:
            self.infeasible = True
            return
        self.model.add_exactly_one([var for _, var in starts])
        self._starts[item.id] = starts
        self._parts[item.id] = parts

    def _add_capacity(self) -> None:
        context = self.state.context
        for pool, uses in self._pool_uses.items():
            size = context.pools[pool].size
            extra: list[int] = []
            if size > 1 and self.restricted:
                # The fixed load changes where a fixed booking starts: look there too.
                low = min(span[0] for span, _, _ in uses)
                high = max(span[1] for span, _, _ in uses)
                extra = self.state.usage.entry_starts(pool, (low, high))
            for point, active in _cliques(uses, extra):
                # Size-1 pools: candidates were kept only where the pool is wholly free.
                capacity = self._free_units(pool, (point, point + 1)) if size > 1 else 1
                if sum(most for _, _, most in active) > capacity:
                    self.model.add(sum(units * 1 for _, units, _ in active) <= capacity)
        for uses_of_patient in self._patient_uses.values():
            spans: list[_Use] = [(span, var, 1) for span, var in uses_of_patient]
            for _, active in _cliques(spans, []):
                if len(active) > 1:
                    self.model.add(sum(var * 1 for _, var, _ in active) <= 1)

    def solve(self, budget: ExactBudget) -> tuple[Verdict, tuple[int | None, dict[str, Placement]]]:
        if self.infeasible:
            return Verdict.INFEASIBLE, (None, {})
        solver = cp_model.CpSolver()
        parameters = solver.parameters
        parameters.num_workers = 1
        parameters.random_seed = 0
        parameters.max_deterministic_time = budget.deterministic_time_s
        status = solver.solve(self.model)
        if status == cp_model.INFEASIBLE:
            return Verdict.INFEASIBLE, (None, {})
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Verdict.UNDECIDED, (None, {})
        index = None
        for candidate, choice in sorted(self._choices.items()):
            if solver.value(choice):
                index = candidate
                break
        placements = {}
        for item_id, starts in self._starts.items():
            start = next(s for s, var in starts if solver.value(var))
            allocation = tuple(
                (requirement, pool, value)
                for requirement, pool, units in self._parts[item_id][start]
                if (value := solver.value(units))
            )
            placements[item_id] = Placement(start, allocation)
        return Verdict.FEASIBLE, (index, placements)


def _cliques(uses: Sequence[_Use], extra: Iterable[int]) -> list[tuple[int, list[_Use]]]:
    """Per start of a span (and per ``extra`` point), the uses whose span contains it: every
    maximal set of overlapping spans is among them."""
    ordered = sorted(uses, key=lambda use: use[0][0])
    points = sorted({span[0] for span, _, _ in ordered} | set(extra))
    result = []
    active: list[_Use] = []
    next_use = 0
    for point in points:
        while next_use < len(ordered) and ordered[next_use][0][0] <= point:
            active.append(ordered[next_use])
            next_use += 1
        active = [use for use in active if use[0][1] > point]
        if active:
            result.append((point, list(active)))
    return result
