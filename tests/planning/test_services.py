"""The planning services on the database: offers, the patient's choice, batch plans, re-plans."""

import logging
from datetime import date, timedelta

import pytest
from django.utils.translation import gettext

from booking.errors import SlotUnavailable
from booking.models import Absence, ActorKind, AppointmentEvent, EventCause, EventKind, ResourceKind
from booking.services import SYSTEM, Actor, appointment_reschedule
from config.celery import app
from cores import solver
from patients.models import ReferralPriority
from planning import background, services
from planning.errors import (
    NothingToPlan,
    OutsideTaskWindow,
    PlanNotProposed,
    PlanNotReady,
    PlanOutOfDate,
    TaskNotChoosable,
)
from planning.models import BookingTaskStatus, PlanItem, PlanKind, PlanProposal, PlanStatus
from planning.tasks import plan_overdue_booking_tasks, propose_replan_for_absence
from tests import factories
from tests.conftest import oslo
from tests.planning.conftest import book_on, make_passed_task, make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def patient_actor(task):
    return Actor(user=task.patient.user, kind=ActorKind.PATIENT)


def allocations_of(appointment):
    return sorted(appointment.allocations.values_list("resource_id", flat=True))


# --- Offers ----------------------------------------------------------------------------------


def test_offers_lie_in_the_window_on_the_grid_and_avoid_booked_times(
    exam_type, doctor_a, doctor_b, exam_room
):
    book_on(exam_type, [doctor_a, exam_room], 9)
    task = make_task(exam_type, earliest_date=date(2027, 1, 6), latest_date=date(2027, 1, 6))

    page = services.booking_task_offers(task=task, count=50, spread=False)

    starts = [o.starts_at for o in page.offers]
    assert starts, page
    assert all(oslo(2027, 1, 6, 8) <= s <= oslo(2027, 1, 6, 15, 30) for s in starts)
    assert all(s.minute % 15 == 0 for s in starts)
    # The one room is taken 09:00-09:30, so no exam can overlap it.
    assert not [s for s in starts if oslo(2027, 1, 6, 8, 31) <= s < oslo(2027, 1, 6, 9, 30)]
    assert oslo(2027, 1, 6, 9, 30) in starts


def test_offers_respect_the_notice_and_the_types_count(exam_type):
    task = make_task(exam_type, earliest_date=date(2027, 1, 4))
    page = services.booking_task_offers(task=task)
    assert len(page.offers) == exam_type.offers_count
    assert min(o.starts_at for o in page.offers) >= oslo(2027, 1, 5, 7)
    assert page.has_more


def test_offers_are_spread_over_days(exam_type):
    task = make_task(exam_type)
    page = services.booking_task_offers(task=task)
    days = [o.starts_at.date() for o in page.offers]
    assert max(days.count(d) for d in days) <= 2


def test_offers_filter_by_weekday_and_part_of_day(exam_type):
    from cores.solver import PartOfDay

    task = make_task(exam_type)
    page = services.booking_task_offers(task=task, weekdays=[3], part_of_day=PartOfDay.AFTERNOON)
    assert page.offers
    assert all(o.starts_at.weekday() == 3 and o.starts_at.hour >= 12 for o in page.offers)


def test_more_offers_page_on_without_repeats(exam_type):
    task = make_task(exam_type)
    first = services.booking_task_offers(task=task, count=4)
    second = services.booking_task_offers(task=task, count=4, offset=4)
    assert not {o.starts_at for o in first.offers} & {o.starts_at for o in second.offers}


def test_offers_never_take_the_capacity_a_more_urgent_task_needs(one_slot_clinic):
    appointment_type, _doctor, _room = one_slot_clinic
    urgent = make_task(
        appointment_type,
        earliest_date=date(2027, 1, 5),
        latest_date=date(2027, 1, 5),
        deadline=date(2027, 1, 5),
        priority=ReferralPriority.URGENT,
    )
    normal = make_task(appointment_type, latest_date=date(2027, 1, 8))
    tuesday = oslo(2027, 1, 5, 8)

    protected = services.booking_task_offers(task=normal, count=10)
    assert tuesday not in [o.starts_at for o in protected.offers]
    with pytest.raises(SlotUnavailable):
        services.booking_task_choose(task=normal, starts_at=tuesday, actor=patient_actor(normal))

    services.booking_task_cancel(task=urgent)
    free = services.booking_task_offers(task=normal, count=10)
    assert tuesday in [o.starts_at for o in free.offers]


