"""Output dataclasses. Items that cannot be placed come with a reason, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cores.solver.domain import PartOfDay

__all__ = [
    "Assignment",
    "Move",
    "Offer",
    "OffersResult",
    "PlanResult",
    "ProgressPoint",
    "Reason",
    "ReplanResult",
    "SolveStats",
    "SolveStatus",
    "Unplaced",
]


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"
    MODEL_INVALID = "model_invalid"
    HEURISTIC = "heuristic"
    NOTHING_TO_SOLVE = "nothing_to_solve"


class Reason(StrEnum):
    NO_MATCHING_RESOURCE = "no_matching_resource"
    EMPTY_WINDOW = "empty_window"
    PATIENT_UNAVAILABLE = "patient_unavailable"
    NO_FREE_CAPACITY = "no_free_capacity_in_window"
    RESOURCES_NEVER_FREE_TOGETHER = "resources_never_free_together"
    PATIENT_UNAVAILABLE_WHEN_FREE = "patient_unavailable_when_resources_free"
    CAPACITY_TAKEN = "capacity_taken_by_other_items"
    REQUIRED_CONFLICT = "required_items_conflict"
    NO_SOLUTION_IN_TIME = "no_solution_within_time_limit"
    FIXED_TIME_UNAVAILABLE = "fixed_time_unavailable"
    PROTECTED_FOR_URGENT_TASKS = "capacity_protected_for_more_urgent_tasks"
    NO_TIME_MATCHES_FILTER = "no_time_matches_filter"


@dataclass(frozen=True, slots=True)
class Unplaced:
    """``detail`` names the constraint in words, e.g. which requirement or which window."""

    item_id: str
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Assignment:
    item_id: str
    start: int
    end: int
    resource_ids: tuple[str, ...]
    deadline_met: bool
    fits_availability: bool
    score: int


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """A new incumbent or bound; ``at_s`` counts from the call of the planning function.
    ``source`` is "greedy" for the baseline plan (the CP-SAT hint) and "cp-sat" otherwise.
    """

    at_s: float
    objective: float | None
    bound: float | None
    source: str = "cp-sat"


@dataclass(frozen=True, slots=True)
class SolveStats:
    status: SolveStatus
    objective: float | None
    best_bound: float | None
    gap: float | None
    wall_time_s: float
    build_time_s: float
    num_items: int
    num_candidates: int
    progress: tuple[ProgressPoint, ...] = ()

    def first_solution_s(self, source: str | None = None) -> float | None:
        """When the first plan (of ``source``, if given) was available."""
        times = [
            p.at_s
            for p in self.progress
            if p.objective is not None and (source is None or p.source == source)
        ]
        return min(times) if times else None

    def time_to_gap_s(self, gap: float) -> float | None:
        """When the incumbent first came within ``gap`` of the best bound known then."""
        objective: float | None = None
        bound: float | None = None
        for point in self.progress:
            objective = point.objective if point.objective is not None else objective
            bound = point.bound if point.bound is not None else bound
            if (
                objective is not None
                and bound is not None
                and relative_gap(objective, bound) <= gap + 1e-12
            ):
                return point.at_s
        return None


def relative_gap(objective: float, bound: float) -> float:
    """Gap of a maximisation: ``|bound - objective| / max(1, |bound|)``."""
    return abs(bound - objective) / max(1.0, abs(bound))


@dataclass(frozen=True, slots=True)
class PlanResult:
    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    stats: SolveStats

    def by_id(self) -> dict[str, Assignment]:
        return {a.item_id: a for a in self.assignments}

    def reasons(self) -> dict[str, Unplaced]:
        return {u.item_id: u for u in self.unplaced}


@dataclass(frozen=True, slots=True)
class Offer:
    start: int
    end: int
    day: int
    part_of_day: PartOfDay
    resource_ids: tuple[str, ...]
    deadline_met: bool
    fits_availability: bool
    score: int


@dataclass(frozen=True, slots=True)
class OffersResult:
    """``withheld`` counts times skipped because more urgent tasks need that capacity;
    ``undecided`` how many of those the exact check could not decide within its budget (held
    back to be safe)."""

    task_id: str
    offers: tuple[Offer, ...]
    has_more: bool
    withheld: int
    unprotected_task_ids: tuple[str, ...]
    reason: Unplaced | None
    wall_time_s: float
    undecided: int = 0


@dataclass(frozen=True, slots=True)
class Move:
    appointment_id: str
    old_start: int
    new_start: int
    old_resource_ids: tuple[str, ...]
    new_resource_ids: tuple[str, ...]
    days_moved: int
    minutes_moved: int
    deadline_met: bool
    cost: int

    @property
    def same_day(self) -> bool:
        return self.days_moved == 0


@dataclass(frozen=True, slots=True)
class ReplanResult:
    affected_ids: tuple[str, ...]
    moves: tuple[Move, ...]
    unplaced: tuple[Unplaced, ...]
    stats: SolveStats
    total_cost: int

    def by_id(self) -> dict[str, Move]:
        return {m.appointment_id: m for m in self.moves}
