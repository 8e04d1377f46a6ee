"""The planning engine on the nights the clocks change, as the issue found it from outside.

A clinic works through the night to Sunday, 00:00-06:00, with one clinician and one room and
a 30-minute type on a 30-minute grid. Offers, choosing, batch plans and re-plans must agree
with the slot search, time for time; every time is written with the UTC offset in force then.
"""

from datetime import date, datetime, time, timedelta

import pytest
from rest_framework.test import APIClient

from booking.models import Absence, Appointment, ResourceKind
from booking.selectors import available_starts
from booking.services import SYSTEM, appointment_book
from planning import services
from tests import factories
from tests.conftest import OSLO
from tests.planning.conftest import make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

AUTUMN, SPRING = date(2027, 10, 31), date(2027, 3, 28)


@pytest.fixture
def night_type(clinic):
    for kind in (ResourceKind.CLINICIAN, ResourceKind.ROOM):
        resource = factories.ResourceFactory.create(clinic=clinic, kind=kind)
        factories.WorkingHoursFactory.create(
            resource=resource, weekday=6, start_time=time(0, 0), end_time=time(6, 0)
        )
    night = factories.AppointmentTypeFactory.create(
        clinic=clinic,
        name="Nattundersøkelse",
        grid_minutes=30,
        min_notice_hours=0,
        booking_horizon_days=365,
    )
    factories.requirement(night, ResourceKind.CLINICIAN)
    factories.requirement(night, ResourceKind.ROOM)
    return night


def night_starts(night_type, day: date) -> list[datetime]:
    start = datetime.combine(day, time.min, tzinfo=OSLO)
    return available_starts(appointment_type=night_type, start=start, end=start + timedelta(1))


def book_all_but(night_type, day: date, keep: list[str]) -> list[str]:
    """Book every start of the night but those written in `keep`; the free ones, written."""
    for start in night_starts(night_type, day):
        if start.astimezone(OSLO).isoformat() not in keep:
            appointment_book(
                patient=factories.PatientFactory.create(),
                appointment_type=night_type,
                starts_at=start,
                actor=SYSTEM,
            )
    return [s.astimezone(OSLO).isoformat() for s in night_starts(night_type, day)]


def task_on(night_type, day: date, patient=None):
    return make_task(
        night_type,
        patient=patient,
        earliest_date=day,
        latest_date=day,
        respond_by=day - timedelta(days=1),
    )


WINTER_TWOS = ["2027-10-31T02:00:00+01:00", "2027-10-31T02:30:00+01:00"]
SUMMER_TWOS = ["2027-10-31T02:00:00+02:00", "2027-10-31T02:30:00+02:00"]


@pytest.mark.parametrize("keep", [WINTER_TWOS, SUMMER_TWOS], ids=["winter time", "summer time"])
def test_the_autumn_night_offers_and_books_what_the_slot_search_lists(night_type, patient, keep):
    assert book_all_but(night_type, AUTUMN, keep) == keep
    task = task_on(night_type, AUTUMN, patient)
    api = APIClient()
    api.force_login(patient.user)

    page = api.get(f"/api/v1/booking-tasks/{task.pk}/offers/", {"count": 10}).json()
    offered = [o["starts_at"] for o in page["offers"]]
    assert sorted(offered) == sorted(keep), page
    chosen = api.post(
        f"/api/v1/booking-tasks/{task.pk}/choose/", {"starts_at": offered[0]}, format="json"
    )
    assert chosen.status_code == 201, chosen.json()
    assert chosen.json()["starts_at"] == offered[0]


@pytest.mark.parametrize("keep", [WINTER_TWOS, SUMMER_TWOS], ids=["winter time", "summer time"])
def test_the_autumn_batch_plan_places_the_task_in_a_free_occurrence_and_applies(night_type, keep):
    book_all_but(night_type, AUTUMN, keep)
    task = task_on(night_type, AUTUMN)

    proposal = services.propose_batch(clinic=night_type.clinic)
    item = proposal.items.get()
    assert item.starts_at is not None, item.unplaced_detail
    assert item.starts_at.astimezone(OSLO).isoformat() in keep
    services.apply_proposal(proposal=proposal, actor=SYSTEM)
    task.refresh_from_db()
    assert task.appointment is not None
    assert task.appointment.starts_at == item.starts_at


