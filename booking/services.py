"""Writes: book, reschedule and cancel appointments, and tick off preparations.

Every service runs in one transaction. Resources are chosen by the pure slot search inside that
transaction; on PostgreSQL the exclusion constraints are the final guard (a lost race becomes
SlotUnavailable), on SQLite the transaction holds the write lock from its first statement.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from access.errors import NotFound
from booking.calendars import calendars_around, local_day, resource_calendars, slot_query
from booking.errors import (
    AppointmentNotChangeable,
    AppointmentTypeInactive,
    BeyondBookingHorizon,
    ChangeCutoffPassed,
    MaxChangesReached,
    NoticeTooShort,
    NotOnGrid,
    NotSelfBookable,
    PatientBusy,
    SameTime,
    SlotUnavailable,
    TimeInPast,
    WaitlistOfferClosed,
)
from booking.followers import rows_by_model, rows_following
from booking.models import (
    CHANGEABLE_STATUSES,
    HOLDING_STATUSES,
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    AppointmentType,
    EventCause,
    EventKind,
    PreparationTask,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from booking.rows import insert, insert_with_children, prefetched, with_appointment_type
from cores.intervals import Interval, to_utc
from cores.slots import SlotQuery, assign_resources
from patients.models import Patient
from patients.selectors import acts_for_self

T = TypeVar("T")
RACE_RETRIES = 3
RESOURCE_CONSTRAINT = "resource_not_double_booked"
PATIENT_CONSTRAINT = "patient_not_in_two_appointments_at_once"


@dataclass(frozen=True)
class Actor:
    """Who acts: the patient, a proxy holder, clinic staff or the system itself."""

    user: User | None
    kind: ActorKind

    @property
    def is_patient_side(self) -> bool:
        return self.kind in (ActorKind.PATIENT, ActorKind.PROXY)


SYSTEM = Actor(user=None, kind=ActorKind.SYSTEM)


def patient_actor(*, user: User, patient: Patient) -> Actor:
    """The user acting for a patient they may act for: as the patient, or as a proxy holder."""
    kind = ActorKind.PATIENT if acts_for_self(user=user, patient=patient) else ActorKind.PROXY
    return Actor(user=user, kind=kind)


def staff_actor(user: User) -> Actor:
    return Actor(user=user, kind=ActorKind.STAFF)


class _ResourceTaken(SlotUnavailable):
    """Another transaction took a chosen resource first; choosing again may still succeed."""


# PostgreSQL's code for "deadlock detected". Two transactions inserting conflicting rows under
# an exclusion constraint at the same moment each find the other's row and wait for it; the
# server then aborts one of them. That one lost a race like any other.
DEADLOCK_DETECTED = "40P01"


@contextmanager
def _constraint_errors() -> Iterator[None]:
    """Name the constraint a write broke. No savepoint of its own: a caller inside an atomic
    block leaves it with the error, and that block rolls back (or retries) as a whole; outside
    one (a booking's single statement on PostgreSQL) the failed statement changed nothing."""
    try:
        with transaction.atomic(savepoint=False) if connection.in_atomic_block else nullcontext():
            yield
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "")
        if constraint == RESOURCE_CONSTRAINT:
            raise _ResourceTaken from exc
        if constraint == PATIENT_CONSTRAINT:
            raise PatientBusy from exc
        raise
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_DETECTED:
            raise _ResourceTaken from exc
        raise


def _in_utc(starts_at: datetime) -> datetime:
    """The time in UTC, so that adding a duration adds elapsed time. In Europe/Oslo wall-clock
    arithmetic, 02:30 summer time + 30 minutes is 03:00 winter time on the night the clocks go
    back: an hour too far."""
    return to_utc(starts_at, "starts_at")


# What a patient or proxy may do: change their time, or take an earlier one from the waitlist.
PATIENT_SIDE_CAUSES = (EventCause.PATIENT_CHANGE, EventCause.WAITLIST_FILL)


def _cause_for(actor: Actor, cause: EventCause | None, clinic_default: EventCause) -> EventCause:
    if actor.is_patient_side:
        if cause not in (None, *PATIENT_SIDE_CAUSES):
            raise ValueError("Patients and proxies act only as the patient's own change.")
        return cause or EventCause.PATIENT_CHANGE
    return cause or clinic_default


