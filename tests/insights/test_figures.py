"""The leaders' figures on histories built by hand, each expected value worked out here."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from access.errors import NotAllowed, NotFound
from access.roles import StaffRole
from booking.models import (
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    EventCause,
    EventKind,
    PreparationTask,
    PreparationTiming,
    ResourceKind,
)
from insights import figures
from insights.figures import Cause, Resolution, nearest_rank, replanning_cause
from patients.models import Referral
from planning.models import BookingTask, BookingTaskStatus
from tests import factories
from tests.conftest import oslo

pytestmark = pytest.mark.django_db

MARCH = (date(2027, 3, 1), date(2027, 3, 31))


@pytest.fixture
def leader(clinic):
    return factories.StaffFactory.create(clinic=clinic, role=StaffRole.LEADER).user


class History:
    """Writes appointments and their history rows as the booking services do, at chosen times."""

    def __init__(self, appointment_type):
        self.type = appointment_type

    def appointment(
        self,
        starts_at,
        *,
        booked_by=(EventCause.PATIENT_CHANGE, ActorKind.PATIENT),
        status=AppointmentStatus.BOOKED,
        first_start=None,
        booked_at=None,
        holds=(),
    ) -> Appointment:
        first_start = first_start or starts_at
        booked_at = booked_at or first_start - timedelta(days=30)
        appointment = Appointment.objects.create(
            patient=factories.PatientFactory.create(),
            appointment_type=self.type,
            clinic=self.type.clinic,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            status=status,
        )
        for resource in holds:
            Allocation.objects.create(
                appointment=appointment,
                resource=resource,
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
            )
        cause, actor_kind = booked_by
        self.event(
            appointment,
            EventKind.CREATED,
            cause,
            actor_kind,
            at=booked_at,
            new=first_start,
        )
        return appointment

    def event(self, appointment, kind, cause, actor_kind, *, at, old=None, new=None, held=()):
        with time_machine.travel(at, tick=False):
            AppointmentEvent.objects.create(
                appointment=appointment,
                clinic_id=appointment.clinic_id,
                appointment_type_id=appointment.appointment_type_id,
                kind=kind,
                cause=cause,
                actor_kind=actor_kind,
                old_starts_at=old,
                new_starts_at=new,
                old_resource_ids=[r.pk for r in held],
            )

    def moved(self, appointment, cause, actor_kind, *, at, to=None):
        old = appointment.starts_at
        new = to or old + timedelta(days=1)
        self.event(appointment, EventKind.RESCHEDULED, cause, actor_kind, at=at, old=old, new=new)
        appointment.starts_at, appointment.ends_at = new, new + timedelta(minutes=30)
        appointment.save(update_fields=["starts_at", "ends_at"])

    def cancelled(self, appointment, cause, actor_kind, *, at, held=()):
        self.event(
            appointment,
            EventKind.CANCELLED,
            cause,
            actor_kind,
            at=at,
            old=appointment.starts_at,
            held=held,
        )
        appointment.status = AppointmentStatus.CANCELLED
        appointment.save(update_fields=["status"])


@pytest.fixture
def history(control_type):
    return History(control_type)


def board(user, first, last, resolution=Resolution.MONTH, **filters):
    scope = figures.scope_for(user, first=first, last=last, resolution=resolution, **filters)
    return figures.dashboard(scope, now=oslo(2027, 6, 1))


def total(dashboard, key):
    cell = dashboard.figure(key).total
    return cell.value if cell.base is None else (cell.count, cell.base)


# --- What a re-planning is --------------------------------------------------------------------

START = datetime(2027, 3, 10, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "cause", "actor_kind", "hours_before", "expected"),
    [
        (EventKind.RESCHEDULED, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, 100, "patient"),
        (EventKind.RESCHEDULED, EventCause.PATIENT_CHANGE, ActorKind.PROXY, 100, "patient"),
        (EventKind.RESCHEDULED, EventCause.PATIENT_CHANGE, ActorKind.STAFF, 100, "phone"),
        (EventKind.RESCHEDULED, EventCause.CLINIC_REPLANNING, ActorKind.STAFF, 100, "clinic"),
        (EventKind.RESCHEDULED, EventCause.CLINIC_REPLANNING, ActorKind.SYSTEM, 100, "clinic"),
        (EventKind.RESCHEDULED, EventCause.WAITLIST_FILL, ActorKind.PATIENT, 100, None),
        (EventKind.CANCELLED, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, 48, "in time"),
        (EventKind.CANCELLED, EventCause.PATIENT_CHANGE, ActorKind.STAFF, 47, "late"),
        (EventKind.CANCELLED, EventCause.CLINIC_CANCELLATION, ActorKind.STAFF, 1, "clinic x"),
        (EventKind.CANCELLED, EventCause.CLINIC_REPLANNING, ActorKind.STAFF, 300, "clinic x"),
        (EventKind.CREATED, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, 100, None),
        (EventKind.NOSHOW, EventCause.ATTENDANCE, ActorKind.STAFF, 0, None),
    ],
)
def test_each_event_has_the_cause_its_definition_gives(
    kind, cause, actor_kind, hours_before, expected
):
    causes = {
        "patient": Cause.PATIENT_CHANGE,
        "phone": Cause.CLINIC_PHONE_CHANGE,
        "clinic": Cause.CLINIC_REPLANNING,
        "in time": Cause.PATIENT_CANCELLATION,
        "late": Cause.PATIENT_CANCELLATION_LATE,
        "clinic x": Cause.CLINIC_CANCELLATION,
        None: None,
    }
    found = replanning_cause(
        kind=kind,
        cause=cause,
        actor_kind=actor_kind,
        old_starts_at=START,
        occurred_at=START - timedelta(hours=hours_before),
        change_cutoff_hours=48,
    )
    assert found == causes[expected]


def test_nearest_rank_percentiles_are_values_that_were_counted():
    from collections import Counter

    values = Counter({3: 1, 10: 2, 40: 1, 90: 1})  # 3, 10, 10, 40, 90
    assert nearest_rank(values, 0.5) == 10  # rank ceil(2.5) = 3
    assert nearest_rank(values, 0.9) == 90  # rank ceil(4.5) = 5
    assert nearest_rank(Counter({7: 1}), 0.9) == 7
    assert nearest_rank(Counter(), 0.5) is None


# --- A month of history -----------------------------------------------------------------------


def test_a_month_of_history_gives_the_figures_worked_out_by_hand(leader, history, control_type):
    cutoff = control_type.change_cutoff_hours  # 48
    # 1: chosen by the patient, then changed by the patient, moved by the clinic, and changed
    #    on the phone: three re-plannings of one appointment.
    several = history.appointment(oslo(2027, 3, 8, 10))
    history.moved(several, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, at=oslo(2027, 2, 1))
    history.moved(several, EventCause.CLINIC_REPLANNING, ActorKind.STAFF, at=oslo(2027, 2, 2))
    history.moved(several, EventCause.PATIENT_CHANGE, ActorKind.STAFF, at=oslo(2027, 2, 3))
    # 2: set by the clinic, cancelled by the patient 2 hours before: late.
    late = history.appointment(
        oslo(2027, 3, 12, 10), booked_by=(EventCause.CLINIC_BOOKING, ActorKind.STAFF)
    )
    history.cancelled(late, EventCause.PATIENT_CHANGE, ActorKind.STAFF, at=oslo(2027, 3, 12, 8))
    # 3: set by the batch planner, cancelled by the patient a week before: in time.
    in_time = history.appointment(
        oslo(2027, 3, 15, 10), booked_by=(EventCause.BATCH_PLANNING, ActorKind.STAFF)
    )
    history.cancelled(
        in_time, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, at=oslo(2027, 3, 8, 10)
    )
    # 4: chosen by a proxy, cancelled by the clinic.
    struck = history.appointment(
        oslo(2027, 3, 16, 10), booked_by=(EventCause.PATIENT_CHANGE, ActorKind.PROXY)
    )
    history.cancelled(
        struck, EventCause.CLINIC_CANCELLATION, ActorKind.STAFF, at=oslo(2027, 3, 1, 9)
    )
    # 5: an earlier time from the waitlist, 20 March -> 15 March: five days gained, and not a
    #    re-planning.
    filled = history.appointment(oslo(2027, 3, 20, 10))
    history.moved(
        filled,
        EventCause.WAITLIST_FILL,
        ActorKind.PATIENT,
        at=oslo(2027, 3, 10),
        to=oslo(2027, 3, 15, 11),
    )
    # 6 and 7: a no-show and an appointment that took place.
    history.appointment(oslo(2027, 3, 22, 10), status=AppointmentStatus.NOSHOW)
    history.appointment(oslo(2027, 3, 23, 10), status=AppointmentStatus.FULFILLED)
    # 8: the first minute of March and the last, in Oslo (winter and summer time).
    history.appointment(oslo(2027, 3, 1, 0, 0))
    history.appointment(oslo(2027, 3, 31, 23, 30))
    # Outside March: the last minute of February and the first of April, local time.
    history.appointment(oslo(2027, 2, 28, 23, 59))
    outside = history.appointment(oslo(2027, 4, 1, 0, 0))
    history.moved(outside, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, at=oslo(2027, 3, 1))
    # An appointment entered in error is no appointment.
    history.appointment(oslo(2027, 3, 9, 10), status=AppointmentStatus.ENTERED_IN_ERROR)
    assert late.starts_at - oslo(2027, 3, 12, 8) < timedelta(hours=cutoff)

    march = board(leader, *MARCH)

    assert march.appointments == 9
    assert total(march, "replannings") == 6
    assert total(march, "replanned_share") == (4, 9)  # several, late, in_time, struck
    assert {cause: total(march, f"replannings_{cause}") for cause in Cause} == {
        Cause.PATIENT_CHANGE: 1,
        Cause.CLINIC_REPLANNING: 1,
        Cause.CLINIC_PHONE_CHANGE: 1,
        Cause.PATIENT_CANCELLATION_LATE: 1,
        Cause.PATIENT_CANCELLATION: 1,
        Cause.CLINIC_CANCELLATION: 1,
    }
    assert total(march, f"replanned_share_{Cause.PATIENT_CHANGE}") == (1, 9)
    assert total(march, "waitlist_fills") == 1
    assert total(march, "waitlist_days_gained") == 5
    assert total(march, "no_show_rate") == (1, 2)
    assert total(march, "booked_by_patient") == (7, 9)
    assert total(march, "booked_by_clinic") == (1, 9)
    assert total(march, "booked_by_batch") == (1, 9)
    # Not cancelled: 6 of the 9; "several" now starts three days after its first time.
    assert total(march, "moved_past_planned") == (1, 6)
    cell = march.figure("replanned_share").total
    assert cell.value == pytest.approx(4 / 9)


def test_replannings_and_shares_split_by_bucket(leader, history):
    first_week = history.appointment(oslo(2027, 3, 2, 10))
    history.moved(first_week, EventCause.CLINIC_REPLANNING, ActorKind.STAFF, at=oslo(2027, 2, 1))
    history.appointment(oslo(2027, 3, 3, 10))
    history.appointment(oslo(2027, 3, 10, 10))

    weeks = board(leader, date(2027, 3, 1), date(2027, 3, 14), Resolution.WEEK)

    assert weeks.buckets == (date(2027, 3, 1), date(2027, 3, 8))
    shares = weeks.figure("replanned_share").by_bucket
    # "first_week" moved from 2 March to 3 March: still the first week.
    assert [(c.count, c.base) for c in shares] == [(1, 2), (0, 1)]
    assert [c.value for c in weeks.figure("replannings").by_bucket] == [1, 0]


@pytest.mark.parametrize(
    ("first", "last", "inside", "outside"),
    [
        # Spring: 28 March 2027 has 23 hours (02:00 -> 03:00).
        (
            date(2027, 3, 28),
            date(2027, 3, 28),
            [datetime(2027, 3, 27, 23, 0, tzinfo=UTC), datetime(2027, 3, 28, 21, 59, tzinfo=UTC)],
            [datetime(2027, 3, 27, 22, 59, tzinfo=UTC), datetime(2027, 3, 28, 22, 0, tzinfo=UTC)],
        ),
        # Autumn: 31 October 2027 has 25 hours (03:00 -> 02:00).
        (
            date(2027, 10, 31),
            date(2027, 10, 31),
            [datetime(2027, 10, 30, 22, 0, tzinfo=UTC), datetime(2027, 10, 31, 22, 59, tzinfo=UTC)],
            [datetime(2027, 10, 30, 21, 59, tzinfo=UTC), datetime(2027, 10, 31, 23, 0, tzinfo=UTC)],
        ),
    ],
)
def test_a_day_runs_from_local_midnight_to_local_midnight_on_the_daylight_saving_sundays(
    leader, history, first, last, inside, outside
):
    for moment in [*inside, *outside]:
        history.appointment(moment)

    day = board(leader, first, last, Resolution.DAY)

    assert day.appointments == len(inside)
    assert [c.value for c in day.figure("appointments").by_bucket] == [len(inside)]


def test_days_around_the_autumn_change_each_get_their_own_appointments(leader, history):
    history.appointment(datetime(2027, 10, 30, 21, 30, tzinfo=UTC))  # 30 Oct 23:30 summer time
    history.appointment(datetime(2027, 10, 31, 0, 30, tzinfo=UTC))  # 31 Oct 02:30 summer time
    history.appointment(datetime(2027, 10, 31, 1, 30, tzinfo=UTC))  # 31 Oct 02:30 winter time
    history.appointment(datetime(2027, 10, 31, 23, 30, tzinfo=UTC))  # 1 Nov 00:30

    days = board(leader, date(2027, 10, 30), date(2027, 11, 1), Resolution.DAY)

    assert [c.value for c in days.figure("appointments").by_bucket] == [1, 2, 1]


def test_an_empty_period_says_there_is_nothing_instead_of_dividing_by_zero(leader, history):
    history.appointment(oslo(2027, 5, 3, 10))

    empty = board(leader, *MARCH)

    assert empty.appointments == 0
    for figure in empty.figures:
        assert figure.total.base in (None, 0)
        if figure.unit == figures.Unit.SHARE:
            assert figure.total.value is None
    assert empty.figure("referral_days_median").total.value is None


# --- Referrals, deadlines, preparations, offers -----------------------------------------------


def _for_referral(appointment, received, deadline, *, status=BookingTaskStatus.CHOSEN):
    referral = Referral.objects.create(
        patient=appointment.patient,
        clinic=appointment.clinic,
        received_on=received,
        care_deadline=deadline,
    )
    day = appointment.starts_at.astimezone(appointment.clinic.tz).date()
    return BookingTask.objects.create(
        clinic=appointment.clinic,
        patient=appointment.patient,
        referral=referral,
        appointment_type=appointment.appointment_type,
        earliest_date=day - timedelta(days=60),
        latest_date=day + timedelta(days=60),
        deadline=deadline,
        respond_by=day - timedelta(days=20),
        status=status,
        appointment=appointment,
    )


def test_days_from_referral_and_deadline_breaches(leader, history):
    waits = {3: date(2027, 3, 31), 10: date(2027, 3, 31), 40: date(2027, 3, 31)}
    for day_of_march, (waited, deadline) in zip(
        (5, 10, 15, 20, 25),
        [*waits.items(), (10, date(2027, 3, 12)), (90, date(2027, 3, 24))],
        strict=True,
    ):
        appointment = history.appointment(oslo(2027, 3, day_of_march, 23, 30))
        _for_referral(appointment, date(2027, 3, day_of_march) - timedelta(days=waited), deadline)
    # A second task for the same appointment (the patient answered a move) counts once.
    again = Appointment.objects.get(starts_at=oslo(2027, 3, 5, 23, 30))
    _for_referral(again, date(2027, 3, 2), date(2027, 3, 31), status=BookingTaskStatus.MOVED)
    # Cancelled appointments are not counted.
    cancelled = history.appointment(oslo(2027, 3, 26, 10), status=AppointmentStatus.CANCELLED)
    _for_referral(cancelled, date(2026, 1, 1), date(2026, 2, 1))

    march = board(leader, *MARCH)

    # Waits 3, 10, 40, 10, 90 days: sorted 3, 10, 10, 40, 90.
    assert total(march, "referral_days_median") == 10
    assert total(march, "referral_days_p90") == 90
    # 20 March after a deadline of 12 March; 25 March after 24 March (23:30 local is still
    # the 25th, though 21:30 UTC).
    assert total(march, "deadline_breaches") == 2
    assert total(march, "deadline_breach_share") == (2, 5)


def test_preparations_done_by_their_deadline(leader, history):
    appointment = history.appointment(oslo(2027, 3, 20, 10))
    cancelled = history.appointment(oslo(2027, 3, 21, 10), status=AppointmentStatus.CANCELLED)

    def preparation(of, timing, due, done_at=None):
        PreparationTask.objects.create(
            appointment=of, title="Prep", timing=timing, due_date=due, done_at=done_at
        )

    deadline = PreparationTiming.DEADLINE
    preparation(appointment, deadline, date(2027, 3, 18), oslo(2027, 3, 18, 23, 59))  # on time
    preparation(appointment, deadline, date(2027, 3, 18), oslo(2027, 3, 19, 0, 1))  # late
    preparation(appointment, deadline, date(2027, 3, 18))  # never
    # One that starts on its due day must be done by the appointment's day.
    preparation(appointment, PreparationTiming.START, date(2027, 3, 13), oslo(2027, 3, 20, 8))
    preparation(cancelled, deadline, date(2027, 3, 18))

    march = board(leader, *MARCH)

    assert total(march, "preparations_on_time") == (2, 4)


def test_offer_acceptance_counts_the_decided_tasks_created_in_the_period(
    leader, history, control_type, clinic
):
    def task(status, after_more=None, created=None):
        created = created or oslo(2027, 3, 10)
        appointment = None
        if status != BookingTaskStatus.CANCELLED and status != BookingTaskStatus.OPEN:
            appointment = history.appointment(oslo(2027, 4, 10, 10))
        with time_machine.travel(created, tick=False):
            BookingTask.objects.create(
                clinic=clinic,
                patient=factories.PatientFactory.create(),
                appointment_type=control_type,
                earliest_date=date(2027, 4, 1),
                latest_date=date(2027, 4, 30),
                deadline=date(2027, 5, 1),
                respond_by=date(2027, 3, 25),
                status=status,
                appointment=appointment,
                chosen_after_more_times=after_more,
            )

    task(BookingTaskStatus.CHOSEN, False)
    task(BookingTaskStatus.CHOSEN, False)
    task(BookingTaskStatus.CHOSEN, True)
    task(BookingTaskStatus.ASSIGNED)
    task(BookingTaskStatus.CANCELLED)
    task(BookingTaskStatus.OPEN)  # still open: not counted
    task(BookingTaskStatus.CHOSEN, None)  # the clinic's move, kept: no time was offered
    task(BookingTaskStatus.CHOSEN, False, created=oslo(2027, 4, 1, 0, 0))  # April

    march = board(leader, *MARCH)

    assert total(march, "offers_first") == (2, 5)
    assert total(march, "offers_more") == (1, 5)
    assert total(march, "offers_none") == (2, 5)


# --- Who sees what ----------------------------------------------------------------------------


def test_a_leader_sees_only_their_clinics_and_others_get_no_figures(leader, history, clinic):
    other_clinic = factories.ClinicFactory.create()
    other_type = factories.AppointmentTypeFactory.create(clinic=other_clinic)
    History(other_type).appointment(oslo(2027, 3, 10, 10))
    history.appointment(oslo(2027, 3, 11, 10))

    assert board(leader, *MARCH).appointments == 1
    assert board(leader, *MARCH, clinic_id=clinic.pk).appointments == 1
    with pytest.raises(NotFound):
        board(leader, *MARCH, clinic_id=other_clinic.pk)
    with pytest.raises(NotFound):
        board(leader, *MARCH, appointment_type_id=other_type.pk)
    for role in (StaffRole.SECRETARY, StaffRole.CLINICIAN):
        staff = factories.StaffFactory.create(clinic=clinic, role=role).user
        with pytest.raises(NotAllowed):
            board(staff, *MARCH)
    with pytest.raises(NotAllowed):
        board(factories.PatientFactory.create().user, *MARCH)


def test_a_clinician_filter_keeps_what_they_hold_or_held_when_cancelled(
    leader, history, clinician, clinic
):
    peer = factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    history.appointment(oslo(2027, 3, 10, 10), holds=[clinician])
    history.appointment(oslo(2027, 3, 11, 10), holds=[peer])
    gone = history.appointment(oslo(2027, 3, 12, 10))
    history.cancelled(
        gone, EventCause.PATIENT_CHANGE, ActorKind.PATIENT, at=oslo(2027, 3, 1), held=[clinician]
    )

    mine = board(leader, *MARCH, clinician_id=clinician.pk)

    assert mine.appointments == 2
    assert total(mine, f"replannings_{Cause.PATIENT_CANCELLATION}") == 1
    with pytest.raises(NotFound):
        board(leader, *MARCH, clinician_id=factories.ResourceFactory.create().pk)


def test_a_period_that_ends_before_it_starts_or_is_too_long_is_refused(leader):
    with pytest.raises(figures.PeriodInvalid):
        board(leader, date(2027, 3, 2), date(2027, 3, 1))
    with pytest.raises(figures.PeriodInvalid):
        board(leader, date(2026, 1, 1), date(2027, 3, 1))


# --- The history the services write -----------------------------------------------------------


def test_the_history_the_booking_services_write_gives_the_figures(
    leader, control_type, clinic, clock
):
    from booking import services
    from booking.models import WaitlistOffer

    def patient_side():
        patient = factories.PatientFactory.create()
        return patient, services.Actor(user=patient.user, kind=ActorKind.PATIENT)

    staff = services.staff_actor(factories.StaffFactory.create(clinic=clinic).user)
    book = services.appointment_book

    # The patient books and changes once; the clinic then moves it on the phone.
    patient, me = patient_side()
    changed = book(
        patient=patient, appointment_type=control_type, starts_at=oslo(2027, 1, 12, 9), actor=me
    )
    changed = services.appointment_reschedule(
        appointment=changed, starts_at=oslo(2027, 1, 13, 9), actor=me
    )
    services.appointment_reschedule(
        appointment=changed,
        starts_at=oslo(2027, 1, 14, 9),
        actor=staff,
        cause=EventCause.PATIENT_CHANGE,
    )
    # Booked by the clinic; the patient phones to cancel the day before: late.
    patient, _ = patient_side()
    late = book(
        patient=patient, appointment_type=control_type, starts_at=oslo(2027, 1, 5, 9), actor=staff
    )
    services.appointment_cancel(appointment=late, actor=staff, cause=EventCause.PATIENT_CHANGE)
    # The patient takes an earlier time from the waitlist: 20 January -> 11 January.
    patient, me = patient_side()
    waiting = book(
        patient=patient, appointment_type=control_type, starts_at=oslo(2027, 1, 20, 9), actor=me
    )
    entry = services.waitlist_join(appointment=waiting, actor=me)
    offer = WaitlistOffer.objects.create(
        entry=entry, starts_at=oslo(2027, 1, 11, 9), expires_at=oslo(2027, 1, 5)
    )
    services.waitlist_offer_accept(offer=offer, actor=me)

    january = board(leader, date(2027, 1, 1), date(2027, 1, 31))

    assert january.appointments == 3
    assert total(january, f"replannings_{Cause.PATIENT_CHANGE}") == 1
    assert total(january, f"replannings_{Cause.CLINIC_PHONE_CHANGE}") == 1
    assert total(january, f"replannings_{Cause.PATIENT_CANCELLATION_LATE}") == 1
    assert total(january, "replannings") == 3
    assert total(january, "replanned_share") == (2, 3)
    assert total(january, "waitlist_fills") == 1
    assert total(january, "waitlist_days_gained") == 9
    assert total(january, "booked_by_patient") == (2, 3)
    assert total(january, "booked_by_clinic") == (1, 3)
    assert total(january, "moved_past_planned") == (1, 2)


def test_the_database_classes_every_history_row_as_replanning_cause_does(history, control_type):
    from itertools import product

    appointment = history.appointment(oslo(2027, 3, 10, 10))
    start = appointment.starts_at
    combinations = list(product(EventKind.values, EventCause.values, ActorKind.values))
    expected = {}
    for hours in (1, 47, 48, 49, 300):
        at = start - timedelta(hours=hours)
        with time_machine.travel(at, tick=False):
            AppointmentEvent.objects.bulk_create(
                AppointmentEvent(
                    appointment=appointment,
                    clinic_id=appointment.clinic_id,
                    appointment_type_id=appointment.appointment_type_id,
                    kind=kind,
                    cause=cause,
                    actor_kind=actor_kind,
                    old_starts_at=start,
                    new_starts_at=start,
                )
                for kind, cause, actor_kind in combinations
            )
        for kind, cause, actor_kind in combinations:
            python = replanning_cause(
                kind=kind,
                cause=cause,
                actor_kind=actor_kind,
                old_starts_at=start,
                occurred_at=at,
                change_cutoff_hours=control_type.change_cutoff_hours,
            )
            waitlist = kind == EventKind.RESCHEDULED and cause == EventCause.WAITLIST_FILL
            expected[(kind, cause, actor_kind, at)] = "waitlist" if waitlist else python
    classed = AppointmentEvent.objects.filter(
        appointment=appointment, occurred_at__gt=start - timedelta(days=20)
    ).annotate(
        klass=figures.replanning_class([(control_type.pk, control_type.change_cutoff_hours)])
    )

    rows = classed.values_list("kind", "cause", "actor_kind", "occurred_at", "klass")
    found = {(kind, cause, actor, at): klass for kind, cause, actor, at, klass in rows}

    assert len(found) == len(expected) == 6 * 7 * 4 * 5
    assert found == expected
