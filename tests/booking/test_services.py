from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking import errors, services
from booking.models import Absence as AbsenceRow
from booking.models import (
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    EventCause,
    EventKind,
    PreparationTemplate,
    PreparationTiming,
    ResourceKind,
)
from tests import factories
from tests.conftest import NOW, oslo

pytestmark = pytest.mark.django_db

WED_10 = oslo(2027, 1, 6, 10, 0)


@pytest.fixture
def patient_actor(patient):
    return services.Actor(user=patient.user, kind=ActorKind.PATIENT)


@pytest.fixture
def staff_actor():
    return services.Actor(user=factories.UserFactory.create(), kind=ActorKind.STAFF)


def book(patient, appointment_type, starts_at, actor, **kwargs):
    return services.appointment_book(
        patient=patient,
        appointment_type=appointment_type,
        starts_at=starts_at,
        actor=actor,
        now=NOW,
        **kwargs,
    )


def test_booking_holds_every_required_resource_and_records_history(
    patient, control_type, clinician, room, patient_actor
):
    appointment = book(patient, control_type, WED_10, patient_actor)

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at == oslo(2027, 1, 6, 10, 30)
    held = sorted(appointment.allocations.values_list("resource_id", "starts_at", "ends_at"))
    assert held == sorted(
        [
            (clinician.id, WED_10, oslo(2027, 1, 6, 10, 30)),
            (room.id, WED_10, oslo(2027, 1, 6, 10, 30)),
        ]
    )
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert (event.kind, event.cause, event.actor_kind) == ("created", "patient_change", "patient")
    assert event.new_starts_at == WED_10
    assert event.on_behalf_of is None
    assert sorted(event.new_resource_ids) == sorted([clinician.id, room.id])


def test_buffers_are_held_with_the_appointment(patient, control_type, clinician, patient_actor):
    control_type.buffer_before_minutes, control_type.buffer_after_minutes = 10, 15
    control_type.save()

    appointment = book(patient, control_type, WED_10, patient_actor)

    allocation = appointment.allocations.get(resource=clinician)
    assert (allocation.starts_at, allocation.ends_at) == (
        oslo(2027, 1, 6, 9, 50),
        oslo(2027, 1, 6, 10, 45),
    )
    other = factories.PatientFactory.create()
    with pytest.raises(errors.SlotUnavailable):  # 10:30 + 30 min needs 10:45 free, buffer holds it
        book(
            other,
            control_type,
            oslo(2027, 1, 6, 10, 45) - timedelta(minutes=15),
            services.Actor(user=other.user, kind=ActorKind.PATIENT),
        )


def test_a_taken_time_is_refused_when_no_other_resource_is_free(
    patient, control_type, patient_actor
):
    book(patient, control_type, WED_10, patient_actor)
    other = factories.PatientFactory.create()

    with pytest.raises(errors.SlotUnavailable):
        book(other, control_type, WED_10, services.Actor(user=other.user, kind=ActorKind.PATIENT))


def test_a_second_booking_at_the_same_time_uses_other_free_resources(
    clinic, patient, control_type, patient_actor
):
    factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    factories.weekday_resource(clinic, ResourceKind.ROOM)
    first = book(patient, control_type, WED_10, patient_actor)
    other = factories.PatientFactory.create()

    second = book(
        other, control_type, WED_10, services.Actor(user=other.user, kind=ActorKind.PATIENT)
    )

    first_ids = set(first.allocations.values_list("resource_id", flat=True))
    second_ids = set(second.allocations.values_list("resource_id", flat=True))
    assert len(second_ids) == 2
    assert first_ids.isdisjoint(second_ids)


def test_a_patient_cannot_be_in_two_appointments_at_once(
    clinic, patient, control_type, patient_actor
):
    factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    factories.weekday_resource(clinic, ResourceKind.ROOM)
    book(patient, control_type, WED_10, patient_actor)

    with pytest.raises(errors.PatientBusy):
        book(patient, control_type, WED_10 + timedelta(minutes=15), patient_actor)


def test_outside_working_hours_and_during_absences_nothing_is_free(
    patient, control_type, clinician, patient_actor
):
    with pytest.raises(errors.SlotUnavailable):
        book(patient, control_type, oslo(2027, 1, 6, 15, 45), patient_actor)  # ends 16:15
    with pytest.raises(errors.SlotUnavailable):
        book(patient, control_type, oslo(2027, 1, 9, 10, 0), patient_actor)  # Saturday
    AbsenceRow.objects.create(
        resource=clinician,
        starts_at=oslo(2027, 1, 6, 9, 0),
        ends_at=oslo(2027, 1, 6, 12, 0),
        reason="sick",
    )
    with pytest.raises(errors.SlotUnavailable):
        book(patient, control_type, WED_10, patient_actor)


