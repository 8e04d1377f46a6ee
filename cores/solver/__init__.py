"""Pure planning solver: offers, batch planning and re-planning of outpatient appointments.

Imports only the standard library and OR-Tools; times are integer minutes since an epoch the
caller chooses (see ``TimeModel``).
"""

from cores.solver.batch import greedy_plan, plan_batch
from cores.solver.domain import (
    Absence,
    Appointment,
    AppointmentType,
    BookingTask,
    Instance,
    Minutes,
    ObjectiveWeights,
    PartOfDay,
    Preferences,
    ReplanWeights,
    Requirement,
    Resource,
    SolveParams,
    TimeModel,
)
from cores.solver.offers import earliest_offers, offer_at, offers
from cores.solver.replan import affected_appointments, greedy_replan, replan
from cores.solver.results import (
    Assignment,
    Move,
    Offer,
    OffersResult,
    PlanResult,
    ProgressPoint,
    Reason,
    ReplanResult,
    SolveStats,
    SolveStatus,
    Unplaced,
)

__all__ = [
    "Absence",
    "Appointment",
    "AppointmentType",
    "Assignment",
    "BookingTask",
    "Instance",
    "Minutes",
    "Move",
    "ObjectiveWeights",
    "Offer",
    "OffersResult",
    "PartOfDay",
    "PlanResult",
    "Preferences",
    "ProgressPoint",
    "Reason",
    "ReplanResult",
    "ReplanWeights",
    "Requirement",
    "Resource",
    "SolveParams",
    "SolveStats",
    "SolveStatus",
    "TimeModel",
    "Unplaced",
    "affected_appointments",
    "earliest_offers",
    "greedy_plan",
    "greedy_replan",
    "offer_at",
    "offers",
    "plan_batch",
    "replan",
]
