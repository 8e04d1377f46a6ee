"""Server time of every patient page on PostgreSQL, with the bench department busy around it.

50 clinicians, 30 rooms and 10 pieces of equipment, 12 weeks of working hours about 80 %
booked (bench/_seed.py), and 500 open booking tasks in the clinic, whose times the patient's
own task must leave for the more urgent ones. The patient has an open booking task, a booked
appointment with preparations and a page of access log. Every page is asked for through
Django's test client in this process (middleware, view, queries and template, no network):
p50 and p95 over the requests, and the queries one request makes. Before the requests the
process freezes what it holds for the garbage collector, as the production gunicorn master does
(`config/gunicorn_conf.py`); without it a full collection walks the framework and the seeding's
objects (~130 ms here) every few choose-a-time pages. `-v` prints every request's time; each
request starts without the plans the offers engine keeps between requests (`--warm` keeps them).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/timevalg python bench/bench_portal.py
`--profile[=tottime]` adds a cProfile of five choose-a-time pages and the queries of one. It
creates and drops its own database timevalg_bench_portal. Data from random.Random(2028).
"""

from __future__ import annotations

import gc
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import log, percentile, shown_url, use_bench_database

DB_NAME = "timevalg_bench_portal"
SEED = 2028
WEEKS = 12
TASKS = 500
REQUESTS = 30
WARM_UP = 3
TASK_TYPE = "Poliklinisk konsultasjon"
TARGET_P95_MS = 200
# Every request starts cold: the offers engine keeps the plans of its last few requests, and the
# same page asked 33 times would otherwise measure the kept plan (`--warm` measures that).
WARM = "--warm" in sys.argv


def main() -> None:
    original_url = use_bench_database(DB_NAME, "bench/bench_portal.py")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from audit.services import record_staff_read
    from bench import _seed
    from bench.bench_planning_db import _task
    from booking.models import Appointment, PreparationTemplate
    from booking.selectors import available_starts
    from booking.services import SYSTEM, appointment_book
    from cores.solver.offers import forget_kept_plans
    from planning import services
    from planning.models import BookingTask

    setup_test_environment()
    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    log("seeding the department")
    today = datetime.now(_seed.TZ).date()
    first_monday = _seed.next_monday(today)
    dept = _seed.create_department(first_monday, WEEKS)
    patients = _seed.create_patients(rng, 4000)
    _seed.fill(rng, dept, patients)
    others = _seed.create_patients(rng, TASKS, prefix="task")
    BookingTask.objects.bulk_create(_task(dept, p, first_monday, today, rng) for p in others)
    (kari,) = _seed.create_patients(rng, 1, prefix="kari")
    from django.contrib.auth.models import User

    user = User.objects.create_user("kari", password="bench-password", first_name="Kari")
    kari.user = user
    kari.save(update_fields=["user"])
    kind = dept.types[TASK_TYPE]
    PreparationTemplate.objects.create(
        appointment_type=kind, title="Medisinliste", timing="deadline", days_before=2
    )
    task = services.booking_task_create(
        patient=kari,
        appointment_type=kind,
        earliest_date=first_monday,
        latest_date=first_monday + timedelta(days=20),
        respond_by=first_monday + timedelta(days=3),
    )
    window_start = datetime.combine(
        first_monday + timedelta(days=14), datetime.min.time(), _seed.TZ
    )
    free = available_starts(
        appointment_type=kind, start=window_start, end=window_start + timedelta(days=7)
    )
    booked = appointment_book(patient=kari, appointment_type=kind, starts_at=free[0], actor=SYSTEM)
    staff = User.objects.create_user("sekretaer", first_name="Siri")
    for _ in range(25):
        record_staff_read(staff_user=staff, patients=[kari], action="booking task")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    offer = services.booking_task_offers(task=task, count=1).offers[0]
    day = offer.starts_at.astimezone(_seed.TZ).date().isoformat()
    chosen = offer.starts_at.isoformat().replace("+", "%2B")
    change_day = free[-1].astimezone(_seed.TZ).date().isoformat()
    pages = {
        "overview": "/",
        "choose a time: days": f"/timeoppgaver/{task.pk}/",
        "choose a time: a day": f"/timeoppgaver/{task.pk}/?dag={day}",
        "confirm": f"/timeoppgaver/{task.pk}/bekreft/?tid={chosen}",
        "appointment": f"/timer/{booked.pk}/",
        "calendar file": f"/timer/{booked.pk}/kalender.ics",
        "change: days": f"/timer/{booked.pk}/endre/",
        "change: a day": f"/timer/{booked.pk}/endre/?dag={change_day}",
        "cancel": f"/timer/{booked.pk}/avbestill/",
        "earlier time": f"/timer/{booked.pk}/tidligere-time/",
        "preparations": "/forberedelser/",
        "availability": "/tilgjengelighet/",
        "notices": "/varsler/",
        "access log": "/innsyn/",
    }
    # As the gunicorn master does before its workers fork (config/gunicorn_conf.py): what
    # the process holds now (the framework, and here the seeding's leftovers) is moved out of
    # the collector's sight, so a full collection during a page walks what requests made.
    gc.collect()
    gc.freeze()
    client = Client()
    client.force_login(user)
    lines = [
        f"DATABASE_URL={shown_url(original_url)} python bench/bench_portal.py",
        f"department: 50 clinicians, 30 rooms, 10 equipment, {WEEKS} weeks ~80 % booked "
        f"({Appointment.objects.count():,} appointments), {TASKS} other open booking tasks",
        f"{'page':<24}{'p50 ms':>8}{'p95 ms':>8}{'queries':>9}",
    ]
    worst = 0.0
    for name, path in pages.items():
        log(name)
        timings = []
        for attempt in range(WARM_UP + REQUESTS):
            if not WARM:
                forget_kept_plans()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if attempt >= WARM_UP:
                timings.append(elapsed)
        p95 = percentile(timings, 95)
        worst = max(worst, p95)
        count = len(queries.captured_queries)
        lines.append(f"{name:<24}{percentile(timings, 50):>8.0f}{p95:>8.0f}{count:>9}")
        if "-v" in sys.argv:
            lines.append("    " + " ".join(f"{t:.0f}" for t in timings))
    profile = [a.split("=", 1)[-1] for a in sys.argv if a.startswith("--profile")]
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            client.get(pages["choose a time: days"])
        profiler.disable()
        sort = profile[0] if profile[0] != "--profile" else "cumulative"
        pstats.Stats(profiler).sort_stats(sort).print_stats(35)
        with CaptureQueriesContext(connection) as queries:
            client.get(pages["choose a time: days"])
        for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"])):
            print(f"{float(query['time']) * 1000:6.1f} ms  {str(query['sql'])[:300]}")
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    lines.append(
        f"slowest page p95 {worst:.0f} ms (target every page p95 < {TARGET_P95_MS} ms: {verdict})"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