@pytest.mark.parametrize(
    ("starts_at", "error"),
    [
        (oslo(2027, 1, 4, 6, 0), errors.TimeInPast),
        (oslo(2027, 1, 4, 15, 0), errors.NoticeTooShort),  # 8 hours, 24 needed
        (oslo(2027, 4, 6, 10, 0), errors.BeyondBookingHorizon),  # 92 days, 90 allowed
        (oslo(2027, 1, 6, 10, 5), errors.NotOnGrid),  # 15-minute grid
    ],
)
def test_patient_time_rules(patient, control_type, patient_actor, starts_at, error):
    with pytest.raises(error):
        book(patient, control_type, starts_at, patient_actor)
    assert not Appointment.objects.exists()


def test_only_self_bookable_types_can_be_booked_by_patients(
    patient, control_type, patient_actor, staff_actor
):
    control_type.self_bookable = False
    control_type.save()

    with pytest.raises(errors.NotSelfBookable):
        book(patient, control_type, WED_10, patient_actor)
    appointment = book(patient, control_type, WED_10, staff_actor)

    event = appointment.events.get()
    assert (event.cause, event.actor_kind, event.on_behalf_of) == (
        "clinic_booking",
        "staff",
        patient,
    )


def test_staff_may_book_at_short_notice_but_not_off_grid(patient, control_type, staff_actor):
    appointment = book(patient, control_type, oslo(2027, 1, 4, 9, 0), staff_actor)
    assert appointment.starts_at == oslo(2027, 1, 4, 9, 0)
    with pytest.raises(errors.NotOnGrid):
        book(patient, control_type, oslo(2027, 1, 4, 9, 10), staff_actor)


def test_inactive_types_cannot_be_booked(patient, control_type, staff_actor):
    control_type.is_active = False
    control_type.save()
    with pytest.raises(errors.AppointmentTypeInactive):
        book(patient, control_type, WED_10, staff_actor)


def test_types_needing_confirmation_are_pending(patient, control_type, patient_actor):
    control_type.requires_confirmation = True
    control_type.save()
    assert book(patient, control_type, WED_10, patient_actor).status == AppointmentStatus.PENDING


def test_patients_cannot_claim_a_clinic_cause(patient, control_type, patient_actor):
    with pytest.raises(ValueError, match="patient's own change"):
        book(patient, control_type, WED_10, patient_actor, cause=EventCause.CLINIC_REPLANNING)


def test_naive_times_are_refused(patient, control_type, patient_actor):
    with pytest.raises(ValueError, match="timezone-aware"):
        book(patient, control_type, WED_10.replace(tzinfo=None), patient_actor)


def test_preparation_tasks_are_dated_relative_to_the_appointment(
    patient, control_type, clinician, room, patient_actor
):
    for resource in (clinician, room):  # a night shift on Wednesdays, so 00:15 is bookable
        factories.WorkingHoursFactory.create(
            resource=resource, weekday=2, start_time=time(0, 0), end_time=time(2, 0)
        )
    PreparationTemplate.objects.create(
        appointment_type=control_type,
        title="Tøm tarmen",
        timing=PreparationTiming.START,
        days_before=7,
    )
    PreparationTemplate.objects.create(
        appointment_type=control_type,
        title="Medisinliste",
        timing=PreparationTiming.DEADLINE,
        days_before=5,
    )
    starts_at = oslo(2027, 1, 20, 0, 15)  # just after midnight: the local date counts

    appointment = book(
        patient,
        control_type.__class__.objects.get(pk=control_type.pk),
        starts_at,
        services.Actor(user=None, kind=ActorKind.STAFF),
    )

    tasks = {t.title: (t.timing, t.due_date) for t in appointment.preparation_tasks.all()}
    assert tasks == {
        "Tøm tarmen": ("start", date(2027, 1, 13)),
        "Medisinliste": ("deadline", date(2027, 1, 15)),
    }


