"""The booking side of the access policy: staff of two clinics, each role, and patients acting
for themselves and through proxies; the access log of every staff read of patient data."""

from datetime import date, datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from access.errors import NotAllowed, NotFound
from access.roles import Capability, StaffRole
from audit.models import PatientAccessLog
from booking import selectors, services
from booking.models import Appointment
from tests import factories
from tests.conftest import OSLO, oslo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

READ, CHANGE = Capability.READ, Capability.CHANGE


@pytest.fixture
def clinic_b():
    return factories.ClinicFactory.create(name="Kirurgisk poliklinikk")


def member(clinic, role):
    return factories.StaffFactory.create(clinic=clinic, role=role).user


@pytest.fixture
def booked(control_type, patient) -> Appointment:
    return services.appointment_book(
        patient=patient,
        appointment_type=control_type,
        starts_at=oslo(2027, 1, 6, 10),
        actor=services.SYSTEM,
    )


def test_each_role_reads_its_clinics_and_changes_them_only_as_it_may(clinic, clinic_b):
    secretary = member(clinic, StaffRole.SECRETARY)
    clinician = member(clinic, StaffRole.CLINICIAN)
    leader = member(clinic_b, StaffRole.LEADER)
    factories.StaffFactory.create(user=clinician, clinic=clinic_b, role=StaffRole.SECRETARY)

    def clinics(user, capability):
        return set(selectors.staff_clinics(user, capability=capability))

    assert clinics(secretary, READ) == clinics(secretary, CHANGE) == {clinic}
    assert (clinics(clinician, READ), clinics(clinician, CHANGE)) == (
        {clinic, clinic_b},
        {clinic_b},
    )
    assert clinics(leader, READ) == clinics(leader, CHANGE) == {clinic_b}
    assert clinics(leader, Capability.VIEW_STATISTICS) == {clinic_b}
    assert clinics(secretary, Capability.VIEW_STATISTICS) == set()


def test_another_clinic_is_not_found_and_a_missing_role_not_allowed(clinic, clinic_b, patient):
    secretary = member(clinic, StaffRole.SECRETARY)
    clinician = member(clinic, StaffRole.CLINICIAN)

    assert selectors.staff_clinic(user=secretary, clinic_id=clinic.pk) == clinic
    with pytest.raises(NotFound):
        selectors.staff_clinic(user=secretary, clinic_id=clinic_b.pk)
    with pytest.raises(NotAllowed):
        selectors.staff_clinic(user=clinician, clinic_id=clinic.pk, capability=CHANGE)
    for nobody in (patient.user, AnonymousUser()):
        with pytest.raises(NotAllowed):
            selectors.require_staff(nobody)


def test_a_staff_read_of_an_appointment_writes_exactly_one_log_row(clinic, booked):
    secretary = member(clinic, StaffRole.SECRETARY)

    found = selectors.staff_appointment(
        user=secretary, appointment_id=booked.pk, action="reschedule"
    )

    assert found == booked
    assert list(PatientAccessLog.objects.values_list("staff_user", "patient", "action")) == [
        (secretary.pk, booked.patient_id, "reschedule")
    ]


def test_a_refused_staff_read_writes_no_log_row(clinic, clinic_b, booked):
    stranger = member(clinic_b, StaffRole.SECRETARY)
    clinician = member(clinic, StaffRole.CLINICIAN)
    with pytest.raises(NotFound):
        selectors.staff_appointment(user=stranger, appointment_id=booked.pk, action="read")
    with pytest.raises(NotAllowed):
        selectors.staff_appointment(
            user=clinician, appointment_id=booked.pk, action="cancel", capability=CHANGE
        )
    assert not PatientAccessLog.objects.exists()


def test_the_attendance_list_logs_each_patient_once(clinic, control_type, booked):
    other = factories.PatientFactory.create()
    services.appointment_book(
        patient=other,
        appointment_type=control_type,
        starts_at=oslo(2027, 1, 6, 11),
        actor=services.SYSTEM,
    )
    secretary = member(clinic, StaffRole.SECRETARY)

    listed = selectors.attendance_list(user=secretary, clinic_id=clinic.pk, day=date(2027, 1, 6))

    assert [a.patient for a in listed] == [booked.patient, other]
    assert sorted(PatientAccessLog.objects.values_list("patient", flat=True)) == sorted(
        [booked.patient_id, other.pk]
    )


def test_a_proxy_holder_sees_the_appointment_until_the_proxy_is_revoked(control_type):
    proxy = factories.ProxyFactory.create()
    appointment = services.appointment_book(
        patient=proxy.subject,
        appointment_type=control_type,
        starts_at=oslo(2027, 1, 6, 10),
        actor=services.SYSTEM,
    )
    holder = proxy.holder.user
    assert holder is not None

    assert selectors.appointment_for(user=holder, appointment_id=appointment.pk) == appointment
    proxy.revoked_at = datetime(2027, 1, 4, 6, tzinfo=OSLO)
    proxy.save()
    with pytest.raises(NotFound):
        selectors.appointment_for(user=holder, appointment_id=appointment.pk)
    assert not selectors.preparation_tasks_for_user(holder).exists()


def test_staff_see_no_patient_appointments_of_their_own(clinic, booked):
    """The patient side is for patients: a secretary has no patient record, so the
    appointments they may act on come only through the staff selectors (which log)."""
    secretary = member(clinic, StaffRole.SECRETARY)
    assert not selectors.appointments_for_user(secretary).exists()
    with pytest.raises(NotFound):
        selectors.appointment_for(user=secretary, appointment_id=booked.pk)
