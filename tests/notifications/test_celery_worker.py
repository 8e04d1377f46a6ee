"""The outbox on the real components: a Celery worker with its beat, Redis as the broker, the
test's PostgreSQL database and an SMS gateway on loopback. The worker runs in real time, so the
appointment is a few days from today and the quiet hours are put where now is not."""

import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from booking.services import SYSTEM, appointment_book
from notifications.models import Notification, NotificationStatus, Purpose
from tests.notifications.servers import sms_gateway

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 90


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _quiet_hours_elsewhere() -> str:
    """Quiet hours two to three hours from now, so that now is not in them."""
    now = timezone.localtime()
    start, end = now + timedelta(hours=2), now + timedelta(hours=3)
    return f"{start:%H:%M},{end:%H:%M}"


@pytest.fixture
def gateway():
    with sms_gateway() as gateway:
        yield gateway


@pytest.fixture
def worker_with_beat(gateway, tmp_path, settings):
    """A worker that runs its own beat (a tick a second) on a queue of its own. The quiet hours
    are the same in this process, which writes the notice, and in the worker, which sends it."""
    quiet = _quiet_hours_elsewhere()
    settings.NOTIFICATIONS_QUIET_HOURS = tuple(quiet.split(","))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_DEBUG": "true",
        "CELERY_DEFAULT_QUEUE": f"test-{uuid.uuid4().hex}",
        "NOTIFICATIONS_DISPATCH_EVERY_S": "1",
        "NOTIFICATIONS_QUIET_HOURS": quiet,
        "NOTIFICATIONS_SMS_BACKEND": "notifications.channels.HttpGatewaySms",
        "NOTIFICATIONS_SMS_GATEWAY_URL": gateway.url,
        "NOTIFICATIONS_SMS_GATEWAY_USER": gateway.user,
        "NOTIFICATIONS_SMS_GATEWAY_PASSWORD": gateway.password,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def _weekday_at_ten(days_ahead: int, tz) -> datetime:
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=tz).replace(hour=10)


def test_the_beat_and_a_worker_deliver_a_bookings_sms_once(
    worker_with_beat, gateway, control_type, patient
):
    appointment = appointment_book(
        patient=patient,
        appointment_type=control_type,
        starts_at=_weekday_at_ten(3, control_type.clinic.tz),
        actor=SYSTEM,
    )
    booked = Notification.objects.get(appointment=appointment, purpose=Purpose.BOOKED)

    deadline = time.monotonic() + WAIT_S
    while not gateway.received and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # three more ticks: none may send it again

    assert [m["reference"] for m in gateway.received] == [str(booked.pk)]
    booked.refresh_from_db()
    assert booked.status == NotificationStatus.SENT
    assert worker_with_beat.poll() is None  # the worker is still running
