"""The outbox is written in the transaction of the change: one notice per channel the patient
wants for each booking, move and cancellation, whoever makes it, and reminders for the time
the appointment has now."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from booking import configuration
from booking.errors import PatientBusy, SlotUnavailable
from booking.models import EventCause
from booking.services import (
    SYSTEM,
    PlannedMove,
    appointment_cancel,
    appointment_reschedule,
    appointments_move,
    staff_actor,
)
from notifications.models import Channel, Notification, NotificationStatus, Purpose
from notifications.services import dispatch_due
from tests import factories
from tests.conftest import oslo
from tests.notifications.conftest import WED_10

pytestmark = pytest.mark.django_db

THU_14 = oslo(2027, 1, 14, 14, 0)


def notices(appointment, purpose=None):
    rows = Notification.objects.filter(appointment=appointment).exclude(purpose=Purpose.REMINDER)
    return list(rows if purpose is None else rows.filter(purpose=purpose))


def reminders(appointment, status=NotificationStatus.PENDING):
    return sorted(
        Notification.objects.filter(
            appointment=appointment, purpose=Purpose.REMINDER, status=status
        ).values_list("channel", "lead_hours", "due_at")
    )


def test_a_booking_gives_one_notice_and_the_types_reminders(clock, book):
    appointment = book()

    (notice,) = notices(appointment)
    assert (notice.purpose, notice.channel, notice.status) == ("booked", "sms", "pending")
    assert notice.starts_at == WED_10
    assert reminders(appointment) == [
        ("sms", 24, WED_10 - timedelta(hours=24)),
        ("sms", 168, WED_10 - timedelta(hours=168)),
    ]


def test_one_notice_per_channel_the_patient_wants(clock, book, patient):
    patient.notify_by_email = True
    patient.save()
    both = book()
    patient.notify_by_sms = patient.notify_by_email = False
    patient.save()
    neither = book(THU_14)

    assert sorted(n.channel for n in notices(both)) == ["email", "sms"]
    assert len(reminders(both)) == 4
    assert notices(neither) == []
    assert reminders(neither) == []


def test_a_reminder_whose_time_has_passed_is_not_written(clock, book):
    appointment = book(oslo(2027, 1, 6, 10, 0))  # in two days: the 7-day reminder is past

    assert [hours for _, hours, _ in reminders(appointment)] == [24]


def test_the_types_reminder_hours_are_its_own(clock, book, control_type):
    configuration.appointment_type_update(appointment_type=control_type, reminder_hours=[48, 2])

    appointment = book()

    assert [hours for _, hours, _ in reminders(appointment)] == [2, 48]


@pytest.mark.parametrize(
    "hours", [[0], [24, 24], [1, 2, 3, 4, 5, 6], [24 * 61], ["24"], [True], 24, [1.5]]
)
def test_reminder_hours_must_be_a_short_list_of_whole_hours(control_type, hours):
    with pytest.raises(ValidationError) as refused:
        configuration.appointment_type_update(appointment_type=control_type, reminder_hours=hours)
    assert "reminder_hours" in refused.value.message_dict


def test_a_move_gives_one_notice_and_replaces_the_reminders(clock, book, patient):
    appointment = book()

    appointment_reschedule(appointment=appointment, starts_at=THU_14, actor=SYSTEM)

    (moved,) = notices(appointment, Purpose.MOVED)
    assert (moved.previous_starts_at, moved.starts_at) == (WED_10, THU_14)
    assert reminders(appointment) == [
        ("sms", 24, THU_14 - timedelta(hours=24)),
        ("sms", 168, THU_14 - timedelta(hours=168)),
    ]
    assert [hours for _, hours, _ in reminders(appointment, NotificationStatus.DROPPED)] == [
        24,
        168,
    ]


def test_a_cancellation_gives_one_notice_and_drops_the_reminders(clock, book):
    appointment = book()

    appointment_cancel(appointment=appointment, actor=SYSTEM)

    assert len(notices(appointment, Purpose.CANCELLED)) == 1
    assert reminders(appointment) == []


def test_a_replan_by_the_clinic_notifies_each_moved_patient_once(clock, book, clinic):
    first = book()
    second = book(WED_10 + timedelta(hours=1), who=factories.PatientFactory.create())
    planner = staff_actor(factories.UserFactory.create())
    resource_ids = sorted(first.allocations.values_list("resource_id", flat=True))

    appointments_move(
        [
            PlannedMove(first.pk, WED_10, THU_14, resource_ids),
            PlannedMove(second.pk, second.starts_at, WED_10, resource_ids),
        ],
        actor=planner,
        cause=EventCause.CLINIC_REPLANNING,
    )

    assert len(notices(first, Purpose.MOVED)) == 1
    assert len(notices(second, Purpose.MOVED)) == 1
    assert {r[2] for r in reminders(second)} == {
        WED_10 - timedelta(hours=24),
        WED_10 - timedelta(hours=168),
    }


def test_the_unique_key_refuses_a_second_reminder_for_the_same_time(clock, book):
    appointment = book()
    reminder = Notification.objects.filter(appointment=appointment, purpose="reminder").first()
    assert reminder is not None

    reminder.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        reminder.save()


def test_moving_back_to_a_time_gives_its_reminders_again(clock, book):
    appointment = book()
    appointment_reschedule(appointment=appointment, starts_at=THU_14, actor=SYSTEM)

    appointment_reschedule(appointment=appointment, starts_at=WED_10, actor=SYSTEM)

    assert [(c, h) for c, h, _ in reminders(appointment)] == [("sms", 24), ("sms", 168)]


def test_a_rolled_back_change_writes_nothing_and_sends_nothing(clock, book, recorded):
    class Abandoned(Exception):
        pass

    written = []

    def book_then_give_up():
        with transaction.atomic():
            book()
            written.append(Notification.objects.count())
            raise Abandoned

    with pytest.raises(Abandoned):
        book_then_give_up()

    assert written == [3]
    assert Notification.objects.count() == 0
    clock.move_to(WED_10)
    assert dispatch_due() == 0
    assert recorded == []


def test_a_rolled_back_move_keeps_the_reminders_of_the_old_time(clock, book):
    appointment = book()

    def move_then_give_up():
        with transaction.atomic():
            appointment_reschedule(appointment=appointment, starts_at=THU_14, actor=SYSTEM)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        move_then_give_up()

    assert notices(appointment, Purpose.MOVED) == []
    assert {r[2] + timedelta(hours=r[1]) for r in reminders(appointment)} == {WED_10}


def test_a_failed_booking_writes_no_notice(clock, book, patient):
    book()

    with pytest.raises((PatientBusy, SlotUnavailable)):
        book()  # the patient and the resources are busy then

    assert Notification.objects.filter(purpose=Purpose.BOOKED).count() == 1
    assert Notification.objects.filter(channel=Channel.SMS).count() == 3
