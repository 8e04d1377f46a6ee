"""Texts are rendered when they are sent, in the patient's language then, with the time on
Oslo's clock as that language writes it, and name only the type's neutral name and a link."""

from datetime import timedelta

import pytest

from booking.services import SYSTEM, appointment_reschedule
from notifications.models import Notification, Purpose
from notifications.services import dispatch_due
from notifications.texts import render
from tests.conftest import oslo
from tests.notifications.conftest import WED_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def sensitive_type(control_type):
    control_type.name = "Rusbehandling, oppfølging"
    control_type.patient_facing_name = "Samtale"
    control_type.save()
    return control_type


MON_9 = oslo(2027, 1, 4, 9)


def sent_text(clock, recorded):
    clock.move_to(MON_9)
    dispatch_due()
    return recorded[-1].text


@pytest.mark.parametrize(
    ("language", "when"),
    [
        ("nb", "onsdag 13. januar 2027 kl. 10.00"),
        ("nn", "onsdag 13. januar 2027 kl. 10.00"),
        ("en", "Wednesday 13 January 2027, 10:00"),
    ],
)
def test_the_time_is_written_on_oslos_clock_in_the_patients_language(
    clock, book, patient, recorded, language, when
):
    patient.preferred_language = language
    patient.save()
    book()

    assert when in sent_text(clock, recorded)


def test_the_language_is_the_patients_when_it_is_sent(clock, book, patient, recorded):
    book()
    patient.preferred_language = "en"  # changed after the booking, before the sending
    patient.save()

    assert "Wednesday 13 January 2027, 10:00" in sent_text(clock, recorded)


def test_a_notice_names_only_the_neutral_name_and_links_to_the_patient_pages(
    clock, book, sensitive_type, recorded, patient
):
    patient.notify_by_email = True
    patient.email = "kari@example.no"
    patient.save()
    book(appointment_type=sensitive_type)
    clock.move_to(oslo(2027, 1, 4, 9))
    dispatch_due()

    assert len(recorded) == 2
    for message in recorded:
        assert "Samtale" in message.text
        assert "Rus" not in message.text + message.subject
        assert "https://timevalg.example/" in message.text


def test_a_booking_tells_how_many_preparations_there_are(clock, book, control_type, recorded):
    for days in (3, 5):
        control_type.preparations.create(title="Skjema", timing="deadline", days_before=days)
    book()

    text = sent_text(clock, recorded)

    assert "Du har 2 ting å forberede før timen." in text
    assert "Skjema" not in text  # a preparation's title may tell what the appointment is for


def test_a_move_tells_both_times(clock, book, recorded, patient):
    patient.preferred_language = "en"
    patient.save()
    appointment = book()
    appointment_reschedule(
        appointment=appointment, starts_at=WED_10 + timedelta(days=1), actor=SYSTEM
    )
    moved = Notification.objects.get(purpose=Purpose.MOVED)

    text = render(moved).body

    assert "from Wednesday 13 January 2027, 10:00 to Thursday 14 January 2027, 10:00" in text
