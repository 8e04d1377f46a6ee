"""A patient with a booking task and a booked appointment with preparations, in a clinic with
a phone number; the test clock is Monday 2027-01-04 07:00 Oslo."""

from datetime import date

import pytest
from django.test import Client

from booking.models import PreparationTemplate
from booking.services import SYSTEM, appointment_book
from tests import factories
from tests.conftest import oslo
from tests.planning.conftest import make_task


@pytest.fixture
def clinic():
    return factories.ClinicFactory.create(
        name="Medisinsk poliklinikk", phone="+4755000000", address="Sentralsjukehuset"
    )


@pytest.fixture
def kind(control_type):
    PreparationTemplate.objects.create(
        appointment_type=control_type, title="Medisinliste", timing="deadline", days_before=5
    )
    control_type.location = "5. etasje"
    control_type.save()
    return control_type


@pytest.fixture
def booked(kind, patient):
    return appointment_book(
        patient=patient, appointment_type=kind, starts_at=oslo(2027, 1, 13, 10), actor=SYSTEM
    )


@pytest.fixture
def task(kind, patient):
    return make_task(kind, patient=patient, latest_date=date(2027, 1, 15))


@pytest.fixture
def browser(clock, patient):
    """The patient's browser, logged in, asking for English pages."""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(patient.user)
    return client