def test_a_task_whose_window_has_passed_offers_nothing_and_says_why(exam_type):
    task = make_passed_task(exam_type)
    page = services.booking_task_offers(task=task)
    assert page.offers == []
    assert page.reason == services.WINDOW_PASSED


# --- Choosing --------------------------------------------------------------------------------


def test_choosing_an_offer_books_it_with_the_offered_resources(exam_type):
    task = make_task(exam_type)
    offer = services.booking_task_offers(task=task).offers[0]

    appointment = services.booking_task_choose(
        task=task, starts_at=offer.starts_at, actor=patient_actor(task)
    )

    task.refresh_from_db()
    assert (task.status, task.appointment) == (BookingTaskStatus.CHOSEN, appointment)
    assert appointment.starts_at == offer.starts_at
    assert allocations_of(appointment) == sorted(offer.resource_ids)
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert (event.kind, event.cause) == (EventKind.CREATED, EventCause.PATIENT_CHANGE)
    with pytest.raises(TaskNotChoosable):
        services.booking_task_choose(
            task=task, starts_at=offer.starts_at, actor=patient_actor(task)
        )


def test_choosing_outside_the_window_is_refused(exam_type):
    task = make_task(exam_type, latest_date=date(2027, 1, 8))
    with pytest.raises(OutsideTaskWindow):
        services.booking_task_choose(
            task=task, starts_at=oslo(2027, 1, 12, 9), actor=patient_actor(task)
        )


def test_a_task_for_a_referral_takes_its_deadline_and_priority(exam_type, clinic):
    patient = factories.PatientFactory.create()
    referral = patient.referrals.create(
        clinic=clinic,
        received_on=date(2026, 12, 1),
        priority=ReferralPriority.URGENT,
        care_deadline=date(2027, 1, 20),
    )
    task = make_task(exam_type, patient=patient, referral=referral)
    assert (task.deadline, task.priority) == (date(2027, 1, 20), ReferralPriority.URGENT)


def test_a_task_for_an_inactive_type_is_refused(exam_type):
    from django.core.exceptions import ValidationError

    exam_type.is_active = False
    exam_type.save()
    with pytest.raises(ValidationError):
        make_task(exam_type)


def test_a_referral_of_another_patient_is_refused(exam_type, clinic):
    from django.core.exceptions import ValidationError

    other = factories.PatientFactory.create()
    referral = other.referrals.create(
        clinic=clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 1, 20)
    )
    with pytest.raises(ValidationError):
        make_task(exam_type, referral=referral)


def test_a_task_window_more_than_two_years_ahead_is_refused(exam_type):
    from django.core.exceptions import ValidationError

    last_allowed = date(2027, 1, 4) + timedelta(days=services.MAX_TASK_AHEAD_DAYS)
    assert make_task(exam_type, latest_date=last_allowed).latest_date == last_allowed
    with pytest.raises(ValidationError) as refused:
        make_task(exam_type, latest_date=last_allowed + timedelta(days=1))
    assert refused.value.messages == [gettext("The last day may be at most two years ahead.")]


# --- Batch plans -----------------------------------------------------------------------------


def test_batch_plan_meets_every_deadline_that_can_be_met(one_slot_clinic):
    appointment_type, _doctor, _room = one_slot_clinic
    # One slot a day, Tue-Fri. The late-deadline task comes first in the queue, but must not
    # take Tuesday: only then can all three deadlines be met.
    relaxed = make_task(appointment_type, respond_by=date(2027, 1, 1), latest_date=date(2027, 1, 8))
    tight = make_task(
        appointment_type,
        respond_by=date(2027, 1, 1),
        deadline=date(2027, 1, 5),
        latest_date=date(2027, 1, 8),
    )
    middle = make_task(
        appointment_type,
        respond_by=date(2027, 1, 1),
        deadline=date(2027, 1, 6),
        latest_date=date(2027, 1, 8),
    )

    proposal = services.propose_batch(clinic=one_slot_clinic[0].clinic, overdue_only=True)

    items = {i.booking_task_id: i for i in proposal.items.all()}
    assert all(i.starts_at is not None and i.deadline_met for i in items.values())
    assert items[tight.pk].starts_at == oslo(2027, 1, 5, 8)
    assert items[middle.pk].starts_at == oslo(2027, 1, 6, 8)
    assert len({i.starts_at for i in items.values()}) == 3
    relaxed_start = items[relaxed.pk].starts_at
    assert relaxed_start is not None
    assert relaxed_start > oslo(2027, 1, 6, 8)


