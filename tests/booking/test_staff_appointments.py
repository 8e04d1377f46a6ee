from datetime import date

import pytest
from rest_framework.test import APIClient

from access.roles import StaffRole
from audit.models import PatientAccessLog
from booking.models import Appointment, AppointmentEvent
from patients.models import Patient, Referral
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WED_10 = "2027-01-06T10:00:00+01:00"


def referred(patient: Patient, clinic) -> Patient:
    """The patient, now in the clinic's care: the clinic has a referral for them."""
    Referral.objects.create(
        patient=patient,
        clinic=clinic,
        received_on=date(2026, 12, 1),
        care_deadline=date(2027, 3, 1),
    )
    return patient


@pytest.fixture
def patient(clinic):
    return referred(factories.PatientFactory.create(), clinic)


@pytest.fixture
def secretary(clinic):
    return factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user


@pytest.fixture
def staff(clock, secretary):
    api = APIClient()
    api.force_login(secretary)
    return api


def book(staff, patient, appointment_type, starts_at=WED_10, **extra):
    return staff.post(
        "/api/v1/staff/appointments/",
        {
            "patient": patient.id,
            "appointment_type": appointment_type.id,
            "starts_at": starts_at,
            **extra,
        },
        format="json",
    )


def test_a_secretary_books_for_a_patient_on_the_phone(staff, secretary, patient, control_type):
    control_type.self_bookable = False
    control_type.save()

    response = book(staff, patient, control_type)

    assert response.status_code == 201
    event = AppointmentEvent.objects.get()
    assert (event.actor, event.actor_kind, event.cause, event.on_behalf_of) == (
        secretary,
        "staff",
        "patient_change",
        patient,
    )
    assert PatientAccessLog.objects.filter(staff_user=secretary, patient=patient).count() == 1


def test_moves_and_cancels_record_the_clinics_cause(staff, patient, control_type):
    appointment_id = book(staff, patient, control_type).json()["id"]

    moved = staff.post(
        f"/api/v1/staff/appointments/{appointment_id}/reschedule/",
        {"starts_at": "2027-01-07T10:00:00+01:00", "cause": "clinic_replanning"},
        format="json",
    )
    cancelled = staff.post(
        f"/api/v1/staff/appointments/{appointment_id}/cancel/",
        {"cause": "clinic_cancellation", "reason": "Lege syk"},
        format="json",
    )

    assert (moved.status_code, cancelled.status_code) == (200, 200)
    causes = list(AppointmentEvent.objects.values_list("kind", "cause"))
    assert causes == [
        ("created", "patient_change"),
        ("rescheduled", "clinic_replanning"),
        ("cancelled", "clinic_cancellation"),
    ]
    assert Appointment.objects.get().patient_change_count == 0


def test_the_attendance_list_is_logged_per_patient(staff, secretary, clinic, control_type):
    patients = [referred(factories.PatientFactory.create(), clinic) for _ in range(2)]
    for patient, time in zip(patients, ("10:00", "11:00"), strict=True):
        book(staff, patient, control_type, f"2027-01-06T{time}:00+01:00")
    PatientAccessLog.objects.all().delete()

    response = staff.get("/api/v1/staff/appointments/", {"clinic": clinic.id, "date": "2027-01-06"})

    assert [a["patient"]["id"] for a in response.json()] == [p.id for p in patients]
    logged = set(
        PatientAccessLog.objects.filter(staff_user=secretary).values_list("patient_id", flat=True)
    )
    assert logged == {p.id for p in patients}


def lookup(api, national_id, clinic, purpose="register_referral"):
    return api.get(
        "/api/v1/staff/patients/lookup/",
        {"national_id": national_id, "clinic": clinic.id, "purpose": purpose},
    )


def test_lookup_by_national_id_is_logged_with_its_purpose_and_validated(staff, clinic):
    newcomer = factories.PatientFactory.create()  # not yet in the clinic's care
    found = lookup(staff, newcomer.national_id, clinic)
    bad = lookup(staff, "123", clinic)
    superscript = lookup(staff, "²⁸⁰³⁵⁴⁰⁰¹⁰⁰", clinic)
    no_purpose = staff.get(
        "/api/v1/staff/patients/lookup/", {"national_id": newcomer.national_id, "clinic": clinic.id}
    )
    unknown = lookup(staff, "01010112345", clinic)
    assert (found.status_code, found.json()["id"]) == (200, newcomer.id)
    assert [r.status_code for r in (bad, superscript, no_purpose, unknown)] == [400, 400, 400, 404]
    assert list(PatientAccessLog.objects.values_list("patient_id", "action")) == [
        (newcomer.id, "patient lookup to register a referral")
    ]


