"""The login backend: Django's own, reading a user's patient record with the user."""

from typing import Any

from django.contrib.auth.backends import ModelBackend

from booking.rows import user_with_patient


class PatientUserBackend(ModelBackend):
    """ModelBackend whose session user comes with `user.patient` already read (or known to be
    absent): every patient request needs it, and one query of the booking fast path
    (booking.rows) serves both."""

    def get_user(self, user_id: Any) -> Any:
        user = user_with_patient(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
