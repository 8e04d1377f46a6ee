"""Keeping capacity for more urgent pending tasks when offering times to a patient.

A *reference plan* places every more urgent pending task (earlier deadline or higher priority)
before its deadline, in urgency order, each at its first free start. A candidate offer is safe
for sure when it does not need capacity of that plan, or when the tasks it would displace can be
placed again before their deadlines in what is left (a local repair). Both are sufficient
conditions only. In exact mode (``Protection(exact=True)``, what ``offers`` uses) a task the
first fit cannot place, and an offer the repair cannot absorb, go to the exact check of
``exact.py``; ``Protection`` says precisely which tasks count and what is exact.
``as_late_as_possible`` (greedy mode only) mirrors the plan; on the offers benchmark it
withholds more times, so it is not the default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

from cores.solver.allocation import Allocation, pool_units
from cores.solver.context import PlanningContext
from cores.solver.domain import Minutes
from cores.solver.exact import Allowance, ExactBudget, PlanState, Taken, Verdict, check
from cores.solver.greedy import Placement, first_fit, greedy_placements, urgency_key
from cores.solver.items import ItemSpec


class _Urgency(Protocol):
    @property
    def deadline(self) -> int | None: ...

    @property
    def priority(self) -> int: ...


def is_more_urgent(other: _Urgency, than: _Urgency) -> bool:
    """Earlier deadline or higher priority."""
    if other.deadline is not None and than.deadline is not None and other.deadline < than.deadline:
        return True
    return other.priority > than.priority


def before_deadline(item: ItemSpec) -> ItemSpec:
    """The same item restricted to starts that meet its deadline."""
    if item.deadline is None:
        return item
    allowed = tuple(
        (low, min(high, item.deadline + 1)) for low, high in item.allowed if low <= item.deadline
    )
    return ItemSpec(
        id=item.id,
        patient_id=item.patient_id,
        type=item.type,
        window=(item.window[0], min(item.window[1], item.deadline)),
        allowed=allowed,
        fit_starts=item.fit_starts,
        deadline=item.deadline,
        priority=item.priority,
        preferences=item.preferences,
    )


class Protection:
    """The reference plan of the more urgent tasks and the safety verdicts of offers.

    With ``exact`` (the default for offers) the protected set and the verdicts are exact:

    - *Which tasks count*: the more urgent tasks are taken in urgency order (``urgency_key``)
      and each one is protected if it can be placed before its deadline together with all the
      tasks protected before it: first fit when that works, else the exact check of ``exact.py``
      (which may move the earlier ones). So the protected set is the urgency-first maximal set
      of tasks that can all meet their deadlines; a task outside it cannot meet its deadline
      without making a more urgent one miss, and is reported in ``unprotected_ids``.
    - *An offer is safe* when the protected tasks can all still be placed before their
      deadlines with the offer's capacity (resources over its span, the patient over the
      appointment) taken. The greedy test (the plan survives directly, or after first-fit
      re-placing the tasks the offer displaces) answers "safe" fast; only when it says no does
      the exact check decide, growing from the displaced tasks to the tasks in their way. A task
      whose candidate starts touch neither the offer's pools and time nor its patient is never
      in that model unless a chain of displacements reaches it.
    - *What remains approximate*: a check that exceeds ``ExactBudget`` is undecided; an
      undecided offer is withheld (counted in ``undecided``), an undecided task is left out of
      the protected set (listed in ``unprotected_ids`` and ``undecided_ids``). The allocation
      of a safe offer is the first the greedy test accepts, else the best-ranked one the exact
      check found, which is always safe but not always the best-ranked safe one.

    Without ``exact`` it is the greedy reference plan with local repair only: both sufficient
    conditions, so a "safe" offer is safe for the plan's tasks, but a task the greedy plan
    failed to place is not protected, and an offer the repair cannot absorb is withheld even
    when another arrangement would absorb it.
    """

    def __init__(
        self,
        context: PlanningContext,
        protected: Sequence[ItemSpec],
        *,
        as_late_as_possible: bool = False,
        exact: bool = False,
        patient_id: str | None = None,
        budget: ExactBudget | None = None,
    ) -> None:
        self._context = context
        self._late = as_late_as_possible
        self._exact = exact
        self._patient_id = patient_id
        self._budget = budget or ExactBudget()
        self._allowance = Allowance(self._budget)
        self._items = {item.id: before_deadline(item) for item in protected}
        self._state = PlanState(context, self._items)
        self._usage = self._state.usage
        self._patients = self._state.patients
        self.undecided = 0
        self.exact_checks = 0
        self.undecided_ids: tuple[str, ...] = ()
        if exact:
            self._build_exact_plan()
        else:
            placements = greedy_placements(
                context,
                list(self._items.values()),
                None,
                self._usage,
                self._patients,
                as_late_as_possible=as_late_as_possible,
            )
            for item_id, placement in placements.items():
                self._state.placements[item_id] = placement
                for pool in pool_units(placement.allocation):
                    self._state.by_pool[pool].add(item_id)
                self._state.by_patient[self._items[item_id].patient_id].add(item_id)
        self._placements = self._state.placements
        self._verdicts: dict[tuple[Minutes, tuple[tuple[int, int], ...]], bool] = {}
        self._exact_verdicts: dict[tuple[Minutes, tuple[Allocation, ...]], int | None] = {}

    def _build_exact_plan(self) -> None:
        undecided = []
        # Starts known to be full per type and grid; valid while bookings are only added.
        full: dict[tuple[str, int], set[int]] = defaultdict(set)
        for item in sorted(self._items.values(), key=urgency_key):
            table = self._context.start_table(item.type.id, item.type.grid_minutes)
            starts = item.allowed_starts(table.starts)
            if not starts:
                continue
            placement = first_fit(
                self._context,
                item,
                starts,
                table,
                self._usage,
                self._patients,
                full[(item.type.id, table.grid)],
            )
            if placement is not None:
                self._state.place(item.id, placement)
                continue
            outcome = check(self._state, [item.id], None, self._budget, self._allowance)
            self.exact_checks += 1
            if outcome.verdict is Verdict.FEASIBLE:
                full.clear()  # tasks moved: capacity was freed somewhere
                for item_id, moved in sorted(outcome.placements.items()):
                    self._state.place(item_id, moved)
            elif outcome.verdict is Verdict.UNDECIDED:
                undecided.append(item.id)
        self.undecided_ids = tuple(sorted(undecided))

    def new_request(self) -> None:
        """A new request with this plan: the exact budget afresh, nothing undecided yet."""
        self._allowance = Allowance(self._budget)
        self.undecided = 0

    @property
    def unprotected_ids(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._items) - set(self._placements)))

    def first_safe(
        self, span: Minutes, patient_span: Minutes, allocations: Iterable[Allocation]
    ) -> Allocation | None:
        """The allocation (of ``allocations``, best first) an offer over ``span`` gets, or
        None when every one of them takes capacity the protected tasks need."""
        tried = []
        for allocation in allocations:
            if self.is_safe(span, allocation, patient_span):
                return allocation
            tried.append(allocation)
        if not self._exact or not tried or self._patient_id is None:
            return None
        key = (span, tuple(tried))
        if key in self._exact_verdicts:
            index = self._exact_verdicts[key]
        else:
            taken = Taken(span, self._patient_id, patient_span, tuple(tried))
            outcome = check(self._state, (), taken, self._budget, self._allowance)
            self.exact_checks += 1
            index = outcome.allocation_index
            if outcome.verdict is Verdict.UNDECIDED:
                self.undecided += 1  # withheld to be safe, and asked again next time
            else:
                self._exact_verdicts[key] = index
        return None if index is None else tried[index]

    def verdict(self, span: Minutes, patient_span: Minutes, allocation: Allocation) -> Verdict:
        """Whether taking ``allocation`` over ``span`` (and the asking patient over
        ``patient_span``) leaves the protected tasks an arrangement: FEASIBLE, INFEASIBLE, or
        UNDECIDED within the budget (the judge of the offers benchmark)."""
        if self.is_safe(span, allocation, patient_span):
            return Verdict.FEASIBLE
        if self._patient_id is None:
            raise ValueError("the exact verdict needs the asking patient")
        taken = Taken(span, self._patient_id, patient_span, (allocation,))
        return check(self._state, (), taken, self._budget, self._allowance).verdict

    def is_safe(
        self, span: Minutes, allocation: Allocation, patient_span: Minutes | None = None
    ) -> bool:
        """Whether the reference plan survives taking ``allocation`` over ``span`` (and the
        asking patient over ``patient_span``, in exact mode), directly or after first-fit
        re-placing the tasks it displaces. Verdicts are cached per span and pools, which
        allocations of one start often share.
        """
        key = (span, tuple(sorted(pool_units(allocation).items())))
        verdict = self._verdicts.get(key)
        if verdict is None:
            patient = self._patient(patient_span)
            displaced = self._displaced(span, allocation, patient)
            verdict = not displaced or self._repairable(span, allocation, displaced, patient)
            self._verdicts[key] = verdict
        return verdict

    def _patient(self, patient_span: Minutes | None) -> tuple[str, Minutes] | None:
        if not self._exact or self._patient_id is None or patient_span is None:
            return None
        return (self._patient_id, patient_span)

    def _displaced(
        self, span: Minutes, allocation: Allocation, patient: tuple[str, Minutes] | None
    ) -> list[str]:
        found: set[str] = set()
        for pool, units in pool_units(allocation).items():
            if self._usage.free_units(pool, span) >= units:
                continue
            found.update(self._state.users(pool, span, set()))
        if patient is not None:
            found.update(self._state.patient_users(patient[0], patient[1], set()))
        return sorted(found, key=lambda i: urgency_key(self._items[i]))

    def _repairable(
        self,
        span: Minutes,
        allocation: Allocation,
        displaced: list[str],
        patient: tuple[str, Minutes] | None,
    ) -> bool:
        """Take the candidate, then try to put every displaced task back; always undo."""
        for item_id in displaced:
            self._release(item_id, self._placements[item_id])
        self._usage.book(allocation, span)
        if patient is not None:
            self._patients.book(*patient)
        replaced: dict[str, Placement] = {}
        ok = True
        for item_id in displaced:
            placement = self._place_again(self._items[item_id])
            if placement is None:
                ok = False
                break
            replaced[item_id] = placement
            self._book(item_id, placement)
        for item_id, placement in replaced.items():
            self._release(item_id, placement)
        if patient is not None:
            self._patients.release(*patient)
        self._usage.release(allocation, span)
        for item_id in displaced:
            self._book(item_id, self._placements[item_id])
        return ok

    def _place_again(self, item: ItemSpec) -> Placement | None:
        table = self._context.start_table(item.type.id, item.type.grid_minutes)
        starts = item.allowed_starts(table.starts)
        if self._late:
            starts.reverse()
        return first_fit(self._context, item, starts, table, self._usage, self._patients)

    def _book(self, item_id: str, placement: Placement) -> None:
        self._state.book(item_id, placement)

    def _release(self, item_id: str, placement: Placement) -> None:
        self._state.release(item_id, placement)
