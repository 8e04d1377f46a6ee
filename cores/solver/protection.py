"""Keeping capacity for more urgent pending tasks when offering times to a patient.

A *reference plan* places every more urgent pending task (earlier deadline or higher priority)
before its deadline, greedily in deadline order (``as_late_as_possible`` mirrors that; on the
offers benchmark it withholds more times, so it is not the default). A candidate offer is safe
when it does not need capacity of that plan, or when the tasks it would displace can be placed
again before their deadlines in what is left (a local repair). Both are sufficient conditions:
a safe offer never makes a task of the reference plan miss its deadline. Tasks the reference
plan could not place before their deadline in the first place are reported as unprotected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from cores.intervals import spans_overlap
from cores.solver.allocation import Allocation, pool_units
from cores.solver.context import PlanningContext
from cores.solver.domain import Minutes
from cores.solver.greedy import Placement, first_fit, greedy_placements, urgency_key
from cores.solver.items import ItemSpec
from cores.solver.occupancy import PatientUsage, PoolUsage


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
    def __init__(
        self,
        context: PlanningContext,
        protected: Sequence[ItemSpec],
        *,
        as_late_as_possible: bool = False,
    ) -> None:
        self._context = context
        self._late = as_late_as_possible
        self._items = {item.id: before_deadline(item) for item in protected}
        self._usage = PoolUsage(context.pools)
        self._patients = PatientUsage()
        self._placements = greedy_placements(
            context,
            list(self._items.values()),
            None,
            self._usage,
            self._patients,
            as_late_as_possible=as_late_as_possible,
        )
        self._verdicts: dict[tuple[Minutes, tuple[tuple[int, int], ...]], bool] = {}
        self._by_pool: dict[int, list[str]] = defaultdict(list)
        for item_id, placement in self._placements.items():
            for pool in pool_units(placement.allocation):
                self._by_pool[pool].append(item_id)

    @property
    def unprotected_ids(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._items) - set(self._placements)))

    def is_safe(self, span: Minutes, allocation: Allocation) -> bool:
        """Whether the reference plan survives taking ``allocation`` over ``span``. Verdicts
        are cached per span and pools, which allocations of one start often share.
        """
        key = (span, tuple(sorted(pool_units(allocation).items())))
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._usage.fits(allocation, span) or self._repairable(
                span, allocation, self._displaced(span, allocation)
            )
            self._verdicts[key] = verdict
        return verdict

    def _displaced(self, span: Minutes, allocation: Allocation) -> list[str]:
        found: set[str] = set()
        for pool, units in pool_units(allocation).items():
            if self._usage.free_units(pool, span) >= units:
                continue
            for item_id in self._by_pool[pool]:
                item = self._items[item_id]
                if spans_overlap(item.type.resource_span(self._placements[item_id].start), span):
                    found.add(item_id)
        return sorted(found, key=lambda i: urgency_key(self._items[i]))

    def _repairable(self, span: Minutes, allocation: Allocation, displaced: list[str]) -> bool:
        """Take the candidate, then try to put every displaced task back; always undo."""
        for item_id in displaced:
            self._release(item_id, self._placements[item_id])
        self._usage.book(allocation, span)
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
        item = self._items[item_id]
        self._usage.book(placement.allocation, item.type.resource_span(placement.start))
        self._patients.book(item.patient_id, item.type.patient_span(placement.start))

    def _release(self, item_id: str, placement: Placement) -> None:
        item = self._items[item_id]
        self._usage.release(placement.allocation, item.type.resource_span(placement.start))
        self._patients.release(item.patient_id, item.type.patient_span(placement.start))
