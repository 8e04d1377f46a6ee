"""The planning engine end to end on PostgreSQL: the services read the calendars, run the solver
and write the plan, as the API does.

A department of 50 clinicians, 30 rooms and 10 pieces of equipment, 6 weeks of working hours
about 80 % booked (bench/_seed.py), and 500 open booking tasks for a 30-minute consultation
(clinician + room) with random windows, deadlines and priorities. Prints:
  (a) offers for one task (the other 499 are the competition): p50/p95 over 100 tasks;
  (b) a batch plan for all 500 tasks, then applying it: times, placed, deadlines met;
  (c) a sick day: one clinician absent for a day; re-plan proposal and applying it;
and the overlapping allocations afterwards (must be 0).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/timevalg python bench/bench_planning_db.py
(it creates and drops its own database timevalg_bench_planning). Data from random.Random(2027).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import (
    OVERLAPPING_ALLOCATIONS_SQL,
    log,
    percentile,
    shown_url,
    use_bench_database,
)

DB_NAME = "timevalg_bench_planning"
SEED = 2027
WEEKS = 6
TASKS = 500
OFFER_REQUESTS = 100
TASK_TYPE = "Poliklinisk konsultasjon"


def main() -> None:
    original_url = use_bench_database(DB_NAME, "bench/bench_planning_db.py")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import _seed
    from booking.models import Absence, AbsenceReason, Appointment
    from booking.services import SYSTEM
    from planning import services
    from planning.models import BookingTask, BookingTaskStatus

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    log("seeding the department")
    first_monday = _seed.next_monday(datetime.now(_seed.TZ).date())
    dept = _seed.create_department(first_monday, WEEKS)
    patients = _seed.create_patients(rng, 3000)
    _seed.fill(rng, dept, patients)
    task_patients = _seed.create_patients(rng, TASKS, prefix="task")
    today = datetime.now(_seed.TZ).date()
    tasks = BookingTask.objects.bulk_create(
        _task(dept, patient, first_monday, today, rng) for patient in task_patients
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def overlaps() -> int:
        with connection.cursor() as cursor:
            cursor.execute(OVERLAPPING_ALLOCATIONS_SQL)
            return int(cursor.fetchone()[0])

    lines = [f"DATABASE_URL={shown_url(original_url)} python bench/bench_planning_db.py"]
    lines.append(
        f"department: 50 clinicians, 30 rooms, 10 equipment, {WEEKS} weeks ~80 % booked "
        f"({Appointment.objects.count():,} appointments), {TASKS} open booking tasks"
    )

    log(f"(a) offers for {OFFER_REQUESTS} tasks")
    timings, counts = [], []
    for task in rng.sample(tasks, OFFER_REQUESTS):
        task = BookingTask.objects.select_related("clinic", "appointment_type").get(pk=task.pk)
        started = time.perf_counter()
        page = services.booking_task_offers(task=task)
        timings.append((time.perf_counter() - started) * 1000)
        counts.append(len(page.offers))
    lines.append(
        f"(a) offers, one task vs {TASKS - 1} others: p50 {percentile(timings, 50):.0f} ms, "
        f"p95 {percentile(timings, 95):.0f} ms, max {max(timings):.0f} ms; "
        f"{statistics.mean(counts):.1f} offers per task"
    )

    log("(b) batch plan")
    started = time.perf_counter()
    proposal = services.propose_batch(clinic=dept.clinic)
    propose_s = time.perf_counter() - started
    items = list(proposal.items.all())
    placed = [i for i in items if i.starts_at is not None]
    started = time.perf_counter()
    services.apply_proposal(proposal=proposal, actor=SYSTEM)
    apply_s = time.perf_counter() - started
    assigned = BookingTask.objects.filter(status=BookingTaskStatus.ASSIGNED).count()
    lines.append(
        f"(b) batch of {len(items)} tasks: proposed in {propose_s:.1f} s (solver "
        f"{proposal.solver_status}, {proposal.wall_time_s:.1f} s), {len(placed)} placed, "
        f"{sum(i.deadline_met for i in placed)} deadlines met; applied in {apply_s:.1f} s, "
        f"{assigned} tasks assigned"
    )

    log("(c) sick day")
    doctor = dept.resources["clinician"][0]
    day = first_monday + timedelta(days=8)
    # bulk_create sends no signal: the service is measured here, not the background job.
    (absence,) = Absence.objects.bulk_create(
        [
            Absence(
                resource=doctor,
                starts_at=datetime.combine(day, datetime.min.time(), tzinfo=_seed.TZ),
                ends_at=datetime.combine(
                    day + timedelta(days=1), datetime.min.time(), tzinfo=_seed.TZ
                ),
                reason=AbsenceReason.SICK,
            )
        ]
    )
    started = time.perf_counter()
    replan = services.propose_replan(absence=absence)
    replan_s = time.perf_counter() - started
    replan_items = list(replan.items.all())
    moved = [i for i in replan_items if i.starts_at is not None]
    started = time.perf_counter()
    services.apply_proposal(proposal=replan, actor=SYSTEM)
    replan_apply_s = time.perf_counter() - started
    lines.append(
        f"(c) sick day, {len(replan_items)} appointments hit: proposed in {replan_s:.1f} s "
        f"(solver {replan.solver_status}, {replan.wall_time_s:.2f} s), "
        f"{sum(i.days_moved == 0 for i in moved)} moved within the day, "
        f"{sum(i.days_moved != 0 for i in moved)} to another day, "
        f"{len(replan_items) - len(moved)} cancelled for a new choice; applied in "
        f"{replan_apply_s:.1f} s"
    )
    lines.append(f"overlapping allocations afterwards: {overlaps()}")
    print("\n".join(lines))


def _task(dept, patient, first_monday: date, today: date, rng: random.Random):
    from planning.models import BookingTask

    earliest = first_monday + timedelta(days=rng.randrange(0, 14))
    latest = earliest + timedelta(days=21)
    return BookingTask(
        clinic=dept.clinic,
        patient=patient,
        appointment_type=dept.types[TASK_TYPE],
        earliest_date=earliest,
        latest_date=latest,
        deadline=earliest + timedelta(days=rng.randrange(7, 29)),
        respond_by=today - timedelta(days=1),
        priority=rng.choice((1, 2, 3, 3, 3)),
    )


if __name__ == "__main__":
    main()
