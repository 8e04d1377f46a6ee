"""Writes of the patients app. Nothing here decides who may: the caller did, through the
selectors."""

from django.contrib.auth.models import User

from patients.models import Language, Patient


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