def test_batch_plan_explains_a_task_it_cannot_place(clinic, exam_type):
    scope_type = factories.AppointmentTypeFactory.create(clinic=clinic, name="Needs a scope")
    factories.requirement(scope_type, ResourceKind.EQUIPMENT, "scope")
    placeable = make_task(exam_type)
    impossible = make_task(scope_type)
    passed = make_passed_task(exam_type)

    proposal = services.propose_batch(clinic=clinic)

    items = {i.booking_task_id: i for i in proposal.items.all()}
    assert items[placeable.pk].starts_at is not None
    assert items[impossible.pk].unplaced_reason == "no_matching_resource"
    assert "equipment" in items[impossible.pk].unplaced_detail
    assert items[passed.pk].unplaced_reason == services.WINDOW_PASSED


def test_applying_a_batch_plan_books_every_placed_task(exam_type, clinic):
    tasks = [make_task(exam_type) for _ in range(3)]
    proposal = services.propose_batch(clinic=clinic)

    services.apply_proposal(proposal=proposal, actor=SYSTEM)

    proposal.refresh_from_db()
    assert proposal.status == PlanStatus.APPLIED
    for task, item in zip(tasks, proposal.items.order_by("booking_task_id"), strict=True):
        task.refresh_from_db()
        assert task.status == BookingTaskStatus.ASSIGNED
        assert task.appointment.starts_at == item.starts_at
        assert allocations_of(task.appointment) == sorted(item.resource_ids)
        event = task.appointment.events.get()
        assert event.cause == EventCause.BATCH_PLANNING
    with pytest.raises(PlanNotProposed):
        services.apply_proposal(proposal=proposal, actor=SYSTEM)


def test_a_stale_batch_plan_changes_nothing(exam_type, clinic):
    first, second = make_task(exam_type), make_task(exam_type)
    proposal = services.propose_batch(clinic=clinic)
    taken = proposal.items.get(booking_task=second)
    assert taken.starts_at is not None
    # Meanwhile the patient of the first task books the second task's planned time.
    services.booking_task_choose(task=first, starts_at=taken.starts_at, actor=patient_actor(first))
    first.refresh_from_db()
    before = set(AppointmentEvent.objects.values_list("pk", flat=True))

    with pytest.raises(PlanOutOfDate):
        services.apply_proposal(proposal=proposal, actor=SYSTEM)

    second.refresh_from_db()
    assert second.status == BookingTaskStatus.OPEN
    assert set(AppointmentEvent.objects.values_list("pk", flat=True)) == before
    proposal.refresh_from_db()
    assert proposal.status == PlanStatus.PROPOSED


def test_nothing_to_plan_is_said(clinic, exam_type):
    with pytest.raises(NothingToPlan):
        services.propose_batch(clinic=clinic)


def test_a_requested_batch_waits_for_its_job_which_plans_only_the_asked_tasks_once(
    django_capture_on_commit_callbacks, exam_type, clinic
):
    asked, other = make_task(exam_type), make_task(exam_type)
    with django_capture_on_commit_callbacks() as jobs:
        proposal = background.request_batch(clinic=clinic, task_ids=[asked.pk])
    assert (proposal.status, proposal.items.count(), len(jobs)) == (PlanStatus.PLANNING, 0, 1)
    with pytest.raises(PlanNotReady):
        services.apply_proposal(proposal=proposal, actor=SYSTEM)

    made = services.make_requested_batch(proposal_id=proposal.pk)

    assert made is not None
    assert made.status == PlanStatus.PROPOSED
    assert made.planning_started_at is not None
    assert made.solver_status in ("optimal", "feasible")
    assert [i.booking_task_id for i in made.items.all()] == [asked.pk]
    assert (
        services.make_requested_batch(proposal_id=proposal.pk) is None
    )  # a repeated job does nothing
    assert made.items.count() == 1
    other.refresh_from_db()
    assert other.status == BookingTaskStatus.OPEN


