"""Writes of the patients app. Nothing here decides who may: the caller did, through the
selectors."""

from datetime import date, time

from django.contrib.auth.models import User

from access.errors import NotFound
from patients.models import AvailabilityWindow, Language, Patient, UnavailablePeriod


def patient_register(
    *,
    national_id: str,
    given_name: str,
    family_name: str,
    phone: str = "",
    email: str = "",
    preferred_language: str = Language.BOKMAL,
    uses_digital_services: bool = True,
    user: User | None = None,
) -> Patient:
    """A person into the patient register: the one way patients are created. The national
    identity number is checked in full (eleven digits, a real date of birth not in the future,
    both check digits), like every other field, before anything is written."""
    patient = Patient(
        user=user,
        national_id=national_id,
        given_name=given_name,
        family_name=family_name,
        phone=phone,
        email=email,
        preferred_language=preferred_language,
        uses_digital_services=uses_digital_services,
    )
    patient.full_clean(exclude=["birth_date"])
    patient.save()
    return patient


def preferences_update(
    *,
    patient: Patient,
    preferred_language: str | None = None,
    notify_by_sms: bool | None = None,
    notify_by_email: bool | None = None,
) -> Patient:
    """How the patient wants to hear from the clinic, and in which language."""
    changes = {
        "preferred_language": preferred_language,
        "notify_by_sms": notify_by_sms,
        "notify_by_email": notify_by_email,
    }
    fields = [name for name, value in changes.items() if value is not None]
    for name in fields:
        setattr(patient, name, changes[name])
    patient.full_clean(exclude=["birth_date", "national_id"], validate_unique=False)
    patient.save(update_fields=fields)
    return patient


def availability_window_add(
    *, patient: Patient, weekday: int, start_time: time, end_time: time
) -> AvailabilityWindow:
    """A weekly time the patient can come, e.g. Tuesdays 08:00-12:00."""
    window = AvailabilityWindow(
        patient=patient, weekday=weekday, start_time=start_time, end_time=end_time
    )
    window.full_clean()
    window.save()
    return window


def unavailable_period_add(
    *, patient: Patient, start_date: date, end_date: date, reason: str = ""
) -> UnavailablePeriod:
    """Days the patient cannot come (a holiday, a stay in hospital), both included."""
    period = UnavailablePeriod(
        patient=patient, start_date=start_date, end_date=end_date, reason=reason
    )
    period.full_clean()
    period.save()
    return period


def availability_window_remove(*, patient: Patient, window_id: int) -> None:
    """Remove one of the patient's own weekly windows (another patient's is NotFound)."""
    if not AvailabilityWindow.objects.filter(patient=patient, pk=window_id).delete()[0]:
        raise NotFound


def unavailable_period_remove(*, patient: Patient, period_id: int) -> None:
    """Remove one of the patient's own periods away (another patient's is NotFound)."""
    if not UnavailablePeriod.objects.filter(patient=patient, pk=period_id).delete()[0]:
        raise NotFound
