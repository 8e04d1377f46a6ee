"""Reads of patients, and the patient side of the access policy: a user acts for their own
patient record and for everyone they hold a proxy for that is valid today (inside its dates,
not revoked, and a parent's only while the child is under 16). Anyone else is NotFound."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from access.errors import NotFound
from access.users import AnyUser
from patients.models import AvailabilityWindow, Patient, Proxy, UnavailablePeriod


def own_patient(user: AnyUser) -> Patient | None:
    """The user's own patient record: read with the user by the login backend
    (booking.auth.PatientUserBackend), else one query."""
    if not user.is_authenticated:
        return None
    try:
        patient: Patient = user.patient
    except Patient.DoesNotExist:
        return None
    return patient


def patients_for_user(user: AnyUser) -> QuerySet[Patient]:
    """The user's own patient record and everyone they hold a valid proxy for today."""
    if not user.is_authenticated:
        return Patient.objects.none()
    subjects = Proxy.objects.valid_now().filter(holder__user_id=user.pk).values("subject_id")
    return Patient.objects.filter(Q(user_id=user.pk) | Q(id__in=subjects))


def patient_for(*, user: AnyUser, patient_id: int | None = None) -> Patient:
    """The patient the user acts for: their own record (no id, or their own id), or someone
    they hold a valid proxy for. NotFound otherwise, as for an id that does not exist."""
    own = own_patient(user)
    if patient_id is None or (own is not None and own.pk == patient_id):
        if own is None:
            raise NotFound
        return own
    patient = patients_for_user(user).filter(pk=patient_id).first()
    if patient is None:
        raise NotFound
    return patient


def acts_for_self(*, user: AnyUser, patient: Patient) -> bool:
    """Whether the user is the patient (not a proxy holder acting for them)."""
    return patient.user_id is not None and patient.user_id == user.pk


def proxy_subjects(*, user: AnyUser) -> QuerySet[Patient]:
    """The people the user holds a valid proxy for today (not the user themself)."""
    return (
        patients_for_user(user).exclude(user_id=user.pk)
        if user.is_authenticated
        else (Patient.objects.none())
    )


def availability_of(
    *, patient: Patient
) -> tuple[QuerySet[AvailabilityWindow], QuerySet[UnavailablePeriod]]:
    """The patient's weekly windows and the periods they cannot come that are not over."""
    return (
        AvailabilityWindow.objects.filter(patient=patient),
        UnavailablePeriod.objects.filter(patient=patient, end_date__gte=timezone.localdate()),
    )