def test_a_requested_batch_discarded_while_the_solver_runs_stays_discarded(
    django_capture_on_commit_callbacks, monkeypatch, exam_type, clinic
):
    make_task(exam_type)
    with django_capture_on_commit_callbacks():
        proposal = background.request_batch(clinic=clinic)
    solve = solver.plan_batch

    def discarded_meanwhile(*args, **kwargs):
        services.discard_proposal(
            proposal=proposal, user=None
        )  # say, the secretary gave up waiting
        return solve(*args, **kwargs)

    monkeypatch.setattr(solver, "plan_batch", discarded_meanwhile)

    assert services.make_requested_batch(proposal_id=proposal.pk) is None

    proposal.refresh_from_db()
    assert proposal.status == PlanStatus.DISCARDED
    assert not proposal.items.exists()


def test_a_requested_batch_with_nothing_left_to_plan_fails_with_the_reason(
    django_capture_on_commit_callbacks, exam_type, clinic
):
    task = make_task(exam_type)
    with django_capture_on_commit_callbacks():
        proposal = background.request_batch(clinic=clinic)
    services.booking_task_cancel(task=task)  # meanwhile, before the job runs

    failed = services.make_requested_batch(proposal_id=proposal.pk)

    assert failed is not None
    assert failed.status == PlanStatus.FAILED
    assert failed.failure == "nothing_to_plan"
    with pytest.raises(PlanNotProposed):
        services.apply_proposal(proposal=failed, actor=SYSTEM)


