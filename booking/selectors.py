"""Reads of the booking app: free times, and who may see which clinic, configuration and
appointment.

Patients see the appointments and preparations of the patients they act for
(patients.selectors). Staff see the clinics they are members of, and change those where their
role may (access.roles): anything else is NotFound, and a user who is staff nowhere (or nowhere
with that capability) is NotAllowed. The selectors that return a patient's data to staff record
the read in the access log.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import QuerySet
from django.utils import timezone

from access.errors import NotAllowed
from access.lookups import first_or_not_found
from access.roles import Capability, roles_that_may
from access.users import AnyUser
from audit.services import record_staff_read
from booking.calendars import resource_calendars, slot_query
from booking.models import (
    HOLDING_STATUSES,
    Absence,
    Appointment,
    AppointmentType,
    Clinic,
    PreparationTask,
    Resource,
    StaffMembership,
    WaitlistOffer,
    WaitlistOfferStatus,
    WorkingHours,
)
from cores.intervals import Interval
from cores.slots import find_slot_starts
from patients.models import Patient
from patients.selectors import patient_for, patients_for_user

MAX_SEARCH_DAYS = 62
READ = Capability.READ


# --- The patient side ------------------------------------------------------------------------


def appointments_for_user(user: AnyUser) -> QuerySet[Appointment]:
    """The appointments of everyone the user acts for, with what an answer shows of them."""
    return (
        Appointment.objects.filter(patient__in=patients_for_user(user))
        .select_related("appointment_type", "clinic", "patient")
        .prefetch_related("preparation_tasks")
    )


def appointments_of(*, user: AnyUser, patient_id: int | None = None) -> QuerySet[Appointment]:
    """The appointments of one patient the user acts for (their own without an id); NotFound
    for anyone else."""
    patient = patient_for(user=user, patient_id=patient_id)
    return appointments_for_user(user).filter(patient=patient)


def preparation_tasks_of(
    *, user: AnyUser, patient_id: int | None = None
) -> QuerySet[PreparationTask]:
    """The preparations of one patient the user acts for, for the appointments that hold
    their time, in the order they are due."""
    patient = patient_for(user=user, patient_id=patient_id)
    return preparation_tasks_for_user(user).filter(appointment__patient=patient)


def appointment_for(*, user: AnyUser, appointment_id: int) -> Appointment:
    return first_or_not_found(appointments_for_user(user).filter(pk=appointment_id))


def preparation_tasks_for_user(user: AnyUser) -> QuerySet[PreparationTask]:
    """The preparations of the appointments that hold their time, of everyone the user acts
    for."""
    return PreparationTask.objects.filter(
        appointment__patient__in=patients_for_user(user),
        appointment__status__in=HOLDING_STATUSES,
    ).select_related("appointment__appointment_type", "appointment__patient")


def preparation_task_for(*, user: AnyUser, task_id: int) -> PreparationTask:
    return first_or_not_found(preparation_tasks_for_user(user).filter(pk=task_id))


def open_waitlist_offers(appointment: Appointment, now: datetime) -> QuerySet[WaitlistOffer]:
    """Earlier times offered for an appointment the caller may see, still open, soonest first."""
    return WaitlistOffer.objects.filter(
        entry__appointment=appointment,
        status=WaitlistOfferStatus.OFFERED,
        expires_at__gt=now,
    ).order_by("starts_at")


def self_bookable_types() -> QuerySet[AppointmentType]:
    return AppointmentType.objects.filter(self_bookable=True, is_active=True).select_related(
        "clinic"
    )


def self_bookable_type(appointment_type_id: int) -> AppointmentType:
    return first_or_not_found(self_bookable_types().filter(pk=appointment_type_id))


# --- The staff side --------------------------------------------------------------------------


def staff_clinics(user: AnyUser, *, capability: Capability = READ) -> QuerySet[Clinic]:
    """The clinics where the user's role gives them the capability."""
    if not user.is_authenticated:
        return Clinic.objects.none()
    memberships = StaffMembership.objects.filter(
        user_id=user.pk, role__in=roles_that_may(capability)
    )
    return Clinic.objects.filter(id__in=memberships.values("clinic_id"))


