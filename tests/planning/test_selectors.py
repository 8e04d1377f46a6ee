"""The planning side of the access policy: booking tasks for patients and their proxies; for
staff, the tasks, plans and referrals of their clinics, and the patients in those clinics'
care."""

from datetime import date, datetime

import pytest

from access.errors import NotAllowed, NotFound
from access.roles import Capability, StaffRole
from audit.models import PatientAccessLog
from booking.services import SYSTEM, appointment_book
from patients.models import Referral
from planning import selectors
from planning.models import PlanItem, PlanKind, PlanProposal
from tests import factories
from tests.conftest import OSLO, oslo
from tests.planning.conftest import make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def clinic_b():
    return factories.ClinicFactory.create(name="Kirurgisk poliklinikk")


def member(clinic, role=StaffRole.SECRETARY):
    return factories.StaffFactory.create(clinic=clinic, role=role).user


def refer(patient, clinic):
    return Referral.objects.create(
        patient=patient,
        clinic=clinic,
        received_on=date(2026, 12, 1),
        care_deadline=date(2027, 3, 1),
    )


def test_a_patient_is_in_a_clinics_care_by_referral_task_or_appointment(
    clinic, clinic_b, exam_type
):
    referred, tasked, booked, elsewhere, unknown = (
        factories.PatientFactory.create() for _ in range(5)
    )
    refer(referred, clinic)
    make_task(exam_type, patient=tasked)
    appointment_book(
        patient=booked,
        appointment_type=exam_type,
        starts_at=oslo(2027, 1, 6, 10),
        actor=SYSTEM,
    )
    refer(elsewhere, clinic_b)

    in_care = selectors.patients_in_care(type(clinic).objects.filter(pk=clinic.pk))

    assert set(in_care) == {referred, tasked, booked}
    assert unknown not in in_care


def test_staff_reach_a_patient_in_their_clinics_care_and_the_read_is_logged(
    clinic, clinic_b, patient
):
    refer(patient, clinic)
    secretary, stranger = member(clinic), member(clinic_b)

    found = selectors.staff_patient(
        user=secretary, patient_id=patient.pk, clinic=clinic, action="book"
    )

    assert found == patient
    with pytest.raises(NotFound):
        selectors.staff_patient(user=stranger, patient_id=patient.pk, clinic=clinic_b, action="x")
    with pytest.raises(NotFound):  # not theirs: the same answer as a patient who is in no care
        selectors.staff_patient(user=stranger, patient_id=patient.pk, clinic=clinic, action="x")
    assert list(PatientAccessLog.objects.values_list("staff_user", "action")) == [
        (secretary.pk, "book")
    ]


def test_a_lookup_needs_a_secretary_or_leader_of_the_clinic_and_records_its_purpose(
    clinic, clinic_b, patient
):
    clinician, leader, stranger = (
        member(clinic, StaffRole.CLINICIAN),
        member(clinic, StaffRole.LEADER),
        member(clinic_b),
    )
    lookup = {"national_id": patient.national_id, "clinic_id": clinic.pk, "purpose": "test"}

    with pytest.raises(NotAllowed):
        selectors.patient_lookup(user=clinician, **lookup)
    with pytest.raises(NotFound):
        selectors.patient_lookup(user=stranger, **lookup)
    assert selectors.patient_lookup(user=leader, **lookup) == patient
    assert list(PatientAccessLog.objects.values_list("staff_user", "action")) == [
        (leader.pk, "patient lookup to test")
    ]


def test_booking_tasks_for_a_proxy_holder_end_with_the_proxy(exam_type):
    proxy = factories.ProxyFactory.create()
    task = make_task(exam_type, patient=proxy.subject)
    holder = proxy.holder.user
    assert holder is not None
    assert selectors.booking_task_for(user=holder, task_id=task.pk) == task

    proxy.revoked_at = datetime(2027, 1, 3, tzinfo=OSLO)
    proxy.save()
    with pytest.raises(NotFound):
        selectors.booking_task_for(user=holder, task_id=task.pk)
    assert not selectors.booking_tasks_for_user(holder).exists()


def test_staff_task_lists_and_plans_are_their_clinics_and_log_once_per_patient(
    clinic, clinic_b, exam_type, patient
):
    task = make_task(exam_type, patient=patient)
    again = make_task(exam_type, patient=patient)
    plan = PlanProposal.objects.create(clinic=clinic, kind=PlanKind.BATCH)
    for t in (task, again):
        PlanItem.objects.create(
            proposal=plan, patient=patient, booking_task=t, unplaced_reason="not_planned"
        )
    secretary, stranger = member(clinic), member(clinic_b)

    tasks = selectors.staff_booking_tasks(user=secretary, filters={}, action="list")
    shown = selectors.staff_plan(user=secretary, plan_id=plan.pk, action="plan")

    assert tasks == [task, again]
    assert shown == plan
    assert list(PatientAccessLog.objects.values_list("patient", "action")) == [
        (patient.pk, "list"),
        (patient.pk, "plan"),
    ]
    assert selectors.staff_booking_tasks(user=stranger, filters={}, action="list") == []
    with pytest.raises(NotFound):
        selectors.staff_plan(user=stranger, plan_id=plan.pk, action="plan")
    with pytest.raises(NotAllowed):
        selectors.staff_plan(
            user=member(clinic, StaffRole.CLINICIAN),
            plan_id=plan.pk,
            action="apply plan",
            capability=Capability.CHANGE,
        )


def test_a_referral_asked_for_with_another_patient_is_not_found(clinic, patient):
    referral = refer(patient, clinic)
    other = factories.PatientFactory.create()
    secretary = member(clinic)
    with pytest.raises(NotFound):
        selectors.staff_referral(
            user=secretary, referral_id=referral.pk, patient_id=other.pk, action="task"
        )
    found = selectors.staff_referral(
        user=secretary, referral_id=referral.pk, patient_id=patient.pk, action="task"
    )
    assert found == referral
