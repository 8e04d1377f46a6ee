"""The login backend: Django's own, reading a user's patient record with the user."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User

from booking.rows import user_with_patient
from patients.models import Patient


class PatientUserBackend(ModelBackend):
    """ModelBackend whose session user comes with `user.patient` already read (or known to be
    absent): every patient request needs it, and one query serves both."""

    def get_user(self, user_id: Any) -> Any:
        user = user_with_patient(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def own_patient(user: User) -> Patient | None:
    """The user's own patient record: read with the user by PatientUserBackend, else a query."""
    try:
        patient: Patient = user.patient
    except Patient.DoesNotExist:
        return None
    return patient
