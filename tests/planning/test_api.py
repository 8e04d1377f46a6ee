"""The planning API: patients see only their own (and proxied) booking tasks; staff only their
clinics'; reads of patient data by staff are logged; bad input gets a clear 4xx."""

from datetime import date, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from access.roles import StaffRole
from audit.models import PatientAccessLog
from booking.models import Absence
from booking.selectors import available_starts
from planning.models import BookingTaskStatus, PlanProposal, PlanStatus
from tests import factories
from tests.conftest import OSLO, oslo
from tests.planning.conftest import book_on, make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def client_for(user):
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def secretary(clinic):
    return factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user


@pytest.fixture
def staff(clock, secretary):
    return client_for(secretary)


@pytest.fixture
def task(exam_type, patient):
    return make_task(exam_type, patient=patient)


@pytest.fixture
def patient_api(clock, patient):
    return client_for(patient.user)


def test_a_patient_lists_gets_offers_and_chooses(patient_api, task):
    listed = patient_api.get("/api/v1/booking-tasks/").json()
    assert [t["id"] for t in listed] == [task.pk]

    page = patient_api.get(f"/api/v1/booking-tasks/{task.pk}/offers/").json()
    assert len(page["offers"]) == 6
    assert "resource_ids" not in page["offers"][0]
    assert page["next_offset"] == 6

    chosen = patient_api.post(
        f"/api/v1/booking-tasks/{task.pk}/choose/",
        {"starts_at": page["offers"][0]["starts_at"]},
        format="json",
        headers={"Idempotency-Key": "choose-1"},
    )
    assert chosen.status_code == 201, chosen.json()
    again = patient_api.post(
        f"/api/v1/booking-tasks/{task.pk}/choose/",
        {"starts_at": page["offers"][0]["starts_at"]},
        format="json",
        headers={"Idempotency-Key": "choose-1"},
    )
    assert again.json() == chosen.json()
    task.refresh_from_db()
    assert task.status == BookingTaskStatus.CHOSEN
    assert task.chosen_after_more_times is False


def test_a_time_chosen_after_asking_for_more_is_recorded_so(patient_api, task):
    page = patient_api.get(f"/api/v1/booking-tasks/{task.pk}/offers/?offset=6").json()

    chosen = patient_api.post(
        f"/api/v1/booking-tasks/{task.pk}/choose/",
        {"starts_at": page["offers"][0]["starts_at"], "after_more_times": True},
        format="json",
    )

    assert chosen.status_code == 201, chosen.json()
    task.refresh_from_db()
    assert task.chosen_after_more_times is True


def test_offers_filter_by_weekday_and_part_of_day(patient_api, task):
    page = patient_api.get(
        f"/api/v1/booking-tasks/{task.pk}/offers/?weekday=1&weekday=3&part_of_day=morning"
    ).json()
    assert page["offers"]
    for offer in page["offers"]:
        starts_at = offer["starts_at"]
        assert date.fromisoformat(starts_at[:10]).weekday() in (1, 3)
        assert int(starts_at[11:13]) < 12


@pytest.mark.parametrize(
    "query", ["weekday=7", "part_of_day=night", "count=0", "count=51", "offset=-1"]
)
def test_bad_offer_filters_get_a_400(patient_api, task, query):
    response = patient_api.get(f"/api/v1/booking-tasks/{task.pk}/offers/?{query}")
    assert response.status_code == 400


