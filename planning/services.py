"""Planning services: offers for a booking task, the patient's choice, batch plans and re-plans.

The solver (cores.solver) only proposes; every change goes through the booking services
inside one transaction, and on PostgreSQL the exclusion constraints remain the final guard.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.errors import AppointmentNotChangeable, BookingError, SlotUnavailable
from booking.models import (
    CHANGEABLE_STATUSES,
    Absence,
    Appointment,
    AppointmentType,
    Clinic,
    EventCause,
)
from booking.services import (
    SYSTEM,
    Actor,
    PlannedMove,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointments_move,
)
from cores import solver
from cores.intervals import Interval
from patients.models import Patient, Referral, ReferralPriority
from planning.errors import (
    NothingToPlan,
    OutsideTaskWindow,
    PlannerFailed,
    PlanNotProposed,
    PlanNotReady,
    PlanOutOfDate,
    TaskNotChoosable,
    TaskNotMoved,
)
from planning.inputs import Clock, InstanceBuilder, optimisation_grid, solver_type
from planning.models import (
    CHOOSABLE_TASK_STATUSES,
    BookingTask,
    BookingTaskStatus,
    PlanItem,
    PlanKind,
    PlanProposal,
    PlanStatus,
)

logger = logging.getLogger(__name__)

# Offers protect the capacity of at most this many other open tasks (the most urgent first).
MAX_PROTECTED_TASKS = 2000
# No plan looks further ahead than this.
MAX_HORIZON_DAYS = 366
# A booking task's window ends at most this far ahead (a yearly control, with room to move).
MAX_TASK_AHEAD_DAYS = 2 * 366
# A re-plan looks for new times up to this long after the last affected appointment.
REPLAN_REACH_DAYS = 14
# A patient whose appointment a re-plan had to cancel is asked to choose within this many days.
UNPLACED_ANSWER_DAYS = 7
WINDOW_PASSED = "window_passed"


def _solve_params(time_limit_s: float) -> solver.SolveParams:
    return solver.SolveParams(
        time_limit_s=time_limit_s,
        num_workers=settings.PLANNING_SOLVER_WORKERS,
        random_seed=settings.PLANNING_SOLVER_SEED,
        deterministic=settings.PLANNING_SOLVER_DETERMINISTIC,
    )


def _span_until(clinic: Clinic, now: datetime, last_day: date) -> Interval:
    cap = now + timedelta(days=MAX_HORIZON_DAYS)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=clinic.tz)
    return Interval(now, max(min(end, cap), now + timedelta(days=1)))


def _types_of(items: Iterable[BookingTask | Appointment]) -> list[AppointmentType]:
    ids = {item.appointment_type_id for item in items}
    return list(AppointmentType.objects.filter(pk__in=ids).prefetch_related("requirements"))


# --- Referrals and booking tasks ------------------------------------------------------------


def referral_register(
    *,
    patient: Patient,
    clinic: Clinic,
    received_on: date,
    care_deadline: date,
    priority: int = ReferralPriority.NORMAL,
) -> Referral:
    """The clinic has received a referral for the patient, with its legal deadline for care
    (frist) and priority: from now on the patient is in the clinic's care."""
    if care_deadline < received_on:
        raise ValidationError(
            {"care_deadline": _("The deadline must not be before the day it was received.")}
        )
    referral = Referral(
        patient=patient,
        clinic=clinic,
        received_on=received_on,
        care_deadline=care_deadline,
        priority=priority,
    )
    referral.full_clean()
    referral.save()
    return referral


