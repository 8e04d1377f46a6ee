"""Schemathesis against the API's own OpenAPI schema: for every operation, requests generated
from the schema (valid and invalid), sent through the WSGI app, must get no server error and
an answer the schema describes (status code, content type, body).

Bounded for CI: a fixed number of examples per operation, derandomized so a failure repeats.
Staff operations are sent as a secretary, the others as a patient, each with a session and
a CSRF token, against a small clinic.
"""

from datetime import date
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from access.roles import StaffRole
from booking.models import ResourceKind
from planning import services as planning_services
from tests import factories
from tests.whole_api import session_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
APPLICATION = get_wsgi_application()


# Read once at collection: making the schema needs no database.
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APPLICATION)


def _operations() -> list[Any]:
    found = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the schema itself is broken: say so, not skip the operation
        found.append(result.ok())
    return found


OPERATIONS = _operations()


@pytest.fixture
def connection_kept_between_requests():
    """Django closes the database connection when a request ends, and inside the test's
    transaction that loses it; the test client does the same as this while it calls the app."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def sessions(clinic, connection_kept_between_requests):
    """A secretary and a patient of the clinic, logged in; the clinic has a type, resources,
    an appointment-free calendar and a booking task for the patient."""
    factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    factories.weekday_resource(clinic, ResourceKind.ROOM)
    control = factories.AppointmentTypeFactory.create(clinic=clinic)
    factories.requirement(control, ResourceKind.CLINICIAN)
    patient = factories.PatientFactory.create()
    referral = patient.referrals.create(
        clinic=clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )
    planning_services.booking_task_create(
        patient=patient,
        appointment_type=control,
        earliest_date=date(2027, 1, 5),
        latest_date=date(2027, 1, 29),
        respond_by=date(2027, 1, 11),
        referral=referral,
    )
    assert patient.user is not None
    secretary = factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user
    return {"staff": session_key(secretary), "patient": session_key(patient.user)}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.label for o in OPERATIONS])
def test_generated_requests_get_no_server_error_and_an_answer_the_schema_describes(
    operation, sessions
):
    role = "staff" if operation.path.startswith("/api/v1/staff/") else "patient"

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case):
        token = _get_new_csrf_string()
        cookies = {django_settings.SESSION_COOKIE_NAME: sessions[role], "csrftoken": token}
        headers = {
            "X-CSRFToken": token,
            "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        }
        case.call_and_validate(headers=headers, checks=CHECKS)

    send()
