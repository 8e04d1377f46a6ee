"""The outbox's dispatcher on PostgreSQL: 10,000 due notices to an SMS gateway on loopback.

The gateway is an http.server in a process of its own (so it takes no CPU from the
dispatchers' interpreters) that answers 200 and counts every reference it receives. The
dispatchers are processes running `notifications.services.dispatch_due` at once, as Celery
workers would, each claiming rows with select_for_update(skip_locked). Figures: notices per
second from the first claim to the last commit, and what the gateway received: each notice
exactly once (target: at least 500 per second, none twice).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/timevalg python bench/bench_notifications.py
Options: --count (10,000), --processes (dispatchers at once, 4). It creates and drops its own
database timevalg_bench_notifications (BENCH_DATABASE_NAME to name another).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import log, shown_url, use_bench_database

DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "timevalg_bench_notifications")
TARGET_PER_S = 500
PER_APPOINTMENT = 10
BORN = date(1950, 1, 1)
# The dispatchers' clock: a weekday noon, outside the quiet hours.
NOW = datetime(2027, 1, 6, 12, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def _gateway(port_out: Any, stop: Any) -> None:
    received: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps a dispatcher's connection open
        disable_nagle_algorithm = True  # headers and body go out at once

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                received[body["reference"]] += 1
            self._answer(b'{"status": "accepted"}')

        def do_GET(self) -> None:
            with lock:
                self._answer(json.dumps(received).encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()


def _dispatcher(start: Any, results: Any) -> None:
    from notifications.services import dispatch_due

    start.wait()
    began = time.perf_counter()
    handled = dispatch_due(now=NOW)
    cpu = time.process_time()
    results.put((handled, time.perf_counter() - began, cpu))


def _seed(count: int) -> None:
    from booking.models import Appointment, AppointmentType, Clinic
    from notifications.models import Notification
    from patients.models import Patient
    from tests.factories import national_id

    clinic = Clinic.objects.create(name="Bench-klinikken")
    kind = AppointmentType.objects.create(clinic=clinic, name="Kontroll", duration_minutes=30)
    appointments = -(-count // PER_APPOINTMENT)
    patients = Patient.objects.bulk_create(
        Patient(
            national_id=national_id(BORN + timedelta(days=i)),
            birth_date=BORN + timedelta(days=i),
            given_name="Kari",
            family_name=f"Nordmann{i}",
            phone=f"+479{i:07d}",
            preferred_language=("nb", "nn", "en")[i % 3],
        )
        for i in range(appointments)
    )
    starts = NOW + timedelta(days=7)
    booked = Appointment.objects.bulk_create(
        Appointment(
            patient=p,
            appointment_type=kind,
            clinic=clinic,
            starts_at=starts + timedelta(minutes=30 * i),
            ends_at=starts + timedelta(minutes=30 * i + 30),
        )
        for i, p in enumerate(patients)
    )
    due = NOW - timedelta(minutes=1)
    Notification.objects.bulk_create(
        [
            Notification(
                appointment=a,
                clinic=clinic,
                channel="sms",
                purpose=("booked", "moved", "cancelled")[n % 3],
                starts_at=a.starts_at,
                previous_starts_at=a.starts_at - timedelta(days=1),
                due_at=due,
                next_attempt_at=due,
            )
            for a in booked
            for n in range(PER_APPOINTMENT)
        ][:count],
        batch_size=2000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="due notices (10,000)")
    parser.add_argument("--processes", type=int, default=4, help="dispatchers at once (4)")
    args = parser.parse_args()

    original_url = use_bench_database(DB_NAME, "bench/bench_notifications.py")
    import django

    fork = multiprocessing.get_context("fork")
    port_out, stop = fork.Queue(), fork.Event()
    gateway = fork.Process(target=_gateway, args=(port_out, stop), daemon=True)
    gateway.start()
    port = port_out.get(timeout=10)
    os.environ.update(
        {
            "NOTIFICATIONS_SMS_BACKEND": "notifications.channels.HttpGatewaySms",
            "NOTIFICATIONS_SMS_GATEWAY_URL": f"http://127.0.0.1:{port}/sms",
            "NOTIFICATIONS_SMS_GATEWAY_USER": "bench",
            "NOTIFICATIONS_SMS_GATEWAY_PASSWORD": "bench",
        }
    )
    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from notifications.models import Notification

    call_command("migrate", verbosity=0)
    log(f"seeding {args.count} due notices")
    _seed(args.count)
    connections.close_all()  # each dispatcher opens its own

    start, results = fork.Event(), fork.Queue()
    dispatchers = [
        fork.Process(target=_dispatcher, args=(start, results)) for _ in range(args.processes)
    ]
    for process in dispatchers:
        process.start()
    log(f"{args.processes} dispatchers at once")
    began = time.perf_counter()
    start.set()
    done = [results.get(timeout=600) for _ in dispatchers]
    wall = time.perf_counter() - began
    for process in dispatchers:
        process.join()

    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
        received: dict[str, int] = json.loads(answer.read())
    stop.set()
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    with connection.cursor() as db:
        db.execute("SELECT version()")
        (version,) = db.fetchone()

    handled = sum(h for h, _, _ in done)
    rate = handled / wall
    twice = sum(1 for n in received.values() if n > 1)
    cpu_ms = sum(c for _, _, c in done) / max(handled, 1) * 1000
    print("-" * 100)
    print(f"Timevalg notifications bench, {datetime.now(NOW.tzinfo):%Y-%m-%d %H:%M %Z}")
    print(f"command   : DATABASE_URL={shown_url(original_url)} python bench/bench_notifications.py")
    print(f"machine   : {os.cpu_count()} CPUs, load average (1 min) {os.getloadavg()[0]:.2f}")
    print(f"software  : Python {sys.version.split()[0]}, Django {django.get_version()}, {version}")
    print(
        f"dispatch  : {handled} due SMS by {args.processes} dispatcher processes at once to the "
        f"loopback gateway in {wall:.2f} s = {rate:.0f} per second "
        f"(target >= {TARGET_PER_S}/s: {'met' if rate >= TARGET_PER_S else 'MISSED'})"
    )
    print(
        "            per dispatcher: "
        + ", ".join(f"{h} in {s:.2f} s" for h, s, _ in done)
        + f"; their CPU {cpu_ms:.2f} ms per notice (rendering, SQL, HTTP client)"
    )
    print(
        f"gateway   : received {sum(received.values())} messages for {len(received)} references; "
        f"received twice: {twice} (must be 0)"
    )
    print(f"rows      : {dict(statuses)}")
    print("-" * 100)
    if twice or statuses.get("sent", 0) != args.count:
        sys.exit(1)


if __name__ == "__main__":
    main()