def booking_task_create(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    earliest_date: date,
    latest_date: date,
    respond_by: date,
    deadline: date | None = None,
    priority: int | None = None,
    referral: Referral | None = None,
    note: str = "",
    created_by: User | None = None,
) -> BookingTask:
    """A secretary asks the patient to choose a time between two dates."""
    if deadline is None:
        deadline = referral.care_deadline if referral else latest_date
    if priority is None:
        priority = referral.priority if referral else ReferralPriority.NORMAL
    errors = _task_errors(
        patient, appointment_type, referral, earliest_date, latest_date, respond_by, deadline
    )
    if errors:
        raise ValidationError(errors)
    return BookingTask.objects.create(
        clinic_id=appointment_type.clinic_id,
        patient=patient,
        referral=referral,
        appointment_type=appointment_type,
        earliest_date=earliest_date,
        latest_date=latest_date,
        respond_by=respond_by,
        deadline=deadline,
        priority=priority,
        note=note[:500],
        created_by=created_by,
    )


def _task_errors(
    patient: Patient,
    appointment_type: AppointmentType,
    referral: Referral | None,
    earliest_date: date,
    latest_date: date,
    respond_by: date,
    deadline: date,
) -> dict[str, str]:
    """What is wrong with a new task, by field (the first problem of each)."""
    today = timezone.localdate()
    checks = [
        ("appointment_type", not appointment_type.is_active,
         _("This type of appointment is no longer offered.")),
        ("referral", referral is not None and (
            referral.patient_id != patient.pk or referral.clinic_id != appointment_type.clinic_id
        ), _("The referral belongs to another patient or clinic.")),
        ("latest_date", latest_date < earliest_date,
         _("The last day must not be before the first day.")),
        ("latest_date", latest_date < today,
         _("The last day has passed: the patient could not choose any time.")),
        ("latest_date", latest_date > today + timedelta(days=MAX_TASK_AHEAD_DAYS),
         _("The last day may be at most two years ahead.")),
        ("respond_by", respond_by > latest_date,
         _("The patient must be asked to choose before the last day.")),
        ("deadline", deadline < earliest_date,
         _("The legal deadline is before the first day: no time could meet it.")),
    ]  # fmt: skip
    errors: dict[str, str] = {}
    for field, failed, message in checks:
        if failed:
            errors.setdefault(field, str(message))
    return errors


def booking_task_cancel(*, task: BookingTask) -> BookingTask:
    with transaction.atomic():
        locked = BookingTask.objects.select_for_update().get(pk=task.pk)
        if locked.status not in CHOOSABLE_TASK_STATUSES:
            raise TaskNotChoosable
        locked.status = BookingTaskStatus.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        return locked


@dataclass(frozen=True)
class TimeOffer:
    starts_at: datetime
    ends_at: datetime
    deadline_met: bool
    fits_availability: bool
    resource_ids: tuple[int, ...]


@dataclass(frozen=True)
class OfferPage:
    offers: list[TimeOffer]
    has_more: bool
    reason: str = ""
    detail: str = ""


def _more_urgent_open_tasks(task: BookingTask, today: date) -> QuerySet[BookingTask]:
    """The clinic's other open tasks the offers must leave room for: those the solver counts
    as more urgent (an earlier deadline or a higher priority, `is_more_urgent` in
    cores/solver/protection.py), most urgent first. The solver protects no others, so the
    rest need not be read."""
    return (
        BookingTask.objects.filter(
            clinic_id=task.clinic_id, status=BookingTaskStatus.OPEN, latest_date__gte=today
        )
        .filter(Q(deadline__lt=task.deadline) | Q(priority__lt=task.priority))
        .exclude(pk=task.pk)
        .select_related("appointment_type")
        .only(*_SOLVER_TASK_FIELDS)
        .order_by("deadline", "priority", "pk")[:MAX_PROTECTED_TASKS]
    )


# What `InstanceBuilder.task` reads of a task.
_SOLVER_TASK_FIELDS = (
    "patient_id",
    "appointment_type_id",
    "appointment_type__min_notice_hours",
    "earliest_date",
    "latest_date",
    "deadline",
    "priority",
)


def _last_usable_day(task: BookingTask, protected: Iterable[BookingTask]) -> date:
    """The last day the offers can use: the task's own last day, or the last day a protected
    task may still meet its deadline on (the solver keeps room for it only until then)."""
    return max([task.latest_date, *(min(t.latest_date, t.deadline) for t in protected)])