class TestReschedule:
    def test_moves_the_appointment_and_its_resources_in_one_step(
        self, patient, control_type, clinician, patient_actor
    ):
        appointment = book(patient, control_type, WED_10, patient_actor)
        new_time = oslo(2027, 1, 7, 13, 15)

        moved = services.appointment_reschedule(
            appointment=appointment, starts_at=new_time, actor=patient_actor, now=NOW
        )

        assert (moved.starts_at, moved.ends_at) == (new_time, oslo(2027, 1, 7, 13, 45))
        assert moved.patient_change_count == 1
        assert set(Allocation.objects.values_list("starts_at", flat=True)) == {new_time}
        event = moved.events.get(kind=EventKind.RESCHEDULED)
        assert (event.old_starts_at, event.new_starts_at) == (WED_10, new_time)
        assert event.cause == EventCause.PATIENT_CHANGE
        assert clinician.id in event.old_resource_ids

    def test_the_old_time_is_free_again(self, patient, control_type, patient_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)
        services.appointment_reschedule(
            appointment=appointment, starts_at=oslo(2027, 1, 7, 9, 0), actor=patient_actor, now=NOW
        )
        other = factories.PatientFactory.create()
        assert book(
            other, control_type, WED_10, services.Actor(user=other.user, kind=ActorKind.PATIENT)
        ).pk

    def test_a_taken_new_time_leaves_the_old_one_untouched(
        self, patient, control_type, patient_actor, staff_actor
    ):
        appointment = book(patient, control_type, WED_10, patient_actor)
        taken = oslo(2027, 1, 7, 9, 0)
        book(factories.PatientFactory.create(), control_type, taken, staff_actor)

        with pytest.raises(errors.SlotUnavailable):
            services.appointment_reschedule(
                appointment=appointment, starts_at=taken, actor=patient_actor, now=NOW
            )

        appointment.refresh_from_db()
        assert (appointment.starts_at, appointment.patient_change_count) == (WED_10, 0)
        assert appointment.allocations.count() == 2
        assert not appointment.events.filter(kind=EventKind.RESCHEDULED).exists()

    def test_preparation_dates_follow_but_done_tasks_stay(
        self, patient, control_type, patient_actor
    ):
        PreparationTemplate.objects.create(
            appointment_type=control_type,
            title="Skjema",
            timing=PreparationTiming.DEADLINE,
            days_before=2,
        )
        PreparationTemplate.objects.create(
            appointment_type=control_type,
            title="Liste",
            timing=PreparationTiming.DEADLINE,
            days_before=1,
        )
        appointment = book(patient, control_type, oslo(2027, 1, 20, 10, 0), patient_actor)
        done = appointment.preparation_tasks.get(title="Liste")
        services.preparation_task_mark(task=done, done=True, actor=patient_actor, now=NOW)

        services.appointment_reschedule(
            appointment=appointment,
            starts_at=oslo(2027, 1, 27, 10, 0),
            actor=patient_actor,
            now=NOW,
        )

        due = dict(appointment.preparation_tasks.values_list("title", "due_date"))
        assert due == {"Skjema": date(2027, 1, 25), "Liste": date(2027, 1, 19)}

    def test_change_cutoff(self, patient, control_type, patient_actor, staff_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)
        late = oslo(2027, 1, 4, 10, 1)  # 47h59m before
        with pytest.raises(errors.ChangeCutoffPassed):
            services.appointment_reschedule(
                appointment=appointment,
                starts_at=oslo(2027, 1, 8, 10, 0),
                actor=patient_actor,
                now=late,
            )
        moved = services.appointment_reschedule(
            appointment=appointment, starts_at=oslo(2027, 1, 8, 10, 0), actor=staff_actor, now=late
        )
        assert moved.patient_change_count == 0
        assert moved.events.get(kind="rescheduled").cause == EventCause.CLINIC_REPLANNING

    def test_max_changes(self, patient, control_type, patient_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)
        for day in (11, 12):
            services.appointment_reschedule(
                appointment=appointment,
                starts_at=oslo(2027, 1, day, 10, 0),
                actor=patient_actor,
                now=NOW,
            )
        with pytest.raises(errors.MaxChangesReached):
            services.appointment_reschedule(
                appointment=appointment,
                starts_at=oslo(2027, 1, 13, 10, 0),
                actor=patient_actor,
                now=NOW,
            )

    def test_same_time_and_new_time_rules(self, patient, control_type, patient_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)
        with pytest.raises(errors.SameTime):
            services.appointment_reschedule(
                appointment=appointment, starts_at=WED_10, actor=patient_actor, now=NOW
            )
        with pytest.raises(errors.NotOnGrid):
            services.appointment_reschedule(
                appointment=appointment,
                starts_at=oslo(2027, 1, 7, 9, 7),
                actor=patient_actor,
                now=NOW,
            )

    def test_cancelled_appointments_cannot_be_moved(self, patient, control_type, patient_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)
        services.appointment_cancel(appointment=appointment, actor=patient_actor, now=NOW)
        with pytest.raises(errors.AppointmentNotChangeable):
            services.appointment_reschedule(
                appointment=appointment,
                starts_at=oslo(2027, 1, 7, 9, 0),
                actor=patient_actor,
                now=NOW,
            )