def is_on_grid(appointment_type: AppointmentType, starts_at: datetime) -> bool:
    local = starts_at.astimezone(appointment_type.clinic.tz)
    minutes = local.hour * 60 + local.minute
    return (
        local.second == 0
        and local.microsecond == 0
        and minutes % appointment_type.grid_minutes == 0
    )


def check_new_time(
    *, appointment_type: AppointmentType, starts_at: datetime, actor: Actor, now: datetime
) -> None:
    """The rules for choosing a time; staff acting for the clinic are held only to the basics."""
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")
    if starts_at <= now:
        raise TimeInPast
    if not appointment_type.is_active:
        raise AppointmentTypeInactive
    if not is_on_grid(appointment_type, starts_at):
        raise NotOnGrid
    if not actor.is_patient_side:
        return
    if not appointment_type.self_bookable:
        raise NotSelfBookable
    if starts_at < now + timedelta(hours=appointment_type.min_notice_hours):
        raise NoticeTooShort
    if starts_at > now + timedelta(days=appointment_type.booking_horizon_days):
        raise BeyondBookingHorizon


def check_patient_may_change(*, appointment: Appointment, actor: Actor, now: datetime) -> None:
    if appointment.status not in CHANGEABLE_STATUSES or appointment.starts_at <= now:
        raise AppointmentNotChangeable
    if not actor.is_patient_side:
        return
    appointment_type = appointment.appointment_type
    if not appointment_type.self_bookable:
        raise NotSelfBookable
    if appointment.starts_at < now + timedelta(hours=appointment_type.change_cutoff_hours):
        raise ChangeCutoffPassed