def require_staff(user: AnyUser, *, capability: Capability = READ) -> None:
    """NotAllowed unless the user has the capability in at least one clinic."""
    if not staff_clinics(user, capability=capability).exists():
        raise NotAllowed


def staff_clinic(*, user: AnyUser, clinic_id: int, capability: Capability = READ) -> Clinic:
    require_staff(user, capability=capability)
    return first_or_not_found(staff_clinics(user, capability=capability).filter(pk=clinic_id))


def staff_resources(user: AnyUser, *, capability: Capability = READ) -> QuerySet[Resource]:
    return Resource.objects.filter(clinic__in=staff_clinics(user, capability=capability))


def staff_working_hours(user: AnyUser, *, capability: Capability = READ) -> QuerySet[WorkingHours]:
    return WorkingHours.objects.filter(
        resource__clinic__in=staff_clinics(user, capability=capability)
    )


def staff_absences(user: AnyUser, *, capability: Capability = READ) -> QuerySet[Absence]:
    return Absence.objects.filter(
        resource__clinic__in=staff_clinics(user, capability=capability)
    ).select_related("resource__clinic")


def staff_absence(*, user: AnyUser, absence_id: int, capability: Capability = READ) -> Absence:
    require_staff(user, capability=capability)
    return first_or_not_found(staff_absences(user, capability=capability).filter(pk=absence_id))


def staff_appointment_types(
    user: AnyUser, *, capability: Capability = READ
) -> QuerySet[AppointmentType]:
    return (
        AppointmentType.objects.filter(clinic__in=staff_clinics(user, capability=capability))
        .select_related("clinic")
        .prefetch_related("requirements", "preparations")
    )


def staff_appointment_type(
    *, user: AnyUser, appointment_type_id: int, capability: Capability = READ
) -> AppointmentType:
    require_staff(user, capability=capability)
    types = staff_appointment_types(user, capability=capability)
    return first_or_not_found(types.filter(pk=appointment_type_id))


def _staff_appointments(user: AnyUser, capability: Capability) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(clinic__in=staff_clinics(user, capability=capability))
        .select_related("appointment_type", "clinic", "patient")
        .prefetch_related("preparation_tasks")
    )


def staff_appointment(
    *, user: AnyUser, appointment_id: int, action: str, capability: Capability = READ
) -> Appointment:
    """One appointment of the user's clinics, for `action` (recorded in the access log)."""
    require_staff(user, capability=capability)
    appointments = _staff_appointments(user, capability)
    appointment = first_or_not_found(appointments.filter(pk=appointment_id))
    record_reads(user, [(appointment.patient, appointment.clinic)], action)
    return appointment


def attendance_list(*, user: AnyUser, clinic_id: int, day: date) -> list[Appointment]:
    """The clinic's appointments on a day, the day as the clinic's clock has it (23 or 25 hours
    on the days the clocks change), in order of time."""
    clinic = staff_clinic(user=user, clinic_id=clinic_id)
    start, end = local_day_bounds(day, day, clinic.tz)
    appointments = list(
        _staff_appointments(user, READ).filter(
            clinic=clinic, starts_at__gte=start, starts_at__lt=end
        )
    )
    record_reads(user, [(a.patient, clinic) for a in appointments], f"attendance list {day}")
    return appointments


def local_day_bounds(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """From the start of the first day to the end of the last, on the clock of `tz`."""
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


def record_reads(user: AnyUser, reads: Iterable[tuple[Patient, Clinic]], action: str) -> None:
    """Record in the access log that the staff user read these patients' data, each in the
    clinic given with it (as whom: their role there)."""
    assert user.is_authenticated  # require_staff let no one else through
    by_clinic: dict[int, tuple[Clinic, list[Patient]]] = {}
    for patient, clinic in reads:
        by_clinic.setdefault(clinic.pk, (clinic, []))[1].append(patient)
    roles = dict(
        StaffMembership.objects.filter(user_id=user.pk, clinic_id__in=by_clinic).values_list(
            "clinic_id", "role"
        )
    )
    for clinic_id, (clinic, patients) in by_clinic.items():
        record_staff_read(
            staff_user=user,
            patients=patients,
            action=action,
            staff_role=roles.get(clinic_id, ""),
            clinic_name=clinic.name,
        )


# --- Free times ------------------------------------------------------------------------------


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