def test_the_autumn_replan_moves_an_appointment_into_the_repeated_hour(night_type):
    keep = [*WINTER_TWOS, "2027-10-31T01:00:00+02:00"]
    book_all_but(night_type, AUTUMN, keep)
    one_oclock = appointment_book(
        patient=factories.PatientFactory.create(),
        appointment_type=night_type,
        starts_at=datetime(2027, 10, 31, 1, tzinfo=OSLO),
        actor=SYSTEM,
    )
    clinician = one_oclock.allocations.get(resource__kind=ResourceKind.CLINICIAN).resource
    absence = Absence.objects.create(
        resource=clinician,
        starts_at=datetime(2027, 10, 31, 1, tzinfo=OSLO),
        ends_at=datetime(2027, 10, 31, 1, 30, tzinfo=OSLO),
        reason="sick",
    )

    proposal = services.propose_replan(absence=absence)
    item = proposal.items.get()
    assert item.starts_at is not None, item.unplaced_detail
    assert item.starts_at.astimezone(OSLO).isoformat() in WINTER_TWOS
    services.apply_proposal(proposal=proposal, actor=SYSTEM)
    assert Appointment.objects.get(pk=one_oclock.pk).starts_at == item.starts_at


def test_the_spring_night_offers_every_time_the_slot_search_lists_and_no_other(night_type, patient):
    listed = [s.astimezone(OSLO).isoformat() for s in night_starts(night_type, SPRING)]
    assert len(listed) == 10  # 00:00-01:30 and 03:00-05:30: 02:00-02:59 do not exist
    task = task_on(night_type, SPRING, patient)

    page = services.booking_task_offers(task=task, count=50)

    assert sorted(o.starts_at.isoformat() for o in page.offers) == sorted(listed)
    half_past_one = next(o for o in page.offers if o.starts_at.hour == 1 and o.starts_at.minute)
    assert half_past_one.ends_at.isoformat() == "2027-03-28T03:00:00+02:00"


def test_offers_are_written_with_the_offset_in_force_for_patients_and_staff(night_type, patient):
    task = task_on(night_type, SPRING, patient)
    secretary = factories.StaffFactory.create(clinic=night_type.clinic).user
    answers = []
    for user, path in (
        (patient.user, f"/api/v1/booking-tasks/{task.pk}/offers/"),
        (secretary, f"/api/v1/staff/booking-tasks/{task.pk}/offers/"),
    ):
        api = APIClient()
        api.force_login(user)
        answers.append(api.get(path, {"count": 50}).json()["offers"])
    for offers in answers:
        ends = {o["starts_at"]: o["ends_at"] for o in offers}
        assert ends["2027-03-28T01:30:00+01:00"] == "2027-03-28T03:00:00+02:00"
        assert not any("T02:" in o["starts_at"] or "T02:" in o["ends_at"] for o in offers)


def test_the_spring_night_chooses_and_batch_plans_only_times_that_exist(night_type, patient):
    listed = {s.astimezone(OSLO).isoformat() for s in night_starts(night_type, SPRING)}
    chosen_task = task_on(night_type, SPRING, patient)
    planned_task = task_on(night_type, SPRING)
    api = APIClient()
    api.force_login(patient.user)

    chosen = api.post(
        f"/api/v1/booking-tasks/{chosen_task.pk}/choose/",
        {"starts_at": "2027-03-28T01:30:00+01:00"},
        format="json",
    )
    proposal = services.propose_batch(clinic=night_type.clinic, task_ids=[planned_task.pk])
    item = proposal.items.get()
    services.apply_proposal(proposal=proposal, actor=SYSTEM)

    assert chosen.status_code == 201, chosen.json()
    assert chosen.json()["ends_at"] == "2027-03-28T03:00:00+02:00"
    assert item.starts_at is not None
    assert item.starts_at.astimezone(OSLO).isoformat() in listed - {"2027-03-28T01:30:00+01:00"}
