"""Applying plans on a real PostgreSQL server, racing other writers: never an overlap, never a
half-applied plan."""

from typing import Any

import pytest

from booking.errors import BookingError
from booking.models import Absence, AppointmentEvent
from booking.services import SYSTEM, appointment_book
from planning import services
from planning.errors import PlanOutOfDate
from planning.models import BookingTask, BookingTaskStatus, PlanProposal, PlanStatus
from tests import factories
from tests.booking.test_postgres_concurrency import (
    errors,
    oks,
    overlapping_allocations,
    run_together,
)
from tests.conftest import oslo
from tests.planning.conftest import book_on, make_task

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clock"),
]


def applier(proposal_id: int):
    def prepare():
        proposal = PlanProposal.objects.get(pk=proposal_id)
        return lambda: services.apply_proposal(proposal=proposal, actor=SYSTEM)

    return prepare


def test_two_batch_plans_for_the_same_capacity_applied_at_once(one_slot_clinic):
    appointment_type, _doctor, _room = one_slot_clinic
    clinic = appointment_type.clinic
    first = [make_task(appointment_type, latest_date=oslo(2027, 1, 8).date()) for _ in range(3)]
    first_plan = services.propose_batch(clinic=clinic, task_ids=[t.pk for t in first])
    second = [make_task(appointment_type, latest_date=oslo(2027, 1, 8).date()) for _ in range(3)]
    second_plan = services.propose_batch(clinic=clinic, task_ids=[t.pk for t in second])

    results = run_together([applier(first_plan.pk), applier(second_plan.pk)])

    assert len(oks(results)) == 1
    assert all(isinstance(e, PlanOutOfDate) for e in errors(results))
    assert overlapping_allocations() == 0
    statuses = sorted(PlanProposal.objects.values_list("status", flat=True))
    assert statuses == [PlanStatus.APPLIED, PlanStatus.PROPOSED]
    loser = second if oks(results)[0].pk == first_plan.pk else first
    assert {t.status for t in BookingTask.objects.filter(pk__in=[t.pk for t in loser])} == {
        BookingTaskStatus.OPEN
    }


def test_a_replan_racing_a_patient_for_the_same_time(exam_type, doctor_a, exam_room):
    nine = book_on(exam_type, [doctor_a, exam_room], 9)
    absence = Absence.objects.create(
        resource=doctor_a, starts_at=oslo(2027, 1, 6), ends_at=oslo(2027, 1, 7), reason="sick"
    )
    proposal = services.propose_replan(absence=absence)
    target = proposal.items.get()
    assert target.starts_at is not None
    target_start = target.starts_at
    patient = factories.PatientFactory.create()

    def booker() -> Any:
        return lambda: appointment_book(
            patient=patient,
            appointment_type=exam_type,
            starts_at=target_start,
            actor=SYSTEM,
            resource_ids=target.resource_ids,
        )

    results = run_together([applier(proposal.pk), booker])

    assert len(oks(results)) == 1
    assert all(isinstance(e, BookingError) for e in errors(results))
    assert overlapping_allocations() == 0
    nine.refresh_from_db()
    moved = nine.starts_at == target.starts_at
    assert AppointmentEvent.objects.filter(appointment=nine).count() == (2 if moved else 1)
