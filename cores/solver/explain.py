"""Why an item has no possible placement at all, checked from the most basic cause down."""

from __future__ import annotations

from cores.solver.allocation import first_allocation
from cores.solver.context import PlanningContext, StartTable
from cores.solver.domain import TimeModel
from cores.solver.items import ItemSpec
from cores.solver.results import Reason, Unplaced


def format_minute(time: TimeModel, minute: int) -> str:
    of_day = time.minute_of_day(minute)
    return f"day {time.day_of(minute)} {of_day // 60:02d}:{of_day % 60:02d}"


def format_window(time: TimeModel, window: tuple[int, int]) -> str:
    return f"[{format_minute(time, window[0])} .. {format_minute(time, window[1])}]"


def explain_no_candidates(context: PlanningContext, item: ItemSpec, table: StartTable) -> Unplaced:
    """The first failing check among: matching resources, window, patient, free capacity."""
    for check in (_matching_resources, _window, _patient, _capacity):
        found = check(context, item, table)
        if found is not None:
            return found
    return Unplaced(
        item.id,
        Reason.PATIENT_UNAVAILABLE_WHEN_FREE,
        "the required resources are free in the window only when the patient is unavailable "
        "or already booked",
    )


def _matching_resources(
    context: PlanningContext, item: ItemSpec, table: StartTable
) -> Unplaced | None:
    for index, requirement in enumerate(item.type.requirements):
        matching = context.matching_resource_count(item.type.id, index)
        if matching < requirement.count:
            return Unplaced(
                item.id,
                Reason.NO_MATCHING_RESOURCE,
                f"requirement {requirement.label} of type {item.type.id}: "
                f"only {matching} matching resource(s)",
            )
    return _distinct_resources(context, item)


def _distinct_resources(context: PlanningContext, item: ItemSpec) -> Unplaced | None:
    """Every requirement has enough matches on its own, but the resources of one appointment
    must be distinct: "a gastro clinician + a clinician" needs two clinicians."""
    type_id = item.type.id
    requirements = item.type.requirements
    eligible = [context.eligible_pools(type_id, index) for index in range(len(requirements))]
    counts = [r.count for r in requirements]
    if first_allocation(eligible, counts, context.pool_size) is not None:
        return None
    pools = {pool for pools in eligible for pool in pools}
    labels = " + ".join(r.label for r in requirements)
    return Unplaced(
        item.id,
        Reason.NO_MATCHING_RESOURCE,
        f"{labels} of type {type_id} need {sum(counts)} distinct resources: only "
        f"{sum(context.pools[p].size for p in pools)} match any of them",
    )


def _window(context: PlanningContext, item: ItemSpec, table: StartTable) -> Unplaced | None:
    """An appointment being re-planned may always keep its own start, on the grid or not."""
    first, last = item.window
    if item.original_start is not None and first <= item.original_start <= last:
        return None
    if next(context.time.grid_starts(first, last, table.grid), None) is None:
        window = format_window(context.time, (first, last))
        return Unplaced(
            item.id, Reason.EMPTY_WINDOW, f"no {table.grid}-minute grid start in window {window}"
        )
    return None


def _patient(context: PlanningContext, item: ItemSpec, table: StartTable) -> Unplaced | None:
    if not item.allowed:
        if item.fixed and item.original_start is not None:
            return Unplaced(
                item.id,
                Reason.FIXED_TIME_UNAVAILABLE,
                "the fixed start conflicts with the patient's unavailability",
            )
        return Unplaced(
            item.id,
            Reason.PATIENT_UNAVAILABLE,
            f"patient {item.patient_id} is unavailable or booked for the whole window "
            f"{format_window(context.time, item.window)}",
        )
    return None


def _capacity(context: PlanningContext, item: ItemSpec, table: StartTable) -> Unplaced | None:
    first, last = item.window
    if any(first <= start <= last for start in table.starts):
        return None
    if item.fixed:
        return Unplaced(
            item.id,
            Reason.FIXED_TIME_UNAVAILABLE,
            "no matching resources are free at the fixed start",
        )
    for index, requirement in enumerate(item.type.requirements):
        alone = [
            start
            for start in table_for_requirement(context, item, index, table.grid)
            if first <= start <= last
        ]
        if not alone:
            return Unplaced(
                item.id,
                Reason.NO_FREE_CAPACITY,
                f"no {requirement.label} is free for {item.type.duration} minutes "
                f"in window {format_window(context.time, item.window)}",
            )
    labels = " + ".join(r.label for r in item.type.requirements)
    return Unplaced(
        item.id,
        Reason.RESOURCES_NEVER_FREE_TOGETHER,
        f"{labels} are never free at the same time in window "
        f"{format_window(context.time, item.window)}",
    )


def table_for_requirement(
    context: PlanningContext, item: ItemSpec, requirement_index: int, grid: int
) -> list[int]:
    """Grid starts at which requirement ``requirement_index`` alone could be met."""
    appointment_type = item.type
    requirement = appointment_type.requirements[requirement_index]
    per_start: dict[int, int] = {}
    for pool in context.eligible_pools(appointment_type.id, requirement_index):
        for start in context.pool_starts(pool, appointment_type, grid):
            per_start[start] = per_start.get(start, 0) + context.pools[pool].size
    return sorted(s for s, units in per_start.items() if units >= requirement.count)
