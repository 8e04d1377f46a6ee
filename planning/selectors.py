"""Reads of the planning app: booking tasks, plans, referrals, and which patients staff may see.

Patients see the booking tasks of the patients they act for (patients.selectors). Staff see
the tasks, plans and referrals of their clinics (booking.selectors.staff_clinics), and a
patient only while that patient is in the care of one of their clinics: has a referral, a
booking task or an appointment there. Looking a patient up by national identity number, to
register a referral, is the one way to a patient not yet in a clinic's care, and it is logged
with its purpose. Every selector here that returns a patient's data to staff records the read.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from access.lookups import first_or_not_found
from access.roles import Capability
from access.users import AnyUser
from booking.models import Appointment, Clinic
from booking.selectors import record_reads, require_staff, staff_clinic, staff_clinics
from patients.models import Patient, Referral
from patients.selectors import patient_for, patients_for_user
from planning.models import BookingTask, PlanProposal

READ = Capability.READ
# A staff list of tasks or plans shows at most this many.
MAX_LISTED = 500
MAX_PLANS_LISTED = 50


def _with_parts(tasks: QuerySet[BookingTask]) -> QuerySet[BookingTask]:
    return tasks.select_related("patient", "appointment_type", "clinic", "appointment")


# --- The patient side ------------------------------------------------------------------------


def booking_tasks_for_user(user: AnyUser) -> QuerySet[BookingTask]:
    """The booking tasks of everyone the user acts for."""
    return _with_parts(BookingTask.objects.filter(patient__in=patients_for_user(user)))


def booking_tasks_of(*, user: AnyUser, patient_id: int | None = None) -> QuerySet[BookingTask]:
    """The booking tasks of one patient the user acts for (their own without an id)."""
    patient = patient_for(user=user, patient_id=patient_id)
    return booking_tasks_for_user(user).filter(patient=patient)


def booking_task_for(*, user: AnyUser, task_id: int, patient_id: int | None = None) -> BookingTask:
    """A booking task of someone the user acts for (of this patient, when given)."""
    tasks = booking_tasks_for_user(user).filter(pk=task_id)
    if patient_id is not None:
        tasks = tasks.filter(patient_id=patient_id)
    return first_or_not_found(tasks)


# --- Which patients staff may see ---------------------------------------------------------


def patients_in_care(clinics: QuerySet[Clinic]) -> QuerySet[Patient]:
    """Patients with a referral, a booking task or an appointment in one of the clinics."""
    here = {"patient": OuterRef("pk"), "clinic__in": clinics}
    return Patient.objects.filter(
        Q(Exists(Referral.objects.filter(**here)))
        | Q(Exists(BookingTask.objects.filter(**here)))
        | Q(Exists(Appointment.objects.filter(**here)))
    )


def staff_patient(
    *, user: AnyUser, patient_id: int, clinic: Clinic, action: str, capability: Capability = READ
) -> Patient:
    """A patient in the care of `clinic`, one of the user's clinics with the capability, for
    `action` (recorded). NotFound for any other patient, as for one that does not exist."""
    staff_clinic(user=user, clinic_id=clinic.pk, capability=capability)
    patient = first_or_not_found(
        patients_in_care(Clinic.objects.filter(pk=clinic.pk)).filter(pk=patient_id)
    )
    record_reads(user, [(patient, clinic)], action)
    return patient


def patient_lookup(*, user: AnyUser, national_id: str, clinic_id: int, purpose: str) -> Patient:
    """The patient with this national identity number, for a secretary or leader of the clinic
    to register a referral there (the purpose is recorded with the read)."""
    clinic = staff_clinic(user=user, clinic_id=clinic_id, capability=Capability.CHANGE)
    patient = first_or_not_found(Patient.objects.filter(national_id=national_id))
    record_reads(user, [(patient, clinic)], f"patient lookup to {purpose}")
    return patient


# --- Referrals -------------------------------------------------------------------------------


def _staff_referrals(user: AnyUser, capability: Capability) -> QuerySet[Referral]:
    return Referral.objects.filter(
        clinic__in=staff_clinics(user, capability=capability)
    ).select_related("patient", "clinic")


def staff_referrals(*, user: AnyUser, filters: dict[str, Any], action: str) -> list[Referral]:
    """The referrals of the user's clinics (at most MAX_LISTED), filtered by the model's fields
    (clinic, patient, status)."""
    require_staff(user)
    referrals = list(_staff_referrals(user, READ).filter(**filters)[:MAX_LISTED])
    record_reads(user, [(r.patient, r.clinic) for r in referrals], action)
    return referrals


def staff_referral(
    *,
    user: AnyUser,
    referral_id: int,
    action: str,
    capability: Capability = READ,
    patient_id: int | None = None,
) -> Referral:
    """One referral of the user's clinics (of this patient, when given), for `action`."""
    require_staff(user, capability=capability)
    referrals = _staff_referrals(user, capability).filter(pk=referral_id)
    if patient_id is not None:
        referrals = referrals.filter(patient_id=patient_id)
    referral = first_or_not_found(referrals)
    record_reads(user, [(referral.patient, referral.clinic)], action)
    return referral


# --- Booking tasks ---------------------------------------------------------------------------


def _staff_tasks(user: AnyUser, capability: Capability) -> QuerySet[BookingTask]:
    return _with_parts(
        BookingTask.objects.filter(clinic__in=staff_clinics(user, capability=capability))
    )


def staff_booking_tasks(
    *, user: AnyUser, filters: dict[str, Any], action: str
) -> list[BookingTask]:
    """The booking tasks of the user's clinics (at most MAX_LISTED), filtered by the model's
    fields (clinic, patient, status)."""
    require_staff(user)
    tasks = list(_staff_tasks(user, READ).filter(**filters)[:MAX_LISTED])
    record_reads(user, [(t.patient, t.clinic) for t in tasks], action)
    return tasks


def staff_booking_task(
    *, user: AnyUser, task_id: int, action: str, capability: Capability = READ
) -> BookingTask:
    require_staff(user, capability=capability)
    task = first_or_not_found(_staff_tasks(user, capability).filter(pk=task_id))
    record_reads(user, [(task.patient, task.clinic)], action)
    return task


# --- Plans -----------------------------------------------------------------------------------


def _staff_plans(user: AnyUser, capability: Capability) -> QuerySet[PlanProposal]:
    return (
        PlanProposal.objects.filter(clinic__in=staff_clinics(user, capability=capability))
        .select_related("clinic")
        .prefetch_related("items__patient")
    )


def staff_plans(*, user: AnyUser, filters: dict[str, Any], action: str) -> list[PlanProposal]:
    """The latest plans of the user's clinics (at most MAX_PLANS_LISTED), filtered by the
    model's fields (clinic, kind, status, absence)."""
    require_staff(user)
    plans = list(_staff_plans(user, READ).filter(**filters)[:MAX_PLANS_LISTED])
    record_reads(user, _plan_reads(plans), action)
    return plans


def staff_plan(
    *, user: AnyUser, plan_id: int, action: str, capability: Capability = READ
) -> PlanProposal:
    """One plan with its items, whose patients' data it shows (recorded)."""
    require_staff(user, capability=capability)
    plan = first_or_not_found(_staff_plans(user, capability).filter(pk=plan_id))
    record_reads(user, _plan_reads([plan]), action)
    return plan


def _plan_reads(plans: Iterable[PlanProposal]) -> list[tuple[Patient, Clinic]]:
    return [(item.patient, plan.clinic) for plan in plans for item in plan.items.all()]