def test_a_requested_batch_that_crashes_is_marked_failed_and_logged(
    django_capture_on_commit_callbacks, monkeypatch, caplog, exam_type, clinic
):
    make_task(exam_type)
    with django_capture_on_commit_callbacks():
        proposal = background.request_batch(clinic=clinic)

    def broken(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(solver, "plan_batch", broken)
    with caplog.at_level(logging.ERROR, logger="planning.services"):
        failed = services.make_requested_batch(proposal_id=proposal.pk)

    assert failed is not None
    assert "solver crashed" in caplog.text
    proposal.refresh_from_db()
    assert proposal.status == PlanStatus.FAILED
    assert proposal.failure == "planner_error"


def test_asking_for_a_batch_with_nothing_to_plan_is_refused_at_once(clinic, exam_type):
    with pytest.raises(NothingToPlan):
        background.request_batch(clinic=clinic)
    assert not PlanProposal.objects.exists()


def test_the_overdue_job_assigns_times_only_to_overdue_tasks(exam_type):
    overdue = make_task(exam_type, respond_by=date(2027, 1, 3))
    waiting = make_task(exam_type, respond_by=date(2027, 1, 11))
    passed = make_passed_task(exam_type)

    applied = plan_overdue_booking_tasks.delay().get()

    assert len(applied) == 1
    overdue.refresh_from_db()
    waiting.refresh_from_db()
    assert overdue.status == BookingTaskStatus.ASSIGNED
    assert waiting.status == BookingTaskStatus.OPEN
    assert plan_overdue_booking_tasks.delay().get() == []
    assert not PlanItem.objects.filter(booking_task=passed).exists()


# --- Re-plans --------------------------------------------------------------------------------


@pytest.fixture
def sick_day(exam_type, doctor_a, doctor_b, exam_room, clinic):
    """Doctor A has 09:00 and 10:00 on Wednesday, doctor B 11:00; then A is off sick all day."""
    second_room = factories.weekday_resource(clinic, ResourceKind.ROOM, ["consultation"])
    nine = book_on(exam_type, [doctor_a, exam_room], 9)
    ten = book_on(exam_type, [doctor_a, exam_room], 10)
    eleven = book_on(exam_type, [doctor_b, second_room], 11)
    absence = Absence.objects.create(
        resource=doctor_a,
        starts_at=oslo(2027, 1, 6),
        ends_at=oslo(2027, 1, 7),
        reason="sick",
    )
    return absence, nine, ten, eleven


def test_replan_moves_only_the_hit_appointments_to_the_peer_on_the_same_day(sick_day, doctor_b):
    absence, nine, ten, eleven = sick_day

    proposal = services.propose_replan(absence=absence)

    assert proposal.kind == PlanKind.REPLAN
    items = {i.appointment_id: i for i in proposal.items.all()}
    assert set(items) == {nine.pk, ten.pk}
    for appointment in (nine, ten):
        item = items[appointment.pk]
        assert item.days_moved == 0
        assert doctor_b.pk in item.resource_ids
        assert item.starts_at != eleven.starts_at


def test_applying_a_replan_records_clinic_replanning_and_offers_alternatives(sick_day, doctor_a):
    absence, nine, ten, eleven = sick_day
    proposal = services.propose_replan(absence=absence)

    services.apply_proposal(proposal=proposal, actor=SYSTEM)

    for appointment in (nine, ten):
        appointment.refresh_from_db()
        assert doctor_a.pk not in allocations_of(appointment)
        event = appointment.events.latest("pk")
        assert (event.kind, event.cause) == (EventKind.RESCHEDULED, EventCause.CLINIC_REPLANNING)
        assert doctor_a.pk in event.old_resource_ids
        task = appointment.booking_tasks.get(status=BookingTaskStatus.MOVED)
        assert task.patient == appointment.patient
    assert eleven.events.count() == 1


def test_a_moved_patient_may_accept_or_choose_another_time(sick_day):
    absence, nine, ten, _eleven = sick_day
    services.apply_proposal(proposal=services.propose_replan(absence=absence), actor=SYSTEM)
    accept = nine.booking_tasks.get(status=BookingTaskStatus.MOVED)
    change = ten.booking_tasks.get(status=BookingTaskStatus.MOVED)

    services.booking_task_accept(task=accept)
    offer = services.booking_task_offers(task=change).offers[0]
    services.booking_task_choose(
        task=change, starts_at=offer.starts_at, actor=patient_actor(change)
    )

    accept.refresh_from_db()
    change.refresh_from_db()
    ten.refresh_from_db()
    assert accept.status == change.status == BookingTaskStatus.CHOSEN
    assert ten.starts_at == offer.starts_at
    assert ten.patient_change_count == 0  # answering the clinic's move is not a change


def test_a_replan_made_stale_by_a_change_moves_nobody(sick_day):
    absence, nine, ten, _eleven = sick_day
    proposal = services.propose_replan(absence=absence)
    appointment_reschedule(appointment=ten, starts_at=oslo(2027, 1, 8, 14), actor=SYSTEM)
    nine_before = allocations_of(nine)

    with pytest.raises(PlanOutOfDate):
        services.apply_proposal(proposal=proposal, actor=SYSTEM)

    nine.refresh_from_db()
    assert allocations_of(nine) == nine_before
    assert nine.events.count() == 1


def test_a_discarded_plan_cannot_be_applied(sick_day):
    proposal = services.propose_replan(absence=sick_day[0])
    services.discard_proposal(proposal=proposal, user=None)
    with pytest.raises(PlanNotProposed):
        services.apply_proposal(proposal=proposal, actor=SYSTEM)


def test_a_new_absence_prepares_a_replan_in_the_background(
    django_capture_on_commit_callbacks, exam_type, doctor_a, exam_room
):
    nine = book_on(exam_type, [doctor_a, exam_room], 9)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        absence = background.absence_register(
            resource=doctor_a,
            starts_at=oslo(2027, 1, 6, 8),
            ends_at=oslo(2027, 1, 6, 12),
            reason="sick",
        )
        assert not PlanItem.objects.exists()  # the job waits for the commit
    assert len(queued) == 1
    item = PlanItem.objects.get(proposal__absence=absence)
    assert item.appointment == nine
    # Running the job again does not make a second proposal.
    propose_replan_for_absence.delay(absence.pk).get()
    assert PlanItem.objects.filter(proposal__absence=absence).count() == 1


def test_an_absence_changed_to_hit_an_appointment_prepares_its_replan(
    django_capture_on_commit_callbacks, exam_type, doctor_a, exam_room
):
    eleven = book_on(exam_type, [doctor_a, exam_room], 11)
    with django_capture_on_commit_callbacks(execute=True):
        absence = background.absence_register(
            resource=doctor_a,
            starts_at=oslo(2027, 1, 6, 8),
            ends_at=oslo(2027, 1, 6, 10),
            reason="sick",
        )
    assert not PlanItem.objects.exists()  # it hits nothing yet
    with django_capture_on_commit_callbacks(execute=True):
        background.absence_change(absence=absence, ends_at=oslo(2027, 1, 6, 12))
    assert PlanItem.objects.get(proposal__absence=absence).appointment == eleven


def test_an_absence_that_hits_nothing_gives_no_plan(doctor_a):
    absence = Absence.objects.create(
        resource=doctor_a,
        starts_at=oslo(2027, 1, 6, 8),
        ends_at=oslo(2027, 1, 6, 12),
        reason="sick",
    )
    assert propose_replan_for_absence.delay(absence.pk).get() is None
    with pytest.raises(NothingToPlan):
        services.propose_replan(absence=absence)


def test_beat_schedules_only_registered_jobs():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
