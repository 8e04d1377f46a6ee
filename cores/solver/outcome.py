"""Turning chosen placements into result dataclasses (shared by batch, greedy and re-plan)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cores.solver.allocation import Allocation
from cores.solver.assign import Booked, assign_members
from cores.solver.context import PlanningContext
from cores.solver.explain import format_window
from cores.solver.items import ItemSpec
from cores.solver.results import Assignment, Reason, Unplaced


def resource_ids_for(
    context: PlanningContext,
    items: Mapping[str, ItemSpec],
    chosen: Mapping[str, tuple[int, Allocation]],
    *,
    keep_original: bool = False,
) -> dict[str, tuple[str, ...]]:
    """Members for each chosen allocation, preferring the patient's preferred resources and,
    with ``keep_original``, the resources an appointment had before.
    """
    booked = {
        item_id: Booked(
            items[item_id].type, start, allocation, _preferred(items[item_id], keep_original)
        )
        for item_id, (start, allocation) in chosen.items()
    }
    return assign_members(context, booked)


def _preferred(item: ItemSpec, keep_original: bool) -> frozenset[str]:
    if keep_original:
        return item.preferences.resource_ids | frozenset(item.original_resource_ids)
    return item.preferences.resource_ids


def build_assignments(
    context: PlanningContext,
    items: Mapping[str, ItemSpec],
    chosen: Mapping[str, tuple[int, Allocation, int]],
) -> tuple[Assignment, ...]:
    """``chosen`` maps item id to (start, allocation, score)."""
    resources = resource_ids_for(context, items, {k: (s, a) for k, (s, a, _) in chosen.items()})
    assignments = []
    for item_id in sorted(chosen):
        start, _, score = chosen[item_id]
        item = items[item_id]
        assignments.append(
            Assignment(
                item_id=item_id,
                start=start,
                end=start + item.type.duration,
                resource_ids=resources[item_id],
                deadline_met=item.meets_deadline(start),
                fits_availability=item.fits_availability(start),
                score=score,
            )
        )
    return tuple(assignments)


def capacity_taken(context: PlanningContext, item: ItemSpec, options: int, by: str) -> Unplaced:
    return Unplaced(
        item.id,
        Reason.CAPACITY_TAKEN,
        f"all {options} possible time(s) in window {format_window(context.time, item.window)} {by}",
    )


def sorted_unplaced(unplaced: Sequence[Unplaced]) -> tuple[Unplaced, ...]:
    return tuple(sorted(unplaced, key=lambda u: u.item_id))
