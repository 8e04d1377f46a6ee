"""Services that hand work to a background job: a batch plan a secretary asks for, and the
re-plan of a new or changed absence.

Each writes its rows in one transaction and queues its job with `transaction.on_commit`, so a
job never starts before (or without) the rows it works on. They sit above planning.tasks,
which runs planning.services: services, tasks, background, in that order, with no way back.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from booking import configuration
from booking.models import Absence, Clinic, Resource
from planning.errors import NothingToPlan
from planning.models import PlanKind, PlanProposal, PlanStatus
from planning.services import batch_tasks
from planning.tasks import make_batch_plan, propose_replan_for_absence


def request_batch(
    *,
    clinic: Clinic,
    task_ids: Sequence[int] | None = None,
    overdue_only: bool = False,
    now: datetime | None = None,
    created_by: User | None = None,
) -> PlanProposal:
    """Ask for a batch plan to be made in the background (a solve may take as long as
    PLANNING_BATCH_TIME_LIMIT_S): a proposal with status "planning" that the job fills in.
    NothingToPlan at once if there is no task to plan."""
    now = now or timezone.now()
    today = now.astimezone(clinic.tz).date()
    if not batch_tasks(clinic, today, task_ids=task_ids, overdue_only=overdue_only).exists():
        raise NothingToPlan
    with transaction.atomic():
        proposal = PlanProposal.objects.create(
            clinic=clinic,
            kind=PlanKind.BATCH,
            status=PlanStatus.PLANNING,
            requested_task_ids=None if task_ids is None else sorted(task_ids),
            overdue_only=overdue_only,
            created_by=created_by,
        )
        transaction.on_commit(lambda: make_batch_plan.delay(proposal.pk))
    return proposal


def _replan_when_committed(absence: Absence) -> Absence:
    """A new or changed absence may hit booked appointments: once it is committed, a job
    prepares a re-plan for a secretary to preview."""
    absence_id = absence.pk
    transaction.on_commit(lambda: propose_replan_for_absence.delay(absence_id))
    return absence


@transaction.atomic
def absence_register(
    *, resource: Resource, starts_at: datetime, ends_at: datetime, reason: str, note: str = ""
) -> Absence:
    """Record that a resource is away, and prepare the re-plan of what it hits."""
    absence = configuration.absence_create(
        resource=resource, starts_at=starts_at, ends_at=ends_at, reason=reason, note=note
    )
    return _replan_when_committed(absence)


@transaction.atomic
def absence_change(*, absence: Absence, **changes: Any) -> Absence:
    """Change an absence, and prepare the re-plan of what it hits now."""
    return _replan_when_committed(configuration.absence_update(absence=absence, **changes))
