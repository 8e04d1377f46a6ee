import pytest
from rest_framework.test import APIClient

from booking.models import Appointment, AppointmentEvent, StaffRole
from patients.models import PatientAccessLog
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WED_10 = "2027-01-06T10:00:00+01:00"


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
    patients = [factories.PatientFactory.create() for _ in range(2)]
    for patient, time in zip(patients, ("10:00", "11:00"), strict=True):
        book(staff, patient, control_type, f"2027-01-06T{time}:00+01:00")
    PatientAccessLog.objects.all().delete()

    response = staff.get("/api/v1/staff/appointments/", {"clinic": clinic.id, "date": "2027-01-06"})

    assert [a["patient"]["id"] for a in response.json()] == [p.id for p in patients]
    logged = set(
        PatientAccessLog.objects.filter(staff_user=secretary).values_list("patient_id", flat=True)
    )
    assert logged == {p.id for p in patients}


def test_lookup_by_national_id_is_logged_and_validated(staff, secretary, patient):
    found = staff.get("/api/v1/staff/patients/lookup/", {"national_id": patient.national_id})
    bad = staff.get("/api/v1/staff/patients/lookup/", {"national_id": "123"})
    unknown = staff.get("/api/v1/staff/patients/lookup/", {"national_id": "01010112345"})
    assert (found.status_code, found.json()["id"]) == (200, patient.id)
    assert (bad.status_code, unknown.status_code) == (400, 404)
    assert PatientAccessLog.objects.get().action == "patient lookup"


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
    assert (
        as_patient.get(
            "/api/v1/staff/patients/lookup/", {"national_id": patient.national_id}
        ).status_code
        == 403
    )


def test_staff_cancel_needs_a_cancellation_cause(staff, patient, control_type):
    appointment_id = book(staff, patient, control_type).json()["id"]
    response = staff.post(
        f"/api/v1/staff/appointments/{appointment_id}/cancel/",
        {"cause": "clinic_booking"},
        format="json",
    )
    assert (response.status_code, list(response.json())) == (400, ["cause"])
    assert Appointment.objects.get().status == "booked"
