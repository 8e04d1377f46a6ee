"""Dispatchers at once on a real PostgreSQL server, each thread on its own connection (closed
at the end): skip_locked gives each due row to one of them."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from booking.services import SYSTEM, appointment_reschedule
from notifications.models import Notification, NotificationStatus, Purpose
from notifications.services import dispatch_due
from tests.conftest import oslo
from tests.notifications.backends import Held
from tests.notifications.conftest import WED_10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MON_9 = oslo(2027, 1, 4, 9)


def in_threads(*actions):
    results = [None] * len(actions)
    barrier = threading.Barrier(len(actions))

    def run(index, action):
        try:
            barrier.wait(timeout=15)
            results[index] = action()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    return threads, results


def test_two_dispatchers_at_once_deliver_each_notice_once(clock, book, recorded, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Slow"
    appointment = book()
    booked = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)
    fields = [f.attname for f in Notification._meta.concrete_fields if f.attname != "id"]
    copies = [Notification(**{name: getattr(booked, name) for name in fields}) for _ in range(199)]
    Notification.objects.bulk_create(copies)

    threads, handled = in_threads(lambda: dispatch_due(now=MON_9), lambda: dispatch_due(now=MON_9))
    for thread in threads:
        thread.join(timeout=60)

    assert sum(handled) == 200
    assert min(handled) > 0  # both took part
    assert max(Counter(m.reference for m in recorded).values()) == 1
    assert len(recorded) == 200
    assert set(
        Notification.objects.filter(purpose=Purpose.BOOKED).values_list("status", flat=True)
    ) == {NotificationStatus.SENT}


def test_a_move_waits_for_the_reminder_being_sent_and_then_replaces_the_rest(
    clock, book, recorded, settings
):
    """The reminder being sent is of the time the appointment still has (the move is not
    committed); the move waits for it, and no reminder of the old time goes after the move."""
    settings.NOTIFICATIONS_SMS_BACKEND = "tests.notifications.backends.Held"
    Held.entered.clear()
    Held.release.clear()
    appointment = book()
    Notification.objects.filter(purpose=Purpose.BOOKED).update(status=NotificationStatus.SENT)
    due = WED_10 - timedelta(hours=168)
    new_time = WED_10 + timedelta(days=1)

    (sending,), _ = in_threads(lambda: dispatch_due(now=due, limit=1))
    assert Held.entered.wait(timeout=15)
    (moving,), _ = in_threads(
        lambda: appointment_reschedule(appointment=appointment, starts_at=new_time, actor=SYSTEM)
    )
    moving.join(timeout=1)
    assert moving.is_alive()  # waiting for the reminder's row
    Held.release.set()
    sending.join(timeout=15)
    moving.join(timeout=15)

    reminders = Notification.objects.filter(purpose=Purpose.REMINDER)
    assert sorted(reminders.values_list("starts_at", "lead_hours", "status")) == [
        (WED_10, 24, NotificationStatus.DROPPED),
        (WED_10, 168, NotificationStatus.SENT),
        (new_time, 24, NotificationStatus.PENDING),
        (new_time, 168, NotificationStatus.PENDING),
    ]