class TestCancel:
    def test_releases_the_time_and_records_why(self, patient, control_type, patient_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)

        cancelled = services.appointment_cancel(
            appointment=appointment, actor=patient_actor, reason="Reiser bort", now=NOW
        )

        assert cancelled.status == AppointmentStatus.CANCELLED
        assert not Allocation.objects.exists()
        event = cancelled.events.get(kind=EventKind.CANCELLED)
        assert (event.old_starts_at, event.new_starts_at, event.note) == (
            WED_10,
            None,
            "Reiser bort",
        )
        assert len(event.old_resource_ids) == 2

    def test_patients_cannot_cancel_after_the_cutoff_but_the_clinic_can(
        self, patient, control_type, patient_actor, staff_actor
    ):
        appointment = book(patient, control_type, WED_10, patient_actor)
        late = WED_10 - timedelta(hours=2)
        with pytest.raises(errors.ChangeCutoffPassed):
            services.appointment_cancel(appointment=appointment, actor=patient_actor, now=late)
        cancelled = services.appointment_cancel(
            appointment=appointment, actor=staff_actor, now=late
        )
        assert cancelled.events.get(kind="cancelled").cause == EventCause.CLINIC_CANCELLATION

    def test_past_appointments_cannot_be_cancelled(self, patient, control_type, patient_actor):
        appointment = book(patient, control_type, WED_10, patient_actor)
        with pytest.raises(errors.AppointmentNotChangeable):
            services.appointment_cancel(
                appointment=appointment, actor=patient_actor, now=WED_10 + timedelta(hours=1)
            )


def test_history_is_append_only(patient, control_type, patient_actor):
    event = book(patient, control_type, WED_10, patient_actor).events.get()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AppointmentEvent.objects.all().update(note="x")
    with pytest.raises(TypeError):
        AppointmentEvent.objects.all().delete()


def test_the_resource_whose_free_block_fits_best_is_chosen(clinic, staff_actor):
    """Booking right after an existing appointment keeps the other clinician's day whole."""
    free_all_day = factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    busy_until_0930 = factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    appointment_type = factories.AppointmentTypeFactory.create(clinic=clinic)
    factories.requirement(appointment_type, ResourceKind.CLINICIAN)
    first = book(
        factories.PatientFactory.create(), appointment_type, oslo(2027, 1, 6, 9, 0), staff_actor
    )
    first.allocations.update(resource=busy_until_0930)

    second = book(
        factories.PatientFactory.create(), appointment_type, oslo(2027, 1, 6, 9, 30), staff_actor
    )

    assert list(second.allocations.values_list("resource_id", flat=True)) == [busy_until_0930.id]
    assert free_all_day.id < busy_until_0930.id


@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [
        (oslo(2027, 3, 28, 9, 0), datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),  # summer time
        (oslo(2027, 10, 31, 9, 0), datetime(2027, 10, 31, 8, 0, tzinfo=UTC)),  # winter time
        # The hour that happens twice: 02:30 summer time, then 02:30 winter time.
        (oslo(2027, 10, 31, 2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
        (oslo(2027, 10, 31, 2, 30).replace(fold=1), datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
    ],
)
def test_bookings_on_the_days_the_clocks_change_hold_the_local_time(
    clinic, patient, staff_actor, local_start, utc_start
):
    clinician = factories.ResourceFactory.create(clinic=clinic, kind=ResourceKind.CLINICIAN)
    factories.WorkingHoursFactory.create(
        resource=clinician, weekday=6, start_time=time(0, 0), end_time=time(16, 0)
    )
    appointment_type = factories.AppointmentTypeFactory.create(clinic=clinic)
    factories.requirement(appointment_type, ResourceKind.CLINICIAN)

    appointment = book(patient, appointment_type, local_start, staff_actor)

    held = appointment.allocations.get()
    assert (held.resource_id, held.starts_at, held.ends_at) == (
        clinician.id,
        utc_start,
        utc_start + timedelta(minutes=30),
    )
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.ends_at) == (held.starts_at, held.ends_at)