@dataclass(frozen=True)
class _OfferInstance:
    builder: InstanceBuilder
    instance: solver.Instance
    task_id: str


def _offer_instance(task: BookingTask, now: datetime) -> _OfferInstance | None:
    """The solver's view of the task and what it must leave room for, or None when the
    task's window (within the type's booking horizon) has passed."""
    clinic = task.clinic
    today = now.astimezone(clinic.tz).date()
    others = list(_more_urgent_open_tasks(task, today))
    horizon = now + timedelta(days=task.appointment_type.booking_horizon_days)
    last_day = min(_last_usable_day(task, others), horizon.astimezone(clinic.tz).date())
    types = _types_of([task, *others])
    builder = InstanceBuilder(clinic, _span_until(clinic, now, last_day), types)
    times = builder.patient_times([task.patient_id, *(t.patient_id for t in others)])
    own = builder.task(task, times[task.patient_id], now=now, not_after=horizon)
    if own is None:
        return None
    other_tasks = [builder.task(t, times[t.patient_id], now=now) for t in others]
    instance = solver.Instance(
        resources=builder.resources(),
        appointment_types=tuple(solver_type(t) for t in types),
        tasks=(own, *(t for t in other_tasks if t is not None)),
        time=builder.clock.time_model(),
    )
    return _OfferInstance(builder, instance, own.id)


def _time_offer(clock: Clock, offer: solver.Offer) -> TimeOffer:
    return TimeOffer(
        starts_at=clock.moment(offer.start),
        ends_at=clock.moment(offer.end),
        deadline_met=offer.deadline_met,
        fits_availability=offer.fits_availability,
        resource_ids=tuple(int(r) for r in offer.resource_ids),
    )


def booking_task_offers(
    *,
    task: BookingTask,
    offset: int = 0,
    count: int | None = None,
    weekdays: Iterable[int] | None = None,
    part_of_day: solver.PartOfDay | None = None,
    now: datetime | None = None,
    spread: bool = True,
) -> OfferPage:
    """The best times to offer for the task, never taking capacity that more urgent open tasks
    need to meet their deadlines. With `spread` off every acceptable time is listed."""
    now = now or timezone.now()
    built = _offer_instance(task, now)
    if built is None:
        return OfferPage([], False, WINDOW_PASSED, _("The period for choosing a time is over."))
    clock = built.builder.clock
    result = solver.offers(
        built.instance,
        built.task_id,
        k=count,
        offset=offset,
        weekdays=weekdays,
        part_of_day=part_of_day,
        now=clock.minute(now),
        max_per_day=2 if spread else 10_000,
        min_gap_minutes=90 if spread else 0,
    )
    reason = result.reason
    return OfferPage(
        [_time_offer(clock, o) for o in result.offers],
        result.has_more,
        reason.reason.value if reason else "",
        reason.detail if reason else "",
    )


def _offer_at(task: BookingTask, starts_at: datetime, now: datetime) -> TimeOffer | None:
    """The acceptable time at `starts_at` (with the resources to use), if it is one."""
    built = _offer_instance(task, now)
    if built is None:
        return None
    clock = built.builder.clock
    offer = solver.offer_at(
        built.instance, built.task_id, clock.minute(starts_at), now=clock.minute(now)
    )
    if offer is None or clock.moment(offer.start) != starts_at:
        return None
    return _time_offer(clock, offer)


