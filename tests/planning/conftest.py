"""A small clinic for planning tests: two endoscopists and one room, each free for one
30-minute slot per hour; the test clock is Monday 2027-01-04 07:00 Oslo (see tests/conftest)."""

from datetime import date, time
from typing import Any

import pytest

from booking.models import ResourceKind
from booking.services import SYSTEM, appointment_book
from planning import services
from tests import factories
from tests.conftest import oslo


@pytest.fixture
def doctor_a(clinic):
    return factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["endoscopist"])


@pytest.fixture
def doctor_b(clinic):
    return factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["endoscopist"])


@pytest.fixture
def exam_room(clinic):
    return factories.weekday_resource(clinic, ResourceKind.ROOM, ["consultation"])


@pytest.fixture
def exam_type(clinic, doctor_a, doctor_b, exam_room):
    """30 minutes, one endoscopist and one room, on a 15-minute grid."""
    appointment_type = factories.AppointmentTypeFactory.create(clinic=clinic, name="Undersøkelse")
    factories.requirement(appointment_type, ResourceKind.CLINICIAN, "endoscopist")
    factories.requirement(appointment_type, ResourceKind.ROOM)
    return appointment_type


@pytest.fixture
def one_slot_clinic(clinic):
    """One doctor and one room who work only 08:00-08:30 on weekdays: one slot a day."""
    doctor = factories.weekday_resource(
        clinic, ResourceKind.CLINICIAN, ["endoscopist"], time(8, 0), time(8, 30)
    )
    room = factories.weekday_resource(clinic, ResourceKind.ROOM, [], time(8, 0), time(8, 30))
    appointment_type = factories.AppointmentTypeFactory.create(clinic=clinic, name="Skopi")
    factories.requirement(appointment_type, ResourceKind.CLINICIAN, "endoscopist")
    factories.requirement(appointment_type, ResourceKind.ROOM)
    return appointment_type, doctor, room


def make_task(appointment_type, patient=None, **dates: Any):
    """A booking task; dates default to Tue 5 - Fri 29 January 2027, answer by 11 January."""
    fields: dict[str, Any] = {
        "earliest_date": date(2027, 1, 5),
        "latest_date": date(2027, 1, 29),
        "respond_by": date(2027, 1, 11),
    }
    fields.update(dates)
    fields["respond_by"] = min(fields["respond_by"], fields["latest_date"])
    return services.booking_task_create(
        patient=patient or factories.PatientFactory.create(),
        appointment_type=appointment_type,
        **fields,
    )


def make_passed_task(appointment_type, patient=None):
    """A task made last month whose window (1-20 December 2026) has since passed: it can no
    longer be made so, but it stays in the database until someone closes it."""
    task = make_task(appointment_type, patient=patient)
    type(task).objects.filter(pk=task.pk).update(
        earliest_date=date(2026, 12, 1),
        latest_date=date(2026, 12, 20),
        respond_by=date(2026, 12, 10),
    )
    task.refresh_from_db()
    return task


def book_on(appointment_type, resources, hour, minute=0, day=6, patient=None):
    """Book 6 January (Wednesday) at hour:minute on exactly these resources."""
    return appointment_book(
        patient=patient or factories.PatientFactory.create(),
        appointment_type=appointment_type,
        starts_at=oslo(2027, 1, day, hour, minute),
        actor=SYSTEM,
        resource_ids=[r.pk for r in resources],
    )