def test_only_a_secretary_or_leader_of_the_clinic_looks_a_patient_up(clinic, patient):
    other = factories.ClinicFactory.create()
    clinician, stranger = APIClient(), APIClient()
    clinician.force_login(factories.StaffFactory.create(clinic=clinic, role="clinician").user)
    stranger.force_login(factories.StaffFactory.create(clinic=other, role="secretary").user)

    assert lookup(clinician, patient.national_id, clinic).status_code == 403
    assert lookup(stranger, patient.national_id, clinic).status_code == 404
    assert not PatientAccessLog.objects.exists()


def test_a_patient_not_in_the_clinics_care_is_not_found(staff, control_type):
    """Walking patient ids reveals no one: a patient with no referral, booking task or
    appointment in the clinic answers as an id that does not exist."""
    stranger = factories.PatientFactory.create()
    other_clinic = factories.ClinicFactory.create()
    elsewhere = referred(factories.PatientFactory.create(), other_clinic)

    answers = [book(staff, p, control_type) for p in (stranger, elsewhere)]
    missing = staff.post(
        "/api/v1/staff/appointments/",
        {"patient": 10**9, "appointment_type": control_type.id, "starts_at": WED_10},
        format="json",
    )

    assert [a.status_code for a in [*answers, missing]] == [404, 404, 404]
    assert [a.json() for a in answers] == [missing.json()] * 2
    assert not Appointment.objects.exists()
    assert not PatientAccessLog.objects.exists()


def test_the_attendance_list_is_the_clinics_local_day(staff, clinic, clinician, room, control_type):
    """The server counts days in Oslo time; a clinic in New York has its own. Its 6 January
    runs from 06:00 to 06:00 the next morning in Oslo."""
    clinic.time_zone = "America/New_York"
    clinic.save()
    for resource in (clinician, room):
        resource.working_hours.update(start_time="00:00", end_time="23:45")
    late_evening = book(
        staff,
        referred(factories.PatientFactory.create(), clinic),
        control_type,
        "2027-01-06T23:00:00-05:00",
    )  # 05:00 on the 7th in Oslo
    early_morning = book(
        staff,
        referred(factories.PatientFactory.create(), clinic),
        control_type,
        "2027-01-06T01:00:00-05:00",
    )  # 07:00 on the 6th in Oslo
    before = book(
        staff,
        referred(factories.PatientFactory.create(), clinic),
        control_type,
        "2027-01-05T23:00:00-05:00",
    )  # 05:00 on the 6th in Oslo: the 5th in New York
    assert [r.status_code for r in (late_evening, early_morning, before)] == [201] * 3

    listed = staff.get("/api/v1/staff/appointments/", {"clinic": clinic.id, "date": "2027-01-06"})

    assert [a["id"] for a in listed.json()] == [
        early_morning.json()["id"],
        late_evening.json()["id"],
    ]


def test_other_clinics_are_out_of_reach(staff, patient, control_type):
    other = factories.ClinicFactory.create()
    other_type = factories.AppointmentTypeFactory.create(clinic=other)
    appointment_id = book(staff, patient, control_type).json()["id"]
    factories.StaffFactory.create(clinic=other)
    outsider = APIClient()
    outsider.force_login(factories.StaffFactory.create(clinic=other).user)

    assert book(staff, patient, other_type).status_code == 404
    assert (
        staff.get(
            "/api/v1/staff/appointments/", {"clinic": other.id, "date": "2027-01-06"}
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/api/v1/staff/appointments/{appointment_id}/cancel/",
            {"cause": "clinic_cancellation"},
            format="json",
        ).status_code
        == 404
    )


def test_patients_and_clinicians_cannot_act_as_secretaries(clock, clinic, patient, control_type):
    as_patient, as_clinician = APIClient(), APIClient()
    as_patient.force_login(patient.user)
    as_clinician.force_login(
        factories.StaffFactory.create(clinic=clinic, role=StaffRole.CLINICIAN).user
    )
    body = {"patient": patient.id, "appointment_type": control_type.id, "starts_at": WED_10}
    assert as_patient.post("/api/v1/staff/appointments/", body, format="json").status_code == 403
    assert as_clinician.post("/api/v1/staff/appointments/", body, format="json").status_code == 403
    assert lookup(as_patient, patient.national_id, clinic).status_code == 403


def test_staff_cancel_needs_a_cancellation_cause(staff, patient, control_type):
    appointment_id = book(staff, patient, control_type).json()["id"]
    response = staff.post(
        f"/api/v1/staff/appointments/{appointment_id}/cancel/",
        {"cause": "clinic_booking"},
        format="json",
    )
    assert (response.status_code, list(response.json())) == (400, ["cause"])
    assert Appointment.objects.get().status == "booked"
