"""Configuration input that used to be stored instead of refused: every one a 400 with a field
error in the user's language, and nothing written."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from access.roles import StaffRole
from booking.models import Absence, WorkingHours
from planning.models import BookingTask, PlanProposal
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def staff(clinic):
    api = APIClient()
    api.force_login(factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user)
    return api


def refused(response, field, language_answers=None):
    assert response.status_code == 400, response.json()
    assert response.json()[field], response.json()
    return response.json()[field]


@pytest.mark.parametrize("value", ["08:00:00.5", "08:00+02:00", "08:00:30", "8.00", "08:00Z"])
def test_working_hours_are_whole_minutes_of_the_wall_clock(staff, clinician, value):
    before = WorkingHours.objects.count()
    answers = {
        language: staff.post(
            "/api/v1/staff/working-hours/",
            {
                "resource": clinician.pk,
                "weekday": 5,
                "start_time": value,
                "end_time": "12:00",
                "valid_from": "2027-01-01",
            },
            format="json",
            headers={"Accept-Language": language},
        )
        for language in ("en", "nb")
    }
    assert refused(answers["en"], "start_time") == [
        "Give the time as hours and minutes, e.g. 08:00."
    ]
    assert refused(answers["nb"], "start_time") != answers["en"].json()["start_time"]
    assert WorkingHours.objects.count() == before


def test_an_absence_of_a_hundred_years_is_refused_and_queues_no_replan(
    staff, clinician, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = staff.post(
            "/api/v1/staff/absences/",
            {
                "resource": clinician.pk,
                "starts_at": "2027-03-01T08:00:00+01:00",
                "ends_at": "2127-03-01T16:00:00+01:00",
                "reason": "other",
            },
            format="json",
            headers={"Accept-Language": "en"},
        )
    assert refused(response, "ends_at") == [
        "An absence may last at most two years. Register a longer one in parts."
    ]
    assert not Absence.objects.exists()
    assert not queued
    assert not PlanProposal.objects.exists()


def test_an_absence_of_a_year_is_accepted(staff, clinician):
    response = staff.post(
        "/api/v1/staff/absences/",
        {
            "resource": clinician.pk,
            "starts_at": "2027-03-01T08:00:00+01:00",
            "ends_at": "2028-03-01T16:00:00+01:00",
            "reason": "other",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.fixture
def referral(patient, clinic):
    return patient.referrals.create(
        clinic=clinic, received_on=date(2026, 11, 1), care_deadline=date(2027, 1, 29)
    )


def task_body(patient, control_type, referral, **dates):
    return {
        "patient": patient.pk,
        "appointment_type": control_type.pk,
        "referral": referral.pk,
        "earliest_date": "2027-01-05",
        "latest_date": "2027-01-29",
        "respond_by": "2027-01-11",
        **dates,
    }


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        (
            {
                "earliest_date": "2026-12-01",
                "latest_date": "2026-12-20",
                "respond_by": "2026-12-10",
            },
            "latest_date",
            "The last day has passed: the patient could not choose any time.",
        ),
        (
            {"deadline": "2027-01-04"},
            "deadline",
            "The legal deadline is before the first day: no time could meet it.",
        ),
    ],
    ids=["a window wholly in the past", "a legal deadline before the first day"],
)
def test_a_booking_task_no_time_could_serve_is_refused(
    staff, patient, control_type, referral, dates, field, message
):
    response = staff.post(
        "/api/v1/staff/booking-tasks/",
        task_body(patient, control_type, referral, **dates),
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert refused(response, field) == [message]
    assert not BookingTask.objects.exists()