def booking_task_choose(
    *,
    task: BookingTask,
    starts_at: datetime,
    actor: Actor,
    after_more_times: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """The patient (or staff for them) picks a time: an open task gets its appointment, a task
    for a moved appointment moves it again to the chosen time. `after_more_times`: the time was
    not one of the first times offered (the leaders' offer acceptance counts it)."""
    now = now or timezone.now()
    if task.status not in CHOOSABLE_TASK_STATUSES:
        raise TaskNotChoosable
    day = starts_at.astimezone(task.clinic.tz).date()
    if not task.earliest_date <= day <= task.latest_date:
        raise OutsideTaskWindow
    offer = _offer_at(task, starts_at, now)
    if offer is None:
        raise SlotUnavailable
    with transaction.atomic():
        locked = BookingTask.objects.select_for_update().get(pk=task.pk)
        if locked.status not in CHOOSABLE_TASK_STATUSES:
            raise TaskNotChoosable
        if locked.appointment is None:
            appointment = appointment_book(
                patient=locked.patient,
                appointment_type=locked.appointment_type,
                starts_at=starts_at,
                actor=actor,
                now=now,
                resource_ids=offer.resource_ids,
            )
        else:
            appointment = appointment_reschedule(
                appointment=locked.appointment,
                starts_at=starts_at,
                actor=actor,
                now=now,
                resource_ids=offer.resource_ids,
                counts_as_change=False,
            )
        locked.status = BookingTaskStatus.CHOSEN
        locked.appointment = appointment
        locked.chosen_after_more_times = after_more_times
        locked.save(
            update_fields=["status", "appointment", "chosen_after_more_times", "updated_at"]
        )
        return appointment


def booking_task_accept(*, task: BookingTask) -> BookingTask:
    """The patient keeps the new time the clinic's re-plan gave them."""
    with transaction.atomic():
        locked = BookingTask.objects.select_for_update().get(pk=task.pk)
        if locked.status != BookingTaskStatus.MOVED:
            raise TaskNotMoved
        locked.status = BookingTaskStatus.CHOSEN
        locked.save(update_fields=["status", "updated_at"])
        return locked


# --- Batch plans -----------------------------------------------------------------------------


def overdue_tasks(*, today: date) -> QuerySet[BookingTask]:
    """Open tasks whose due date passed without a choice. A task whose window is over too
    cannot be planned; it waits for a secretary instead."""
    return BookingTask.objects.filter(
        status=BookingTaskStatus.OPEN, respond_by__lt=today, latest_date__gte=today
    )


def batch_tasks(
    clinic: Clinic, today: date, *, task_ids: Sequence[int] | None, overdue_only: bool
) -> QuerySet[BookingTask]:
    """The clinic's open tasks a batch plan covers (all of them by default)."""
    open_tasks = (
        overdue_tasks(today=today)
        if overdue_only
        else BookingTask.objects.filter(status=BookingTaskStatus.OPEN)
    )
    tasks = open_tasks.filter(clinic=clinic).select_related("appointment_type")
    return tasks if task_ids is None else tasks.filter(pk__in=task_ids)


def _batch_task_list(
    clinic: Clinic, today: date, *, task_ids: Sequence[int] | None, overdue_only: bool
) -> list[BookingTask]:
    """As `batch_tasks`, read; NothingToPlan if there are none."""
    tasks = list(batch_tasks(clinic, today, task_ids=task_ids, overdue_only=overdue_only))
    if not tasks:
        raise NothingToPlan
    return tasks


def _batch_items(
    clinic: Clinic, tasks: list[BookingTask], now: datetime
) -> tuple[solver.SolveStats, list[PlanItem]]:
    """Solve the batch: one item per task, with its time or the reason it has none."""
    types = _types_of(tasks)
    builder = InstanceBuilder(
        clinic, _span_until(clinic, now, max(t.latest_date for t in tasks)), types
    )
    times = builder.patient_times(t.patient_id for t in tasks)
    solver_tasks = {t.pk: builder.task(t, times[t.patient_id], now=now) for t in tasks}
    instance = solver.Instance(
        resources=builder.resources(),
        appointment_types=tuple(solver_type(t) for t in types),
        tasks=tuple(st for st in solver_tasks.values() if st is not None),
        time=builder.clock.time_model(),
    )
    result = solver.plan_batch(
        instance,
        now=builder.clock.minute(now),
        grid_minutes=optimisation_grid(types),
        params=_solve_params(settings.PLANNING_BATCH_TIME_LIMIT_S),
    )
    assignments = result.by_id()
    reasons = result.reasons()
    items = []
    for task in tasks:
        item = PlanItem(patient_id=task.patient_id, booking_task=task)
        key = str(task.pk)
        if key in assignments:
            _place(item, builder, assignments[key].start, assignments[key].end)
            item.resource_ids = [int(r) for r in assignments[key].resource_ids]
            item.deadline_met = assignments[key].deadline_met
        elif solver_tasks[task.pk] is None:
            item.unplaced_reason = WINDOW_PASSED
            item.unplaced_detail = "The task's last day has passed."
        else:
            item.unplaced_reason = reasons[key].reason.value
            item.unplaced_detail = reasons[key].detail[:500]
        items.append(item)
    return result.stats, items


def propose_batch(
    *,
    clinic: Clinic,
    task_ids: Sequence[int] | None = None,
    overdue_only: bool = False,
    now: datetime | None = None,
    created_by: User | None = None,
) -> PlanProposal:
    """A time for every chosen open task of the clinic (all open ones by default), planned
    now, in the caller's process."""
    now = now or timezone.now()
    today = now.astimezone(clinic.tz).date()
    tasks = _batch_task_list(clinic, today, task_ids=task_ids, overdue_only=overdue_only)
    stats, items = _batch_items(clinic, tasks, now)
    proposal = PlanProposal(clinic=clinic, kind=PlanKind.BATCH, created_by=created_by)
    return _save_proposal(proposal, stats, items)


def make_requested_batch(*, proposal_id: int, now: datetime | None = None) -> PlanProposal | None:
    """Solve a requested batch plan and store it as proposed, or as failed with the reason.
    Does nothing (None) unless the proposal is still waiting, so a repeated job is harmless."""
    now = now or timezone.now()
    proposal = _claimed(proposal_id)
    if proposal is None:
        return None
    clinic = proposal.clinic
    try:
        tasks = _batch_task_list(
            clinic,
            now.astimezone(clinic.tz).date(),
            task_ids=proposal.requested_task_ids,
            overdue_only=proposal.overdue_only,
        )
        stats, items = _batch_items(clinic, tasks, now)
    except NothingToPlan:
        return _fail(proposal, NothingToPlan)
    except Exception:  # the staff see "failed" and may try again; the log has the details
        logger.exception("Batch plan %s failed", proposal.pk)
        return _fail(proposal, PlannerFailed)
    with transaction.atomic():
        if not _still_planning(proposal):  # discarded while the solver ran
            return None
        return _save_proposal(proposal, stats, items)


def _still_planning(proposal: PlanProposal) -> bool:
    return (
        PlanProposal.objects.select_for_update()
        .filter(pk=proposal.pk, status=PlanStatus.PLANNING)
        .exists()
    )


def _claimed(proposal_id: int) -> PlanProposal | None:
    """The proposal if it still waits to be planned; a job that finds it so owns it."""
    with transaction.atomic():
        proposal = (
            PlanProposal.objects.select_for_update()
            .select_related("clinic")
            .filter(pk=proposal_id, status=PlanStatus.PLANNING, planning_started_at=None)
            .first()
        )
        if proposal is not None:
            proposal.planning_started_at = timezone.now()
            proposal.save(update_fields=["planning_started_at"])
        return proposal


def _fail(proposal: PlanProposal, reason: type[BookingError]) -> PlanProposal | None:
    with transaction.atomic():
        if not _still_planning(proposal):
            return None
        proposal.status = PlanStatus.FAILED
        proposal.failure = reason.code
        proposal.save(update_fields=["status", "failure"])
        return proposal


def _place(item: PlanItem, builder: InstanceBuilder, start: int, end: int) -> None:
    item.starts_at = builder.clock.moment(start)
    item.ends_at = builder.clock.moment(end)


def _save_proposal(
    proposal: PlanProposal, stats: solver.SolveStats, items: list[PlanItem]
) -> PlanProposal:
    """Store the solver's result and its items; the proposal is then ready to preview."""
    proposal.status = PlanStatus.PROPOSED
    proposal.solver_status = stats.status.value
    proposal.objective = stats.objective
    proposal.best_bound = stats.best_bound
    proposal.wall_time_s = stats.wall_time_s
    with transaction.atomic():
        proposal.save()
        for item in items:
            item.proposal = proposal
        PlanItem.objects.bulk_create(items)
        return proposal


# --- Re-plans --------------------------------------------------------------------------------


def appointments_hit_by(*, absence: Absence, now: datetime) -> QuerySet[Appointment]:
    """Changeable, future appointments holding the absent resource during the absence."""
    return (
        Appointment.objects.filter(
            allocations__resource_id=absence.resource_id,
            allocations__starts_at__lt=absence.ends_at,
            allocations__ends_at__gt=absence.starts_at,
            status__in=CHANGEABLE_STATUSES,
            starts_at__gt=now,
        )
        .distinct()
        .prefetch_related("allocations")
    )


def _origins(appointments: Sequence[Appointment]) -> dict[int, BookingTask]:
    """The latest booking task behind each appointment (its deadline and priority count)."""
    tasks = BookingTask.objects.filter(appointment__in=appointments).order_by("pk")
    return {t.appointment_id: t for t in tasks if t.appointment_id is not None}


def propose_replan(
    *, absence: Absence, now: datetime | None = None, created_by: User | None = None
) -> PlanProposal:
    """New times for the appointments the absence hits; every other appointment stays."""
    now = now or timezone.now()
    clinic = absence.resource.clinic
    affected = list(appointments_hit_by(absence=absence, now=now))
    if not affected:
        raise NothingToPlan
    types = _types_of(affected)
    last_day = max(a.starts_at for a in affected).astimezone(clinic.tz).date()
    span = _span_until(clinic, now, last_day + timedelta(days=REPLAN_REACH_DAYS))
    builder = InstanceBuilder(clinic, span, types, movable=affected)
    times = builder.patient_times(a.patient_id for a in affected)
    origins = _origins(affected)
    resources = builder.resources()
    known = {r.id for r in resources}
    appointments = tuple(
        builder.appointment(
            a, times[a.patient_id], fixed=False, origin=origins.get(a.pk), known=known
        )
        for a in affected
    )
    instance = solver.Instance(
        resources=resources,
        appointment_types=tuple(solver_type(t) for t in types),
        appointments=appointments,
        time=builder.clock.time_model(),
    )
    hit = builder.clock.span(Interval(absence.starts_at, absence.ends_at))
    absences = [solver.Absence(str(absence.resource_id), *hit)] if hit else []
    notice = timedelta(hours=settings.PLANNING_REPLAN_NOTICE_HOURS)
    result = solver.replan(
        instance,
        absences,
        window=(builder.clock.minute(now + notice), builder.clock.minute(span.end)),
        now=builder.clock.minute(now + notice),
        grid_minutes=optimisation_grid(types),
        params=_solve_params(settings.PLANNING_REPLAN_TIME_LIMIT_S),
    )
    proposal = PlanProposal(
        clinic=clinic, kind=PlanKind.REPLAN, absence=absence, created_by=created_by
    )
    return _save_proposal(proposal, result.stats, _replan_items(affected, builder, result))


def _replan_items(
    affected: Sequence[Appointment], builder: InstanceBuilder, result: solver.ReplanResult
) -> list[PlanItem]:
    moves = result.by_id()
    reasons = {u.item_id: u for u in result.unplaced}
    items = []
    for appointment in affected:
        key = str(appointment.pk)
        item = PlanItem(
            patient_id=appointment.patient_id,
            appointment=appointment,
            old_starts_at=appointment.starts_at,
            old_resource_ids=sorted(a.resource_id for a in appointment.allocations.all()),
        )
        if key in moves:
            move = moves[key]
            duration = appointment.appointment_type.duration_minutes
            _place(item, builder, move.new_start, move.new_start + duration)
            item.resource_ids = [int(r) for r in move.new_resource_ids]
            item.deadline_met = move.deadline_met
            item.days_moved = move.days_moved
        else:
            unplaced = reasons.get(key)
            item.unplaced_reason = unplaced.reason.value if unplaced else "not_planned"
            item.unplaced_detail = unplaced.detail[:500] if unplaced else ""
        items.append(item)
    return items


# --- Applying and discarding -----------------------------------------------------------------


def apply_proposal(
    *, proposal: PlanProposal, actor: Actor, now: datetime | None = None
) -> PlanProposal:
    """Carry out the proposal, all or nothing: book or move every placed item; in a re-plan,
    cancel the appointments no time was found for and ask those patients to choose a new one.

    If anything it relied on changed since it was made, nothing changes and PlanOutOfDate
    says so.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_proposal(proposal)
        items = list(locked.items.select_related("booking_task", "appointment"))
        try:
            with transaction.atomic():
                if locked.kind == PlanKind.BATCH:
                    _apply_batch(items, actor, now)
                else:
                    _apply_replan(items, actor, now)
        except BookingError as exc:
            raise PlanOutOfDate from exc
        return _decide(proposal, locked, PlanStatus.APPLIED, actor.user, now)


def _apply_batch(items: Sequence[PlanItem], actor: Actor, now: datetime) -> None:
    for item in items:
        if item.booking_task_id is None or item.starts_at is None:
            continue
        task = BookingTask.objects.select_for_update().get(pk=item.booking_task_id)
        if task.status != BookingTaskStatus.OPEN:
            raise TaskNotChoosable
        task.appointment = appointment_book(
            patient=task.patient,
            appointment_type=task.appointment_type,
            starts_at=item.starts_at,
            actor=actor,
            cause=EventCause.BATCH_PLANNING,
            now=now,
            resource_ids=item.resource_ids,
        )
        task.status = BookingTaskStatus.ASSIGNED
        task.save(update_fields=["status", "appointment", "updated_at"])


def _apply_replan(items: Sequence[PlanItem], actor: Actor, now: datetime) -> None:
    moves = [
        PlannedMove(
            appointment_id=item.appointment_id,
            expected_starts_at=item.old_starts_at,
            starts_at=item.starts_at,
            resource_ids=item.resource_ids,
        )
        for item in items
        if item.appointment_id is not None
        and item.old_starts_at is not None
        and item.starts_at is not None
    ]
    moved = appointments_move(moves, actor=actor, cause=EventCause.CLINIC_REPLANNING, now=now)
    cancelled = [
        _cancel_unplaceable(item, actor, now)
        for item in items
        if item.appointment is not None and item.starts_at is None
    ]
    origins = _origins([*moved, *cancelled])
    for appointment in moved:
        _offer_alternatives(appointment, origins.get(appointment.pk), actor, now)
    for appointment in cancelled:
        _ask_for_a_new_time(appointment, origins.get(appointment.pk), actor, now)


def _cancel_unplaceable(item: PlanItem, actor: Actor, now: datetime) -> Appointment:
    """No time could be found for the appointment: the clinic cancels it (strykning)."""
    appointment = item.appointment
    if appointment is None or appointment.starts_at != item.old_starts_at:
        raise AppointmentNotChangeable
    return appointment_cancel(
        appointment=appointment,
        actor=actor,
        cause=EventCause.CLINIC_REPLANNING,
        reason="No new time could be found within the re-plan's reach.",
        now=now,
    )


def _offer_alternatives(
    appointment: Appointment, origin: BookingTask | None, actor: Actor, now: datetime
) -> BookingTask:
    """The moved patient may accept the new time or choose another one."""
    tz = appointment.clinic.tz
    today = now.astimezone(tz).date()
    new_day = appointment.starts_at.astimezone(tz).date()
    latest = max(
        new_day + timedelta(days=REPLAN_REACH_DAYS), origin.latest_date if origin else today
    )
    cutoff = appointment.starts_at - timedelta(
        hours=appointment.appointment_type.change_cutoff_hours
    )
    BookingTask.objects.filter(appointment=appointment, status=BookingTaskStatus.MOVED).update(
        status=BookingTaskStatus.CANCELLED
    )
    return _follow_up_task(
        appointment,
        origin,
        actor,
        earliest=today,
        latest=latest,
        respond_by=min(max(cutoff.astimezone(tz).date(), today), latest),
        status=BookingTaskStatus.MOVED,
    )


def _ask_for_a_new_time(
    appointment: Appointment, origin: BookingTask | None, actor: Actor, now: datetime
) -> BookingTask:
    """The patient whose appointment was cancelled chooses a new time further ahead; if they do
    not, the batch plan assigns one after the due date."""
    today = now.astimezone(appointment.clinic.tz).date()
    old_day = appointment.starts_at.astimezone(appointment.clinic.tz).date()
    latest = max(
        old_day + timedelta(days=3 * REPLAN_REACH_DAYS), origin.latest_date if origin else today
    )
    return _follow_up_task(
        appointment,
        origin,
        actor,
        earliest=today,
        latest=latest,
        respond_by=min(today + timedelta(days=UNPLACED_ANSWER_DAYS), latest),
        status=BookingTaskStatus.OPEN,
    )


def _follow_up_task(
    appointment: Appointment,
    origin: BookingTask | None,
    actor: Actor,
    *,
    earliest: date,
    latest: date,
    respond_by: date,
    status: BookingTaskStatus,
) -> BookingTask:
    return BookingTask.objects.create(
        clinic=appointment.clinic,
        patient=appointment.patient,
        referral=origin.referral if origin else None,
        appointment_type=appointment.appointment_type,
        earliest_date=earliest,
        latest_date=latest,
        deadline=origin.deadline if origin else latest,
        respond_by=respond_by,
        priority=origin.priority if origin else ReferralPriority.NORMAL,
        status=status,
        appointment=appointment if status == BookingTaskStatus.MOVED else None,
        created_by=actor.user,
    )


def _locked_proposal(proposal: PlanProposal, *, planning_ok: bool = False) -> PlanProposal:
    """The proposal under a row lock, if it is open to apply (or, with `planning_ok`, to
    discard while it is still being made)."""
    locked = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status == PlanStatus.PLANNING and not planning_ok:
        raise PlanNotReady
    if locked.status not in (PlanStatus.PROPOSED, PlanStatus.PLANNING):
        raise PlanNotProposed
    return locked


def discard_proposal(*, proposal: PlanProposal, user: User | None) -> PlanProposal:
    """Close a proposal unapplied. One still being made may be discarded too (say its job
    died); a job that finishes later then stores nothing."""
    with transaction.atomic():
        locked = _locked_proposal(proposal, planning_ok=True)
        return _decide(proposal, locked, PlanStatus.DISCARDED, user, timezone.now())


def _decide(
    proposal: PlanProposal,
    locked: PlanProposal,
    status: PlanStatus,
    user: User | None,
    at: datetime,
) -> PlanProposal:
    """Record the decision on the locked row, and on the caller's proposal too: it may hold
    its items already read, to show them."""
    for target in (locked, proposal):
        target.status = status
        target.decided_by = user
        target.decided_at = at
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal


def plan_overdue_tasks(*, clinic: Clinic, now: datetime | None = None) -> PlanProposal | None:
    """The clinic assigns times to tasks whose due date passed without a choice."""
    now = now or timezone.now()
    for _attempt in range(2):
        try:
            proposal = propose_batch(clinic=clinic, overdue_only=True, now=now)
        except NothingToPlan:
            return None
        try:
            return apply_proposal(proposal=proposal, actor=SYSTEM, now=now)
        except PlanOutOfDate:
            discard_proposal(proposal=proposal, user=None)
    return None
