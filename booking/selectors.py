"""Reads: what a user may see, and which times are free."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.db.models import Q, QuerySet
from django.utils import timezone

from booking.calendars import resource_calendars, slot_query
from booking.models import (
    HOLDING_STATUSES,
    ActorKind,
    Appointment,
    AppointmentType,
    Clinic,
    PreparationTask,
    StaffMembership,
    StaffRole,
)
from cores.intervals import Interval
from cores.slots import find_slot_starts
from patients.models import Patient, Proxy

MAX_SEARCH_DAYS = 62

User = UserModel | AnonymousUser


def patients_for_user(user: User) -> QuerySet[Patient]:
    """The user's own patient record and everyone they hold a valid proxy for today."""
    if not user.is_authenticated:
        return Patient.objects.none()
    subjects = Proxy.objects.valid_now().filter(holder__user_id=user.pk).values("subject_id")
    return Patient.objects.filter(Q(user_id=user.pk) | Q(id__in=subjects))


def actor_kind_for(user: User, patient: Patient) -> ActorKind:
    return ActorKind.PATIENT if patient.user_id == user.pk else ActorKind.PROXY


def appointments_for_user(user: User) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(patient__in=patients_for_user(user))
        .select_related("appointment_type", "clinic", "patient")
        .prefetch_related("preparation_tasks")
    )


def preparation_tasks_for_user(user: User) -> QuerySet[PreparationTask]:
    return PreparationTask.objects.filter(
        appointment__patient__in=patients_for_user(user),
        appointment__status__in=HOLDING_STATUSES,
    ).select_related("appointment__appointment_type")


def self_bookable_types() -> QuerySet[AppointmentType]:
    return AppointmentType.objects.filter(self_bookable=True, is_active=True).select_related(
        "clinic"
    )


def clinics_for_staff(
    user: User, *, roles: tuple[StaffRole, ...] | None = None
) -> QuerySet[Clinic]:
    if not user.is_authenticated:
        return Clinic.objects.none()
    memberships = StaffMembership.objects.filter(user_id=user.pk)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return Clinic.objects.filter(id__in=memberships.values("clinic_id"))


def bookable_window(
    appointment_type: AppointmentType, start: datetime, end: datetime, now: datetime
) -> Interval | None:
    """The part of [start, end) a patient may book: after the notice, within the horizon."""
    earliest = max(start, now + timedelta(hours=appointment_type.min_notice_hours))
    latest = min(end, now + timedelta(days=appointment_type.booking_horizon_days))
    return Interval(earliest, latest) if earliest < latest else None


def _patient_busy(patient: Patient, window: Interval, duration: timedelta) -> list[Interval]:
    """The patient's own appointments that a start in the window could run into."""
    rows = Appointment.objects.filter(
        patient=patient,
        status__in=HOLDING_STATUSES,
        starts_at__lt=window.end + duration,
        ends_at__gt=window.start,
    ).values_list("starts_at", "ends_at")
    return [Interval(start, end) for start, end in rows]


def available_starts(
    *,
    appointment_type: AppointmentType,
    start: datetime,
    end: datetime,
    patient: Patient | None = None,
    now: datetime | None = None,
) -> list[datetime]:
    """Start times a patient may book: every required resource free at once, the patient too."""
    window = bookable_window(appointment_type, start, end, now or timezone.now())
    if window is None:
        return []
    query = slot_query(appointment_type, window)
    starts = find_slot_starts(query, resource_calendars(query, appointment_type.clinic_id))
    if patient is None:
        return starts
    duration = appointment_type.duration
    busy = _patient_busy(patient, window, duration)
    return [s for s in starts if not any(b.start < s + duration and s < b.end for b in busy)]