def test_choosing_a_time_that_is_not_offered_is_a_409_in_the_users_words(patient_api, task):
    response = patient_api.post(
        f"/api/v1/booking-tasks/{task.pk}/choose/",
        {"starts_at": "2027-01-06T03:00:00+01:00"},
        format="json",
        headers={"Accept-Language": "nb"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    assert "ikke lenger ledig" in response.json()["detail"]


def test_another_patients_task_is_a_404(clock, task):
    stranger = client_for(factories.PatientFactory.create().user)
    assert stranger.get("/api/v1/booking-tasks/").json() == []
    for path in ("", "offers/"):
        assert stranger.get(f"/api/v1/booking-tasks/{task.pk}/{path}").status_code == 404
    for path in ("choose/", "accept/"):
        response = stranger.post(
            f"/api/v1/booking-tasks/{task.pk}/{path}",
            {"starts_at": "2027-01-06T09:00:00+01:00"},
            format="json",
        )
        assert response.status_code == 404


def test_a_parent_sees_the_childs_task_until_the_proxy_expires(clock, exam_type):
    proxy = factories.ProxyFactory.create()
    task = make_task(exam_type, patient=proxy.subject)
    parent = client_for(proxy.holder.user)
    assert parent.get(f"/api/v1/booking-tasks/{task.pk}/").status_code == 200

    proxy.valid_until = date(2027, 1, 1)
    proxy.save()
    assert parent.get(f"/api/v1/booking-tasks/{task.pk}/").status_code == 404


def test_accepting_without_a_move_is_a_409(patient_api, task):
    response = patient_api.post(f"/api/v1/booking-tasks/{task.pk}/accept/")
    assert response.status_code == 409
    assert response.json()["code"] == "booking_task_not_moved"


def test_a_secretary_creates_a_task_and_bad_dates_are_explained(
    staff, secretary, exam_type, patient
):
    referral = patient.referrals.create(
        clinic=exam_type.clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 1, 29)
    )
    body = {
        "patient": patient.pk,
        "appointment_type": exam_type.pk,
        "referral": referral.pk,
        "earliest_date": "2027-01-05",
        "latest_date": "2027-01-29",
        "respond_by": "2027-01-11",
    }
    created = staff.post("/api/v1/staff/booking-tasks/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["deadline"] == "2027-01-29"
    assert PatientAccessLog.objects.filter(staff_user=secretary, patient=patient).exists()

    backwards = staff.post(
        "/api/v1/staff/booking-tasks/",
        {**body, "latest_date": "2027-01-01", "respond_by": "2027-01-01"},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert backwards.status_code == 400
    assert backwards.json()["detail"] == ["The last day must not be before the first day."]


def test_a_referral_of_another_clinic_is_not_found(staff, exam_type, patient):
    elsewhere = factories.ClinicFactory.create()
    referral = patient.referrals.create(
        clinic=elsewhere, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )
    response = staff.post(
        "/api/v1/staff/booking-tasks/",
        {
            "patient": patient.pk,
            "appointment_type": exam_type.pk,
            "referral": referral.pk,
            "earliest_date": "2027-01-05",
            "latest_date": "2027-01-29",
            "respond_by": "2027-01-11",
        },
        format="json",
    )
    assert response.status_code == 404


def test_a_task_needs_a_referral_of_that_patient(staff, exam_type, patient):
    other = factories.PatientFactory.create()
    referral = other.referrals.create(
        clinic=exam_type.clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )
    body = {
        "patient": patient.pk,
        "appointment_type": exam_type.pk,
        "earliest_date": "2027-01-05",
        "latest_date": "2027-01-29",
        "respond_by": "2027-01-11",
    }
    without = staff.post("/api/v1/staff/booking-tasks/", body, format="json")
    someone_elses = staff.post(
        "/api/v1/staff/booking-tasks/", {**body, "referral": referral.pk}, format="json"
    )
    assert (without.status_code, list(without.json())) == (400, ["referral"])
    assert someone_elses.status_code == 404
    assert not PatientAccessLog.objects.exists()


def test_a_referral_is_registered_by_national_id_and_brings_the_patient_into_care(
    staff, secretary, clinic
):
    newcomer = factories.PatientFactory.create()
    body = {
        "national_id": newcomer.national_id,
        "clinic": clinic.pk,
        "received_on": "2027-01-04",
        "care_deadline": "2027-02-15",
        "priority": 2,
    }
    created = staff.post("/api/v1/staff/referrals/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["patient"]["id"] == newcomer.pk
    referral_id = created.json()["id"]

    listed = staff.get("/api/v1/staff/referrals/", {"clinic": clinic.pk}).json()
    detail = staff.get(f"/api/v1/staff/referrals/{referral_id}/")
    assert [r["id"] for r in listed] == [referral_id]
    assert detail.json()["care_deadline"] == "2027-02-15"
    assert list(PatientAccessLog.objects.values_list("action", flat=True).order_by("pk")) == [
        "patient lookup to register a referral",
        "referral list",
        "referral",
    ]


def test_a_referral_with_a_deadline_before_it_arrived_is_refused(staff, clinic):
    newcomer = factories.PatientFactory.create()
    response = staff.post(
        "/api/v1/staff/referrals/",
        {
            "national_id": newcomer.national_id,
            "clinic": clinic.pk,
            "received_on": "2027-01-04",
            "care_deadline": "2027-01-03",
        },
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "deadline" in str(response.json()["detail"])
    assert not newcomer.referrals.exists()


def test_staff_of_another_clinic_see_nothing(clock, task, exam_type):
    outsider = factories.StaffFactory.create(role=StaffRole.SECRETARY).user
    api = client_for(outsider)
    assert api.get("/api/v1/staff/booking-tasks/").json() == []
    assert api.get(f"/api/v1/staff/booking-tasks/{task.pk}/").status_code == 404
    assert api.post(f"/api/v1/staff/clinics/{exam_type.clinic_id}/batch-plans/").status_code == 404


def test_staff_offers_show_resources_and_are_logged(staff, secretary, task):
    page = staff.get(f"/api/v1/staff/booking-tasks/{task.pk}/offers/?count=2").json()
    assert len(page["offers"]) == 2
    assert len(page["offers"][0]["resource_ids"]) == 2
    assert PatientAccessLog.objects.filter(
        staff_user=secretary, patient=task.patient, action="booking task offers"
    ).exists()


def test_batch_plan_is_made_in_the_background_then_previewed_and_applied(
    django_capture_on_commit_callbacks, staff, clinic, task
):
    with django_capture_on_commit_callbacks() as background_jobs:
        started = staff.post(f"/api/v1/staff/clinics/{clinic.pk}/batch-plans/", {}, format="json")
    assert started.status_code == 202, started.json()
    assert (started.json()["status"], started.json()["items"]) == ("planning", [])
    location = started["Location"]
    assert location.endswith(f"/api/v1/staff/plans/{started.json()['id']}/")
    too_early = staff.post(f"/api/v1/staff/plans/{started.json()['id']}/apply/")
    assert (too_early.status_code, too_early.json()["code"]) == (409, "plan_not_ready")

    (job,) = background_jobs
    job()  # what the worker does once the request's transaction has committed

    plan = staff.get(location).json()
    assert plan["status"] == "proposed"
    assert plan["summary"] == {
        "items": 1,
        "placed": 1,
        "unplaced": 0,
        "deadlines_missed": 0,
        "moved_to_other_day": 0,
    }
    task.refresh_from_db()
    assert task.status == BookingTaskStatus.OPEN  # a preview changes nothing

    applied = staff.post(f"/api/v1/staff/plans/{plan['id']}/apply/")
    assert applied.json()["status"] == PlanStatus.APPLIED
    task.refresh_from_db()
    assert task.status == BookingTaskStatus.ASSIGNED
    again = staff.post(f"/api/v1/staff/plans/{plan['id']}/apply/")
    assert (again.status_code, again.json()["code"]) == (409, "plan_not_proposed")


def test_a_batch_plan_that_could_not_be_made_says_why_in_the_users_language(
    django_capture_on_commit_callbacks, staff, clinic, task
):
    with django_capture_on_commit_callbacks() as background_jobs:
        started = staff.post(f"/api/v1/staff/clinics/{clinic.pk}/batch-plans/", {}, format="json")
    staff.post(f"/api/v1/staff/booking-tasks/{task.pk}/cancel/")  # before the job runs
    (job,) = background_jobs
    job()

    plan = staff.get(started["Location"], headers={"Accept-Language": "en"}).json()
    assert (plan["status"], plan["failure"]) == ("failed", "nothing_to_plan")
    assert plan["failure_detail"].startswith("There is nothing to plan")
    norsk = staff.get(started["Location"], headers={"Accept-Language": "nb"}).json()
    assert "ingenting å planlegge" in norsk["failure_detail"]
    discarded = staff.post(f"/api/v1/staff/plans/{plan['id']}/discard/")
    assert (discarded.status_code, discarded.json()["code"]) == (409, "plan_not_proposed")


def test_an_empty_batch_is_a_422(staff, clinic, exam_type):
    response = staff.post(
        f"/api/v1/staff/clinics/{clinic.pk}/batch-plans/",
        {},
        format="json",
        headers={"Accept-Language": "nb"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "nothing_to_plan")
    assert "ingenting å planlegge" in response.json()["detail"]


def test_replan_preview_apply_and_the_patient_accepts(
    staff, clinic, exam_type, doctor_a, exam_room, patient
):
    appointment = book_on(exam_type, [doctor_a, exam_room], 9, patient=patient)
    absence = Absence.objects.create(
        resource=doctor_a, starts_at=oslo(2027, 1, 6), ends_at=oslo(2027, 1, 7), reason="sick"
    )
    preview = staff.post(f"/api/v1/staff/absences/{absence.pk}/replan/")
    assert preview.status_code == 201, preview.json()
    item = preview.json()["items"][0]
    assert item["appointment"] == appointment.pk
    assert doctor_a.pk not in item["resource_ids"]

    waiting = staff.get(f"/api/v1/staff/plans/?kind=replan&status=proposed&absence={absence.pk}")
    assert [p["id"] for p in waiting.json()] == [preview.json()["id"]]
    assert staff.get("/api/v1/staff/plans/?status=nonsense").status_code == 400
    staff.post(f"/api/v1/staff/plans/{preview.json()['id']}/apply/")
    assert staff.get("/api/v1/staff/plans/?status=proposed").json() == []

    patient_api = client_for(patient.user)
    moved = [t for t in patient_api.get("/api/v1/booking-tasks/").json() if t["status"] == "moved"]
    assert len(moved) == 1
    assert moved[0]["appointment"] == appointment.pk
    accepted = patient_api.post(f"/api/v1/booking-tasks/{moved[0]['id']}/accept/")
    assert accepted.json()["status"] == "chosen"


def test_a_clinician_may_read_plans_but_not_apply_them(
    django_capture_on_commit_callbacks, clock, clinic, task
):
    clinician = factories.StaffFactory.create(clinic=clinic, role=StaffRole.CLINICIAN).user
    api = client_for(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        proposal_id = (
            client_for(factories.StaffFactory.create(clinic=clinic).user)
            .post(f"/api/v1/staff/clinics/{clinic.pk}/batch-plans/", {}, format="json")
            .json()["id"]
        )
    assert api.get(f"/api/v1/staff/plans/{proposal_id}/").status_code == 200
    assert api.post(f"/api/v1/staff/plans/{proposal_id}/apply/").status_code in (403, 404)
    assert PlanProposal.objects.get().status == PlanStatus.PROPOSED


def test_the_schema_has_the_planning_endpoints_and_no_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in ("/api/v1/booking-tasks/{id}/offers/", "/api/v1/staff/plans/{id}/apply/"):
        assert path in schema


def test_a_one_day_window_offers_a_full_page_and_paging_reaches_every_free_time(
    patient_api, exam_type, patient
):
    day = date(2027, 1, 6)
    task = make_task(
        exam_type, patient=patient, earliest_date=day, latest_date=day, respond_by=date(2027, 1, 5)
    )
    start = datetime.combine(day, datetime.min.time(), tzinfo=OSLO)
    free = available_starts(
        appointment_type=exam_type, start=start, end=start + timedelta(days=1), patient=patient
    )
    assert len(free) > 10

    first = patient_api.get(f"/api/v1/booking-tasks/{task.pk}/offers/").json()
    seen, offset = [], 0
    while offset is not None:
        page = patient_api.get(
            f"/api/v1/booking-tasks/{task.pk}/offers/", {"offset": offset, "count": 7}
        ).json()
        seen += [o["starts_at"] for o in page["offers"]]
        offset = page["next_offset"]

    assert len(first["offers"]) == exam_type.offers_count  # not two: there is only one day
    assert sorted(seen) == sorted(s.astimezone(OSLO).isoformat() for s in free)
    assert len(seen) == len(set(seen))
