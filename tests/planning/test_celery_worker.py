"""The background jobs on a real Celery worker, with Redis as the broker and result backend and
the test's PostgreSQL database. The worker runs in real time, so dates here are relative to
today rather than to the test clock."""

import os
import subprocess
import sys
import time as time_module
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from booking.models import Absence
from booking.services import SYSTEM, appointment_book
from planning import background
from planning.models import BookingTaskStatus, PlanItem, PlanProposal, PlanStatus
from planning.tasks import make_batch_plan, plan_overdue_booking_tasks, propose_replan_for_absence
from tests.planning.conftest import make_task

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT_S = 90


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    """A Celery worker on a queue of its own, so no other worker takes the test's jobs."""
    queue = f"test-{uuid.uuid4().hex}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_DEBUG": "true"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--queues",
            queue,
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
    )
    yield queue
    process.terminate()
    process.wait(timeout=30)


def next_weekday(days_ahead: int):
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_worker_assigns_times_to_overdue_tasks(worker_queue, exam_type):
    today = timezone.localdate()
    task = make_task(
        exam_type,
        earliest_date=today + timedelta(days=2),
        latest_date=today + timedelta(days=30),
        respond_by=today - timedelta(days=1),
    )

    result = plan_overdue_booking_tasks.apply_async(queue=worker_queue)
    applied = result.get(timeout=RESULT_TIMEOUT_S)

    assert len(applied) == 1
    task.refresh_from_db()
    assert task.status == BookingTaskStatus.ASSIGNED
    assert task.appointment is not None


def test_a_worker_prepares_a_replan_for_an_absence(worker_queue, exam_type, doctor_a, exam_room):
    day = next_weekday(3)
    starts_at = datetime.combine(day, time(9), tzinfo=exam_type.clinic.tz)
    appointment = appointment_book(
        patient=make_task(exam_type).patient,
        appointment_type=exam_type,
        starts_at=starts_at,
        actor=SYSTEM,
        resource_ids=[doctor_a.pk, exam_room.pk],
    )
    # bulk_create sends no signal: the job is sent to the test's worker by hand below.
    (absence,) = Absence.objects.bulk_create(
        [
            Absence(
                resource=doctor_a,
                starts_at=starts_at - timedelta(hours=1),
                ends_at=starts_at + timedelta(hours=3),
                reason="sick",
            )
        ]
    )

    result = propose_replan_for_absence.apply_async(args=(absence.pk,), queue=worker_queue)
    proposal_id = result.get(timeout=RESULT_TIMEOUT_S)

    item = PlanItem.objects.get(proposal_id=proposal_id)
    assert item.appointment == appointment
    assert doctor_a.pk not in item.resource_ids


def test_a_worker_makes_the_batch_plan_a_secretary_asked_for(worker_queue, monkeypatch, exam_type):
    today = timezone.localdate()
    task = make_task(
        exam_type,
        earliest_date=today + timedelta(days=2),
        latest_date=today + timedelta(days=30),
    )
    monkeypatch.setattr(
        make_batch_plan,
        "delay",
        lambda *args: make_batch_plan.apply_async(args=args, queue=worker_queue),
    )

    proposal = background.request_batch(clinic=exam_type.clinic)

    deadline = time_module.monotonic() + RESULT_TIMEOUT_S
    while proposal.status == PlanStatus.PLANNING and time_module.monotonic() < deadline:
        time_module.sleep(0.2)
        proposal = PlanProposal.objects.get(pk=proposal.pk)
    assert proposal.status == PlanStatus.PROPOSED
    (item,) = proposal.items.all()
    assert item.booking_task == task
    assert item.starts_at is not None
