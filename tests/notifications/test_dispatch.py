"""The dispatcher: due notices go once, failures are tried again with backoff and then marked
failed, no SMS goes in the quiet hours, and a reminder of a time the appointment no longer has
is never sent."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from booking.models import Appointment
from booking.services import SYSTEM, appointment_cancel, appointment_reschedule
from notifications.models import Channel, Notification, NotificationStatus, Purpose
from notifications.services import dispatch_due, first_allowed
from tests.conftest import oslo
from tests.notifications.backends import Failing
from tests.notifications.conftest import WED_10

pytestmark = pytest.mark.django_db

MON_9 = oslo(2027, 1, 4, 9, 0)  # the test clock's day, after the quiet hours


def purposes(recorded):
    return [m.reference for m in recorded]


def test_a_due_notice_is_sent_once_and_marked_sent(clock, book, recorded):
    appointment = book()
    clock.move_to(MON_9)

    assert dispatch_due() == 1
    assert dispatch_due() == 0

    (message,) = recorded
    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert message.reference == str(notice.pk)
    assert message.recipient == appointment.patient.phone
    assert (notice.status, notice.attempts, notice.sent_at) == ("sent", 1, MON_9)


def test_a_reminder_goes_when_it_is_due(clock, book, recorded):
    appointment = book()
    clock.move_to(MON_9)
    dispatch_due()

    clock.move_to(WED_10 - timedelta(hours=168, minutes=1))
    assert dispatch_due() == 0
    clock.move_to(WED_10 - timedelta(hours=168))
    assert dispatch_due() == 1

    reminder = Notification.objects.get(appointment=appointment, lead_hours=168)
    assert reminder.status == NotificationStatus.SENT
    assert len(recorded) == 2


def test_a_failing_channel_is_retried_with_backoff_then_marked_failed(clock, book, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Failing"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    appointment = book()
    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    clock.move_to(MON_9)

    waits = []
    for _ in range(3):
        assert dispatch_due() == 1
        notice.refresh_from_db()
        assert notice.status == NotificationStatus.PENDING
        waits.append(notice.next_attempt_at - datetime.now(UTC))
        clock.move_to(notice.next_attempt_at - timedelta(seconds=1))
        assert dispatch_due() == 0  # not before its time
        clock.move_to(notice.next_attempt_at)
    assert dispatch_due() == 1

    notice.refresh_from_db()
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert (notice.status, notice.attempts) == ("failed", 4)
    assert "the gateway is down" in notice.last_error
    assert Failing.attempts == 4
    clock.move_to(MON_9 + timedelta(hours=1))
    assert dispatch_due() == 0  # failed stays failed


def test_a_refused_number_fails_at_once(clock, book, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Refusing"
    appointment = book()
    clock.move_to(MON_9)

    dispatch_due()

    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert (notice.status, notice.attempts, notice.last_error) == ("failed", 1, "no such number")


def test_a_patient_without_a_number_fails_at_once(clock, book, patient, recorded):
    patient.phone = ""
    patient.save()
    appointment = book()
    clock.move_to(MON_9)

    dispatch_due()

    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert notice.status == NotificationStatus.FAILED
    assert recorded == []


# The quiet hours, 21:00-08:00 in Oslo, on the nights before both daylight-saving Sundays of 2027
# and on an ordinary night: an SMS due then waits for 08:00 local time, whatever its UTC offset.
@pytest.mark.parametrize(
    ("due", "goes"),
    [
        (oslo(2027, 3, 27, 22, 30), datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),  # spring: +02:00
        (oslo(2027, 3, 28, 1, 30), datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),  # before 02:00
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),
        (oslo(2027, 10, 30, 21, 0), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),  # autumn: +01:00
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        (oslo(2027, 1, 4, 7, 59), oslo(2027, 1, 4, 8, 0)),
        (oslo(2027, 1, 4, 20, 59), oslo(2027, 1, 4, 20, 59)),  # not quiet yet
        (oslo(2027, 1, 4, 8, 0), oslo(2027, 1, 4, 8, 0)),
    ],
)
def test_an_sms_due_in_the_quiet_hours_waits_for_eight_local(due, goes):
    assert first_allowed(Channel.SMS, due) == goes
    assert first_allowed(Channel.EMAIL, due) == due


@pytest.mark.parametrize(
    ("night", "morning_utc"),
    [
        (oslo(2027, 3, 27, 23, 0), datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),
        (oslo(2027, 10, 30, 23, 0), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_dispatcher_holds_an_sms_until_the_morning_on_both_clock_change_nights(
    book, patient, recorded, night, morning_utc
):
    patient.notify_by_email = True
    patient.email = "kari@example.no"
    patient.save()
    with time_machine.travel(night, tick=False) as traveller:
        appointment = book(oslo(2027, 11, 3, 10, 0) if night.month == 10 else oslo(2027, 4, 7, 10))
        sms = Notification.objects.get(appointment=appointment, purpose="booked", channel="sms")
        assert sms.next_attempt_at == morning_utc

        assert dispatch_due() == 1  # the e-mail goes at once
        traveller.move_to(morning_utc - timedelta(seconds=1))
        assert dispatch_due() == 0
        traveller.move_to(morning_utc)
        assert dispatch_due() == 1

    assert [m.recipient for m in recorded] == [patient.email, patient.phone]


def test_a_retry_that_falls_in_the_quiet_hours_waits_for_the_morning(book, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Failing"
    with time_machine.travel(oslo(2027, 1, 4, 20, 59) + timedelta(seconds=30), tick=False):
        appointment = book()
        dispatch_due()

    notice = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    assert notice.next_attempt_at == oslo(2027, 1, 5, 8, 0)


def test_a_moved_appointments_old_reminder_is_never_sent(clock, book, recorded):
    appointment = book()
    clock.move_to(MON_9)
    dispatch_due()
    new_time = WED_10 + timedelta(days=2)
    appointment_reschedule(appointment=appointment, starts_at=new_time, actor=SYSTEM)
    dispatch_due()
    recorded.clear()

    for day in range(12):  # every day until after the new time, every reminder due
        clock.move_to(MON_9 + timedelta(days=day, hours=1, minutes=1))
        dispatch_due()

    sent = Notification.objects.filter(id__in=[int(m.reference) for m in recorded])
    assert sorted(sent.values_list("purpose", "starts_at")) == [
        ("reminder", new_time),
        ("reminder", new_time),
    ]


def test_a_reminder_found_stale_when_it_is_due_is_dropped(clock, book, recorded):
    """Even if the reminder of the old time were still waiting (a change made around the
    services), the dispatcher checks the time before sending."""
    appointment = book()
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=WED_10 + timedelta(hours=1), ends_at=WED_10 + timedelta(hours=1, minutes=30)
    )
    clock.move_to(WED_10 - timedelta(hours=24))

    dispatch_due()

    assert Notification.objects.filter(status="dropped").count() == 2
    assert [int(m.reference) for m in recorded] == [
        Notification.objects.get(purpose=Purpose.BOOKED).pk
    ]


def test_a_cancelled_appointments_reminders_are_never_sent(clock, book, recorded):
    appointment = book()
    appointment_cancel(appointment=appointment, actor=SYSTEM)
    clock.move_to(WED_10)

    dispatch_due()

    assert sorted(Notification.objects.get(pk=int(m.reference)).purpose for m in recorded) == [
        "booked",
        "cancelled",
    ]