def _check_patient_free(
    patient: Patient, starts_at: datetime, ends_at: datetime, *, ignore: int | None = None
) -> None:
    """Refuse a time the patient already holds. On PostgreSQL the exclusion constraint
    PATIENT_CONSTRAINT refuses it on the write itself (and `_constraint_errors` names it
    PatientBusy), so only SQLite needs the query."""
    if connection.vendor == "postgresql":
        return
    overlapping = Appointment.objects.filter(
        patient=patient,
        status__in=HOLDING_STATUSES,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if ignore is not None:
        overlapping = overlapping.exclude(pk=ignore)
    if overlapping.exists():
        raise PatientBusy


def _query_at(appointment: Appointment) -> SlotQuery:
    return slot_query(
        appointment.appointment_type,
        Interval(appointment.starts_at, appointment.starts_at + timedelta(minutes=1)),
    )


def _best_fit_resources(appointment: Appointment, query: SlotQuery) -> tuple[int, ...]:
    """The free resources that best fit the appointment's time."""
    # Best fit over the whole local day, so it sees each resource's real free block.
    calendars = calendars_around(
        query,
        appointment.appointment_type,
        start=appointment.starts_at,
        span=local_day(appointment.starts_at, query.tz),
    )
    resource_ids = assign_resources(query, calendars, appointment.starts_at)
    if resource_ids is None:
        raise SlotUnavailable
    return resource_ids


def _checked_resources(
    appointment: Appointment, query: SlotQuery, resource_ids: Sequence[int]
) -> tuple[int, ...]:
    """Exactly these resources (a planner's choice), if they fit the type and are free."""
    wanted = set(resource_ids)
    calendars = resource_calendars(query, appointment.clinic_id, only=wanted)
    chosen = assign_resources(query, calendars, appointment.starts_at)
    if chosen is None or set(chosen) != wanted:
        raise SlotUnavailable
    return chosen


def _allocations(
    appointment: Appointment, resource_ids: Sequence[int] | None = None
) -> list[Allocation]:
    """Allocations for the appointment's current time, of the given resources or the best fit,
    not yet written."""
    query = _query_at(appointment)
    chosen = (
        _best_fit_resources(appointment, query)
        if resource_ids is None
        else _checked_resources(appointment, query, resource_ids)
    )
    blocked = query.blocked(appointment.starts_at)
    return [
        Allocation(
            appointment=appointment, resource_id=rid, starts_at=blocked.start, ends_at=blocked.end
        )
        # One order for every transaction, so two bookings never wait on each other crosswise
        # over two resources.
        for rid in sorted(chosen)
    ]


def _hold(appointment: Appointment, resource_ids: Sequence[int] | None = None) -> list[int]:
    """Hold resources for the appointment's current time: the given ones or the best fit."""
    allocations = _allocations(appointment, resource_ids)
    with _constraint_errors():
        insert(allocations)
    return [a.resource_id for a in allocations]


def _release_resources(appointment: Appointment) -> list[int]:
    resource_ids = sorted(appointment.allocations.values_list("resource_id", flat=True))
    appointment.allocations.all().delete()
    return resource_ids


def _new_preparation_tasks(appointment: Appointment) -> list[PreparationTask]:
    """The type's preparations as tasks of a new appointment, not yet written."""
    day = timezone.localtime(appointment.starts_at, appointment.clinic.tz).date()
    return [
        PreparationTask(
            appointment=appointment,
            template=template,
            title=template.title,
            instructions=template.instructions,
            timing=template.timing,
            due_date=day - timedelta(days=template.days_before),
        )
        for template in appointment.appointment_type.preparations.all()
    ]


def _move_preparations(appointment: Appointment) -> None:
    """Move the due dates of the tasks not yet done, and add tasks for new preparations."""
    existing = {t.template_id: t for t in appointment.preparation_tasks.all()}
    missing = []
    for task in _new_preparation_tasks(appointment):
        current = existing.get(task.template_id)
        if current is None:
            missing.append(task)
        elif not current.is_done and current.due_date != task.due_date:
            current.due_date = task.due_date
            current.save(update_fields=["due_date"])
    insert(missing)


def _event(
    appointment: Appointment,
    *,
    kind: EventKind,
    cause: EventCause,
    actor: Actor,
    old: tuple[datetime | None, datetime | None, list[int], str] = (None, None, [], ""),
    new_resource_ids: list[int] | None = None,
    note: str = "",
) -> AppointmentEvent:
    """A history row for what just happened to the appointment, not yet written."""
    old_start, old_end, old_resources, old_status = old
    holding = appointment.status in HOLDING_STATUSES
    return AppointmentEvent(
        appointment=appointment,
        clinic_id=appointment.clinic_id,
        appointment_type_id=appointment.appointment_type_id,
        kind=kind,
        cause=cause,
        actor=actor.user,
        actor_kind=actor.kind,
        on_behalf_of=appointment.patient if actor.kind != ActorKind.PATIENT else None,
        old_starts_at=old_start,
        old_ends_at=old_end,
        old_resource_ids=old_resources,
        old_status=old_status,
        new_status=appointment.status,
        new_starts_at=appointment.starts_at if holding else None,
        new_ends_at=appointment.ends_at if holding else None,
        new_resource_ids=sorted(new_resource_ids or []),
        note=note,
    )


def _record(appointment: Appointment, **what: Any) -> None:
    """Write the history row for what just happened to the appointment (see `_event`), and
    what the apps following changes derive from it (booking.followers: its notices)."""
    event = _event(appointment, **what)
    insert([event])
    for rows in rows_by_model(rows_following(appointment, event)):
        insert(rows)


def _retrying_lost_races(attempt: Callable[[], T], *, one_write: bool = False) -> T:
    """Run `attempt` in a transaction; if another transaction took a chosen resource first,
    choose again (there may be another free room), at most RACE_RETRIES times.

    An attempt whose only write is one statement (`one_write`) needs no transaction of its own on
    PostgreSQL: the statement is atomic, its reads need no lock (the exclusion constraints guard
    the write), and BEGIN and COMMIT would be two more round trips on every booking. SQLite needs
    the transaction for its write lock, and inside an outer atomic block the attempt still gets a
    savepoint to retry from."""
    alone = one_write and connection.vendor == "postgresql" and not connection.in_atomic_block
    for _ in range(RACE_RETRIES):
        try:
            with nullcontext() if alone else transaction.atomic():
                return attempt()
        except _ResourceTaken:
            continue
    raise SlotUnavailable


def appointment_book(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    starts_at: datetime,
    actor: Actor,
    cause: EventCause | None = None,
    now: datetime | None = None,
    resource_ids: Sequence[int] | None = None,
) -> Appointment:
    """Book a new appointment. `resource_ids` (a planner's choice) are held as given, or the
    booking fails; without them the best-fitting free resources are chosen."""
    now = now or timezone.now()
    starts_at = _in_utc(starts_at)
    check_new_time(appointment_type=appointment_type, starts_at=starts_at, actor=actor, now=now)
    cause = _cause_for(actor, cause, EventCause.CLINIC_BOOKING)
    status = (
        AppointmentStatus.PENDING
        if appointment_type.requires_confirmation and actor.is_patient_side
        else AppointmentStatus.BOOKED
    )

    def attempt() -> Appointment:
        ends_at = starts_at + appointment_type.duration
        _check_patient_free(patient, starts_at, ends_at)
        appointment = Appointment(
            patient=patient,
            appointment_type=appointment_type,
            clinic=appointment_type.clinic,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
        )
        allocations = _allocations(appointment, resource_ids)
        tasks = _new_preparation_tasks(appointment)
        created = _event(
            appointment,
            kind=EventKind.CREATED,
            cause=cause,
            actor=actor,
            new_resource_ids=[a.resource_id for a in allocations],
        )
        # Its notices and reminders are children too: on PostgreSQL still one statement.
        followers = rows_by_model(rows_following(appointment, created))
        with _constraint_errors():
            insert_with_children(appointment, allocations, tasks, [created], *followers)
        # All the tasks it has: its answer lists them without reading them back.
        prefetched(
            appointment, "preparation_tasks", sorted(tasks, key=lambda t: (t.due_date, t.pk))
        )
        return appointment

    return _retrying_lost_races(attempt, one_write=True)


def appointment_book_by_type(
    *, appointment_type_id: int, patient: Patient, starts_at: datetime, actor: Actor
) -> Appointment:
    """Book a time of the type with this id: the booking fast path's one door, for a booking a
    request asks for. The type is the one kept from an earlier request while it is still the
    clinic's (booking.rows), else read anew; NotFound if there is no such type."""
    try:
        return with_appointment_type(
            appointment_type_id,
            lambda appointment_type: appointment_book(
                patient=patient, appointment_type=appointment_type, starts_at=starts_at, actor=actor
            ),
        )
    except AppointmentType.DoesNotExist:
        raise NotFound from None


def _locked(appointment: Appointment) -> Appointment:
    return _locked_by_id(appointment.pk)


def _locked_by_id(appointment_id: int) -> Appointment:
    """The appointment re-read under a row lock, so concurrent changes to it queue up."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("appointment_type__clinic", "patient", "clinic")
        .get(pk=appointment_id)
    )


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime,
    actor: Actor,
    cause: EventCause | None = None,
    now: datetime | None = None,
    resource_ids: Sequence[int] | None = None,
    counts_as_change: bool = True,
) -> Appointment:
    """Move the appointment: the new time is taken and the old released in one transaction.

    A patient's change counts against the type's maximum unless `counts_as_change` is off (the
    patient answers a move the clinic made). `resource_ids` as in `appointment_book`.
    """
    now = now or timezone.now()
    cause = _cause_for(actor, cause, EventCause.CLINIC_REPLANNING)
    starts_at = _in_utc(starts_at)

    def attempt() -> Appointment:
        current = _locked(appointment)
        check_patient_may_change(appointment=current, actor=actor, now=now)
        appointment_type = current.appointment_type
        counted = cause == EventCause.PATIENT_CHANGE and counts_as_change
        if (
            actor.is_patient_side
            and counted
            and current.patient_change_count >= appointment_type.max_patient_changes
        ):
            raise MaxChangesReached
        if starts_at == current.starts_at:
            raise SameTime
        check_new_time(appointment_type=appointment_type, starts_at=starts_at, actor=actor, now=now)
        old = (current.starts_at, current.ends_at, _release_resources(current), current.status)
        if counted:
            current.patient_change_count += 1
        _move_to(current, starts_at, resource_ids, old=old, cause=cause, actor=actor)
        return current

    return _retrying_lost_races(attempt)


def _move_to(
    appointment: Appointment,
    starts_at: datetime,
    resource_ids: Sequence[int] | None,
    *,
    old: tuple[datetime | None, datetime | None, list[int], str],
    cause: EventCause,
    actor: Actor,
) -> None:
    """Give an appointment whose resources were released its new time and resources, move its
    preparations, and record the move."""
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + appointment.appointment_type.duration
    _check_patient_free(
        appointment.patient, appointment.starts_at, appointment.ends_at, ignore=appointment.pk
    )
    with _constraint_errors():
        appointment.save(
            update_fields=["starts_at", "ends_at", "patient_change_count", "updated_at"]
        )
    _move_preparations(appointment)
    held = _hold(appointment, resource_ids)
    _record(
        appointment,
        kind=EventKind.RESCHEDULED,
        cause=cause,
        actor=actor,
        old=old,
        new_resource_ids=held,
    )


@dataclass(frozen=True)
class PlannedMove:
    """A planner's new time and resources for an appointment, and what it expects to find."""

    appointment_id: int
    expected_starts_at: datetime
    starts_at: datetime
    resource_ids: Sequence[int]


def appointments_move(
    moves: Sequence[PlannedMove],
    *,
    actor: Actor,
    cause: EventCause = EventCause.CLINIC_REPLANNING,
    now: datetime | None = None,
) -> list[Appointment]:
    """Move several appointments at once, all or nothing (applying a re-plan).

    All old times are released before any new one is taken, so one appointment may move into
    the time another leaves. If any appointment changed since the plan was made, or a new time
    is no longer free, nothing is moved: SlotUnavailable or AppointmentNotChangeable.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = {pk: _locked_by_id(pk) for pk in sorted({m.appointment_id for m in moves})}
        olds = {}
        for move in moves:
            appointment = current[move.appointment_id]
            check_patient_may_change(appointment=appointment, actor=actor, now=now)
            if appointment.starts_at != move.expected_starts_at:
                raise AppointmentNotChangeable
            check_new_time(
                appointment_type=appointment.appointment_type,
                starts_at=move.starts_at,
                actor=actor,
                now=now,
            )
            olds[move.appointment_id] = (
                appointment.starts_at,
                appointment.ends_at,
                _release_resources(appointment),
                appointment.status,
            )
        for move in moves:
            _move_to(
                current[move.appointment_id],
                _in_utc(move.starts_at),
                move.resource_ids,
                old=olds[move.appointment_id],
                cause=cause,
                actor=actor,
            )
        return list(current.values())


def appointment_cancel(
    *,
    appointment: Appointment,
    actor: Actor,
    cause: EventCause | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    now = now or timezone.now()
    cause = _cause_for(actor, cause, EventCause.CLINIC_CANCELLATION)
    with transaction.atomic():
        current = _locked(appointment)
        check_patient_may_change(appointment=current, actor=actor, now=now)
        old = (current.starts_at, current.ends_at, _release_resources(current), current.status)
        current.status = AppointmentStatus.CANCELLED
        current.save(update_fields=["status", "updated_at"])
        _record(
            current, kind=EventKind.CANCELLED, cause=cause, actor=actor, old=old, note=reason[:500]
        )
        return current


def preparation_task_mark(
    *, task: PreparationTask, done: bool, actor: Actor, now: datetime | None = None
) -> PreparationTask:
    task.done_at = (now or timezone.now()) if done else None
    task.done_by = actor.user if done else None
    task.save(update_fields=["done_at", "done_by"])
    return task


# --- The waitlist ----------------------------------------------------------------------------


def waitlist_join(
    *, appointment: Appointment, actor: Actor, now: datetime | None = None
) -> WaitlistEntry:
    """The patient would take an earlier time for this appointment (one they may still change)."""
    check_patient_may_change(appointment=appointment, actor=actor, now=now or timezone.now())
    entry, _ = WaitlistEntry.objects.get_or_create(appointment=appointment)
    return entry


def waitlist_leave(*, appointment: Appointment) -> None:
    WaitlistEntry.objects.filter(appointment=appointment).delete()


def waitlist_offer_accept(
    *, offer: WaitlistOffer, actor: Actor, now: datetime | None = None
) -> Appointment:
    """Move the appointment to the earlier time offered. Accepting does not count against the
    patient's changes. WaitlistOfferClosed if the offer is no longer open; SlotUnavailable (and
    the offer marked taken) if someone else took the time first."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            WaitlistOffer.objects.select_for_update(of=("self",))
            .select_related("entry__appointment")
            .get(pk=offer.pk)
        )
        if locked.status != WaitlistOfferStatus.OFFERED or locked.expires_at <= now:
            raise WaitlistOfferClosed
        try:
            with transaction.atomic():
                moved = appointment_reschedule(
                    appointment=locked.entry.appointment,
                    starts_at=locked.starts_at,
                    actor=actor,
                    cause=EventCause.WAITLIST_FILL,
                    now=now,
                    counts_as_change=False,
                )
        except SlotUnavailable:
            _decide_offer(locked, WaitlistOfferStatus.TAKEN, now)
            taken = True
        else:
            _decide_offer(locked, WaitlistOfferStatus.ACCEPTED, now)
            taken = False
    if taken:
        raise SlotUnavailable
    return moved


def _decide_offer(offer: WaitlistOffer, status: WaitlistOfferStatus, now: datetime) -> None:
    offer.status = status
    offer.decided_at = now
    offer.save(update_fields=["status", "decided_at"])
