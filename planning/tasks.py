"""Background jobs: thin wrappers that take ids, so a retried or repeated job does no harm."""

import logging

from celery import shared_task
from django.utils import timezone

from booking.models import Absence, Clinic
from planning import services
from planning.errors import NothingToPlan
from planning.models import PlanProposal, PlanStatus

logger = logging.getLogger(__name__)


@shared_task
def plan_overdue_booking_tasks() -> list[int]:
    """Assign times to every clinic's booking tasks whose due date passed without a choice.
    Returns the ids of the applied plans."""
    now = timezone.now()
    clinic_ids = (
        services.overdue_tasks(today=timezone.localdate(now))
        .values_list("clinic_id", flat=True)
        .distinct()
    )
    applied = []
    for clinic in Clinic.objects.filter(pk__in=list(clinic_ids)):
        proposal = services.plan_overdue_tasks(clinic=clinic, now=now)
        if proposal is not None:
            applied.append(proposal.pk)
    return applied


@shared_task
def propose_replan_for_absence(absence_id: int) -> int | None:
    """Prepare a re-plan for the appointments a new absence hits, for a secretary to preview.
    Does nothing if the absence is gone, hits nothing, or already has an open proposal."""
    absence = Absence.objects.select_related("resource__clinic").filter(pk=absence_id).first()
    if absence is None:
        return None
    open_proposal = PlanProposal.objects.filter(absence=absence, status=PlanStatus.PROPOSED)
    if open_proposal.exists():
        return open_proposal.values_list("pk", flat=True).first()
    try:
        return services.propose_replan(absence=absence).pk
    except NothingToPlan:
        logger.info("Absence %s hits no changeable appointment", absence_id)
        return None


@shared_task
def make_batch_plan(proposal_id: int) -> int | None:
    """Make a batch plan a secretary asked for (see services.request_batch)."""
    proposal = services.make_requested_batch(proposal_id=proposal_id)
    return None if proposal is None else proposal.pk
