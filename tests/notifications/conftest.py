import pytest

from booking.services import SYSTEM, appointment_book
from tests.conftest import oslo
from tests.notifications.backends import Failing, Recording

WED_10 = oslo(2027, 1, 13, 10, 0)  # nine days after the test clock: both reminders to come


@pytest.fixture(autouse=True)
def recorded(settings):
    """Both channels keep what they are given, in Recording.sent."""
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Recording"
    settings.NOTIFICATIONS_EMAIL_BACKEND = "tests.notifications.backends.Recording"
    settings.PATIENT_PAGES_URL = "https://timevalg.example/"
    Recording.sent = []
    Failing.attempts = 0
    return Recording.sent


@pytest.fixture
def book(control_type, patient):
    def book(starts_at=WED_10, *, who=patient, appointment_type=control_type, **kwargs):
        return appointment_book(
            patient=who,
            appointment_type=appointment_type,
            starts_at=starts_at,
            actor=SYSTEM,
            **kwargs,
        )

    return book
