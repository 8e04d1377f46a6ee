#!/usr/bin/env python
"""Booking bench on PostgreSQL: slot search, a race for a few slots, and booking throughput.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/timevalg python bench/bench_booking.py

DATABASE_URL names the PostgreSQL server to use; the bench drops and re-creates its own database
there (`timevalg_bench`, or BENCH_DATABASE_NAME) and never touches the one in the URL. The HTTP
part serves the app with gunicorn on 127.0.0.1:8123 and uses Redis (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/14, and BENCH_REDIS_CACHE_URL, default redis://127.0.0.1:6379/15) as the
broker and the cache, so the login throttle is shared by all workers; the
bench resets that throttle key before each of its own logins (it logs in ~200 clients from one
address, far above the 20/min a real user gets).

Options: --profile prints a cProfile of a few slot searches; --quick runs a small version
(fewer searches, clients and bookings) to check the bench itself; --booking-seconds N stops
scenario (b-ii) after N seconds (default 90, 0 = no limit) so that a slow server cannot push the
whole bench far past ~10 minutes; the report then says how many of the planned bookings ran.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import http.client
import io
import json
import os
import platform
import pstats
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._pg import (  # noqa: E402
    OVERLAPPING_ALLOCATIONS_SQL,
    log,
    percentile,
    shown_url,
    use_bench_database,
)

SEED = 20270104
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "timevalg_bench")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
BENCH_REDIS_CACHE_URL = os.environ.get("BENCH_REDIS_CACHE_URL", "redis://127.0.0.1:6379/15")
HOST, PORT = "127.0.0.1", 8123
GUNICORN_ARGS = [
    "-c",
    "config/gunicorn_conf.py",
    "config.wsgi",
    "-w",
    "3",
    "--threads",
    "1",
    "-b",
    f"{HOST}:{PORT}",
]
WEEKS = 12
WINDOW_DAYS = 28
SEARCH_TARGET_MS = 100
THROUGHPUT_TARGET = 200
SPLIT_SEARCHES = 20
PASSWORD = "bench-only-password-7421"
LOGIN_THREADS = 8

OVERLAPPING_PATIENT_SQL = """
    SELECT count(*)
    FROM booking_appointment a
    JOIN booking_appointment b
      ON b.patient_id = a.patient_id
     AND b.id > a.id
     AND tstzrange(b.starts_at, b.ends_at, '[)') && tstzrange(a.starts_at, a.ends_at, '[)')
    WHERE a.status = ANY(%(holding)s) AND b.status = ANY(%(holding)s)
"""


@dataclass(frozen=True)
class Sizes:
    searches: int
    race_clients: int
    race_slots: int
    bookings: int
    booking_clients: int


# Other processes on this machine whose CPU time (b-ii) reports, by their command names.
OTHER_PROCESSES = {"PostgreSQL": {"postgres", "postmaster"}, "Redis": {"redis-server"}}
FULL = Sizes(searches=200, race_clients=200, race_slots=10, bookings=10_000, booking_clients=32)
QUICK = Sizes(searches=20, race_clients=20, race_slots=4, bookings=300, booking_clients=8)


# --------------------------------------------------------------------------- setup


# --------------------------------------------------------------------------- occupancy


def busy_counts(step: timedelta) -> dict[tuple[str, datetime], int]:
    """Busy resources per (kind, step-aligned start) from the allocations in the database."""
    from booking.models import Allocation

    counts: dict[tuple[str, datetime], int] = defaultdict(int)
    rows = Allocation.objects.values_list("resource__kind", "starts_at", "ends_at")
    for kind, start, end in rows.iterator(chunk_size=20000):
        t = start
        while t < end:
            counts[kind, t] += 1
            t += step
    return counts


def grid_starts(days: Iterable[Any], step: timedelta, duration: timedelta) -> list[datetime]:
    from bench import _seed

    out = []
    for day in days:
        t = _seed.position_start(day, 0)
        end = _seed.position_start(day, 0) + _seed.POSITIONS_PER_DAY * _seed.POSITION
        while t + duration <= end:
            out.append(t)
            t += step
    return out


def free_capacity(
    counts: dict[tuple[str, datetime], int],
    start: datetime,
    kinds: Iterable[str],
    duration: timedelta,
    step: timedelta,
) -> int:
    """How many appointments needing one of each kind fit at `start` (all resources of a
    kind are interchangeable in the bench's department)."""
    from bench import _seed

    capacity = 10**9
    for kind in kinds:
        t, most_busy = start, 0
        while t < start + duration:
            most_busy = max(most_busy, counts.get((kind, t), 0))
            t += step
        capacity = min(capacity, _seed.RESOURCE_COUNTS[kind] - most_busy)
    return capacity


# --------------------------------------------------------------------------- slot search


@dataclass
class SearchResult:
    total_ms: list[float]
    slots_found: list[int]
    cpu_ms: list[float] = field(default_factory=list)
    full_collections: int = 0
    db_ms: list[float] = field(default_factory=list)
    pure_ms: list[float] = field(default_factory=list)
    busy_rows: list[int] = field(default_factory=list)
    profile: str = ""


def bench_search(dept: Any, sizes: Sizes, rng: random.Random, want_profile: bool) -> SearchResult:
    from bench import _seed
    from booking.calendars import resource_calendars, slot_query
    from booking.models import AppointmentType
    from booking.selectors import available_starts, bookable_window
    from cores.slots import find_slot_starts

    appointment_type = AppointmentType.objects.select_related("clinic").get(
        pk=dept.types[_seed.SEARCH_TYPE].pk
    )
    now = dept.period_start - timedelta(days=1)
    last_offset = WEEKS * 7 - WINDOW_DAYS
    windows = [
        dept.period_start + timedelta(days=rng.randint(0, last_offset))
        for _ in range(sizes.searches)
    ]

    def search(start: datetime) -> list[datetime]:
        return available_starts(
            appointment_type=appointment_type,
            start=start,
            end=start + timedelta(days=WINDOW_DAYS),
            now=now,
        )

    for start in windows[:3]:  # warm-up: imports, caches, first query plans
        search(start)
    result = SearchResult([], [])
    full_collections = gc.get_stats()[2]["collections"]
    for start in windows:
        t0, c0 = time.perf_counter(), time.process_time()
        found = search(start)
        result.total_ms.append((time.perf_counter() - t0) * 1000)
        result.cpu_ms.append((time.process_time() - c0) * 1000)
        result.slots_found.append(len(found))
    result.full_collections = gc.get_stats()[2]["collections"] - full_collections

    # The same searches split into reading the calendars and the pure search.
    for start in windows[:SPLIT_SEARCHES]:
        window = bookable_window(appointment_type, start, start + timedelta(days=WINDOW_DAYS), now)
        assert window is not None
        t0 = time.perf_counter()
        query = slot_query(appointment_type, window)
        calendars = resource_calendars(query, appointment_type.clinic_id)
        t1 = time.perf_counter()
        find_slot_starts(query, calendars)
        t2 = time.perf_counter()
        result.db_ms.append((t1 - t0) * 1000)
        result.pure_ms.append((t2 - t1) * 1000)
        result.busy_rows.append(sum(len(c.busy) for c in calendars))

    if want_profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for start in windows[:10]:
            search(start)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
        stats.print_stats(25)
        result.profile = out.getvalue()
    return result


# --------------------------------------------------------------------------- HTTP


class Client:
    """One browser-like client: its own cookies, CSRF token and (keep-alive) connection."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, PORT, timeout=120)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Accept": "application/json", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, payload

    def login(self, reset_throttle: Callable[[], None]) -> None:
        for _ in range(5):
            reset_throttle()
            self.request("GET", "/api/v1/auth/csrf/")
            status, body = self.request(
                "POST", "/api/v1/auth/login/", {"username": self.username, "password": PASSWORD}
            )
            if status == 204 and "sessionid" in self.cookies:
                return
            if status != 429:
                raise RuntimeError(f"login of {self.username} failed: {status} {body[:200]!r}")
        raise RuntimeError(f"login of {self.username} throttled five times")

    def book(self, type_id: int, starts_at: datetime) -> tuple[str, float]:
        """POST a booking; the outcome ("201", "409 slot_unavailable", "error X", ...) and ms."""
        t0 = time.perf_counter()
        try:
            status, body = self.request(
                "POST",
                "/api/v1/appointments/",
                {"appointment_type": type_id, "starts_at": starts_at.isoformat()},
            )
        except (OSError, http.client.HTTPException) as exc:
            return f"error {type(exc).__name__}", (time.perf_counter() - t0) * 1000
        elapsed = (time.perf_counter() - t0) * 1000
        if status == 201:
            return "201", elapsed
        try:
            code = json.loads(body).get("code", "?")
        except ValueError:
            code = "non-json"
        return f"{status} {code}", elapsed


def _proc_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (state first, then ppid, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _cpu_seconds(stat_fields: list[str], *, with_reaped_children: bool = False) -> float:
    """User + system CPU time from /proc/<pid>/stat fields (see `_proc_stat`); 0 if gone."""
    if not stat_fields:
        return 0.0
    last = 15 if with_reaped_children else 13  # utime, stime[, cutime, cstime]
    return sum(int(f) for f in stat_fields[11:last]) / os.sysconf("SC_CLK_TCK")


class Server:
    """gunicorn serving the app on the bench database, started and stopped by the bench."""

    def __init__(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.command = [str(gunicorn) if gunicorn.exists() else "gunicorn", *GUNICORN_ARGS]
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, PORT)) == 0:
                sys.exit(f"Something already listens on {HOST}:{PORT}; stop it and run again.")
        env = {
            **os.environ,
            "REDIS_URL": BENCH_REDIS_URL,
            "REDIS_CACHE_URL": BENCH_REDIS_CACHE_URL,
            "LOG_LEVEL": "ERROR",
        }
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            with socket.socket() as probe:
                if probe.connect_ex((HOST, PORT)) == 0:
                    return
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not listen on {HOST}:{PORT} within 60 s; see {self.log.name}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the gunicorn master and its workers."""
        assert self.process is not None
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = _proc_stat(int(entry.name))
                if fields and fields[1] == str(self.process.pid):
                    pids.append(int(entry.name))
        return sum(_cpu_seconds(_proc_stat(pid)) for pid in pids)

    def server_errors(self) -> int:
        text = Path(self.log.name).read_text(errors="replace")
        return text.count("Traceback (most recent call last)")


def cpu_seconds_of(command_names: set[str]) -> float:
    """CPU time (user + system) used so far by every process with one of these names, with the
    children they have reaped (a PostgreSQL backend that has exited is counted in the
    postmaster's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name in command_names:
            total += _cpu_seconds(_proc_stat(int(entry.name)), with_reaped_children=True)
    return total


def throttle_resetter() -> Callable[[], None]:
    import redis

    client = redis.Redis.from_url(BENCH_REDIS_CACHE_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        sys.exit(
            f"The HTTP bench needs Redis at {BENCH_REDIS_CACHE_URL} (BENCH_REDIS_CACHE_URL): {exc}"
        )

    def reset() -> None:
        for key in client.scan_iter(match="*throttle_login_*"):
            client.delete(key)

    return reset


def log_in_all(clients: list[Client], reset: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(LOGIN_THREADS) as pool:
        list(pool.map(lambda c: c.login(reset), clients))
    return time.perf_counter() - t0


def run_race(
    clients: list[Client],
    type_id: int,
    slots: list[datetime],
) -> tuple[list[tuple[str, float, datetime]], float]:
    t_start: list[float] = []
    barrier = threading.Barrier(len(clients), action=lambda: t_start.append(time.perf_counter()))

    def go(index: int) -> tuple[str, float, datetime]:
        slot = slots[index % len(slots)]
        barrier.wait()
        outcome, ms = clients[index].book(type_id, slot)
        return outcome, ms, slot

    with ThreadPoolExecutor(len(clients)) as pool:
        results = list(pool.map(go, range(len(clients))))
    return results, time.perf_counter() - t_start[0]


def run_bookings(
    clients: list[Client], type_id: int, plans: list[list[datetime]], budget_s: float
) -> tuple[list[tuple[str, float]], float]:
    """Each client books its plan in order; none starts a new booking after `budget_s`."""
    t_start: list[float] = []
    barrier = threading.Barrier(len(clients), action=lambda: t_start.append(time.perf_counter()))

    def go(index: int) -> list[tuple[str, float]]:
        barrier.wait()
        deadline = t_start[0] + budget_s if budget_s > 0 else float("inf")
        results = []
        for start in plans[index]:
            if time.perf_counter() >= deadline:
                break
            results.append(clients[index].book(type_id, start))
        return results

    with ThreadPoolExecutor(len(clients)) as pool:
        per_client = list(pool.map(go, range(len(clients))))
    elapsed = time.perf_counter() - t_start[0]
    return [r for results in per_client for r in results], elapsed


def pick_race_slots(
    dept: Any, counts: dict[tuple[str, datetime], int], n: int, rng: random.Random
) -> list[datetime]:
    """n starts of the search type where exactly one appointment fits, on n different days."""
    from bench import _seed

    kinds, duration, _ = _seed.FILL_TYPES[_seed.SEARCH_TYPE]
    by_day: dict[Any, list[datetime]] = defaultdict(list)
    for start in grid_starts(dept.days, _seed.POSITION, timedelta(minutes=duration)):
        capacity = free_capacity(counts, start, kinds, timedelta(minutes=duration), _seed.POSITION)
        if capacity == 1:
            by_day[start.astimezone(_seed.TZ).date()].append(start)
    days = sorted(by_day)
    if len(days) < n:
        sys.exit(f"only {len(days)} days have a capacity-1 slot for the race; need {n}")
    return sorted(rng.choice(by_day[day]) for day in rng.sample(days, n))


def plan_bookings(
    dept: Any, counts: dict[tuple[str, datetime], int], sizes: Sizes, rng: random.Random
) -> tuple[list[list[datetime]], int, dict[datetime, int]]:
    """Spread `bookings` over free capacity; per client distinct times (one patient each)."""
    from bench import _seed

    step = timedelta(minutes=15)
    kinds = (_seed.C, _seed.R)
    capacity = {
        start: free_capacity(counts, start, kinds, step, step)
        for start in grid_starts(dept.days, step, step)
    }
    # A time with more places than clients gets only as many bookings as there are clients.
    per_time = {start: min(max(cap, 0), sizes.booking_clients) for start, cap in capacity.items()}
    pool = [start for start, places in per_time.items() for _ in range(places)]
    total = len(pool)
    if total < sizes.bookings:
        sys.exit(f"only {total} free places for {_seed.BOOKING_TYPE}; need {sizes.bookings}")
    chosen = sorted(rng.sample(pool, sizes.bookings))
    # Sorted by time and dealt round-robin: one time never goes twice to the same client.
    plans: list[list[datetime]] = [[] for _ in range(sizes.booking_clients)]
    for i, start in enumerate(chosen):
        plans[i % sizes.booking_clients].append(start)
    for plan in plans:
        rng.shuffle(plan)
    return plans, total, capacity


def cross_check_plan(dept: Any, capacity: dict[datetime, int], days: list[Any]) -> int:
    """The computed free times agree with the app's own search on the given days."""
    from bench import _seed
    from booking.selectors import available_starts

    booking_type = dept.types[_seed.BOOKING_TYPE]
    agreed = 0
    for day in days:
        start = datetime.combine(day, datetime.min.time(), tzinfo=_seed.TZ)
        offered = set(
            available_starts(
                appointment_type=booking_type,
                start=start,
                end=start + timedelta(days=1),
                now=dept.period_start - timedelta(days=1),
            )
        )
        ours = {
            s for s, cap in capacity.items() if cap > 0 and s.astimezone(_seed.TZ).date() == day
        }
        if offered != ours:
            sys.exit(
                f"free-time computation disagrees with available_starts on {day}: "
                f"{len(ours)} vs {len(offered)}"
            )
        agreed += 1
    return agreed


# --------------------------------------------------------------------------- main


def scalar(sql: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def machine_lines() -> list[str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import django
    import gunicorn

    return [
        f"machine   : {os.cpu_count()} CPUs (os.cpu_count), {model}, {memory} RAM",
        f"software  : {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, Django {django.get_version()}, PostgreSQL "
        f"{scalar('SHOW server_version')}, gunicorn {gunicorn.__version__}",
        "            (clients, gunicorn, PostgreSQL and Redis all share this machine)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="store_true", help="cProfile 10 slot searches")
    parser.add_argument("--quick", action="store_true", help="small sizes, to test the bench")
    parser.add_argument(
        "--booking-seconds",
        type=float,
        default=90,
        help="time budget of scenario (b-ii); 0 = book all (default 90)",
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    t_bench = time.perf_counter()
    load_at_start = os.getloadavg()
    log(f"re-creating database {BENCH_DB}")
    original_url = use_bench_database(BENCH_DB, "bench/bench_booking.py", allowed_host=HOST)
    command = f"DATABASE_URL={shown_url(original_url)} python {' '.join(sys.argv)}"

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from bench import _seed
    from booking.models import HOLDING_STATUSES, Appointment, ResourceKind

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    lines: list[str] = []

    # ---- data
    log("generating the department")
    t0 = time.perf_counter()
    first_monday = _seed.next_monday(datetime.now(_seed.TZ).date())
    dept = _seed.create_department(first_monday, WEEKS)
    filler_patients = _seed.create_patients(rng, 3000)
    stats = _seed.fill(rng, dept, filler_patients)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seed_s = time.perf_counter() - t0
    # The objects the seeding left in this process (tens of thousands) are no part of a server:
    # a web worker holds only its frozen import-time objects (config/gunicorn_conf.py) and its
    # requests' garbage. Frozen like those, they no longer make the garbage collector's full
    # passes, which the searches below would otherwise pay for (45-75 ms each).
    gc.collect()
    gc.freeze()
    utilisation = {}
    working_minutes = len(dept.days) * 8 * 60
    for kind in ResourceKind.values:
        booked = scalar(
            "SELECT coalesce(sum(extract(epoch FROM a.ends_at - a.starts_at)), 0) / 60 "
            "FROM booking_allocation a JOIN booking_resource r ON r.id = a.resource_id "
            "WHERE r.kind = %s",
            [kind],
        )
        utilisation[kind] = float(booked) / (_seed.RESOURCE_COUNTS[kind] * working_minutes)

    # ---- (a) slot search
    log(f"(a) {sizes.searches} slot searches")
    search = bench_search(dept, sizes, rng, args.profile)
    search_p95 = percentile(search.total_ms, 95)

    # ---- (b) HTTP
    counts = busy_counts(_seed.POSITION)
    race_slots = pick_race_slots(dept, counts, sizes.race_slots, rng)
    search_type = dept.types[_seed.SEARCH_TYPE]
    booking_type = dept.types[_seed.BOOKING_TYPE]
    password_hash = make_password(PASSWORD)
    race_patients = _seed.create_patients(
        rng, sizes.race_clients, with_users=True, password_hash=password_hash
    )
    spare_patients = _seed.create_patients(
        rng, sizes.booking_clients, with_users=True, password_hash=password_hash, prefix="spare"
    )
    users = {p.user_id: p.user.username for p in [*race_patients, *spare_patients] if p.user}
    reset_throttle = throttle_resetter()
    gunicorn = Server()
    log(f"starting {' '.join(gunicorn.command)}")
    gunicorn.start()
    try:
        race_clients = [Client(users[p.user_id]) for p in race_patients]
        log(f"logging in {len(race_clients)} clients (PBKDF2, ~1 s of CPU each)")
        login_s = log_in_all(race_clients, reset_throttle)

        log(f"(b-i) {len(race_clients)} clients racing for {len(race_slots)} slots")
        race, race_s = run_race(race_clients, search_type.pk, race_slots)
        race_outcomes = Counter(outcome for outcome, _, _ in race)
        wins_per_slot = Counter(slot for outcome, _, slot in race if outcome == "201")

        # Clients that won nothing in the race have no appointment: reuse them below.
        idle = [
            c for c, (outcome, _, _) in zip(race_clients, race, strict=True) if outcome != "201"
        ][: sizes.booking_clients]
        extra = [Client(users[p.user_id]) for p in spare_patients]
        extra = extra[: sizes.booking_clients - len(idle)]
        if extra:
            log_in_all(extra, reset_throttle)
            idle += extra

        counts = busy_counts(timedelta(minutes=15))
        plans, free_places, capacity = plan_bookings(dept, counts, sizes, rng)
        checked_days = cross_check_plan(dept, capacity, rng.sample(dept.days, 5))
        log(
            f"(b-ii) {sizes.bookings} bookings by {len(idle)} clients "
            f"({free_places} free places, plan agrees with available_starts on "
            f"{checked_days} sampled days)"
        )
        load_before_ii = os.getloadavg()[0]
        cpu_before = gunicorn.cpu_seconds()
        others_before = {name: cpu_seconds_of(names) for name, names in OTHER_PROCESSES.items()}
        clients_before = time.process_time()
        bookings, bookings_s = run_bookings(idle, booking_type.pk, plans, args.booking_seconds)
        server_cpu_s = gunicorn.cpu_seconds() - cpu_before
        others_cpu_s = {
            "the bench's clients": time.process_time() - clients_before,
            **{
                name: cpu_seconds_of(names) - others_before[name]
                for name, names in OTHER_PROCESSES.items()
            },
        }
        booking_outcomes = Counter(outcome for outcome, _ in bookings)
        booking_ms = [ms for _, ms in bookings]
    finally:
        gunicorn.stop()
    server_errors = gunicorn.server_errors()

    # ---- checks
    overlapping = scalar(OVERLAPPING_ALLOCATIONS_SQL)
    patients_overlapping = scalar(
        OVERLAPPING_PATIENT_SQL, {"holding": [str(s) for s in HOLDING_STATUSES]}
    )
    booked_rows = Appointment.objects.filter(appointment_type=booking_type).count()
    race_rows = Appointment.objects.filter(
        patient__in=race_patients, appointment_type=search_type
    ).count()
    total_s = time.perf_counter() - t_bench

    # ---- report
    ok = booking_outcomes.get("201", 0)
    not_run = sizes.bookings - len(bookings)
    cpu_per_booking = server_cpu_s * 1000 / max(len(bookings), 1)
    ceiling = (os.cpu_count() or 1) * 1000 / cpu_per_booking if cpu_per_booking else 0.0
    all_cpu_ms = (server_cpu_s + sum(others_cpu_s.values())) * 1000 / max(len(bookings), 1)
    all_ceiling = (os.cpu_count() or 1) * 1000 / all_cpu_ms if all_cpu_ms else 0.0
    rate = ok / bookings_s if bookings_s else 0.0
    non_201 = {k: v for k, v in booking_outcomes.items() if k != "201"}
    race_other = {
        k: v for k, v in race_outcomes.items() if k not in ("201", "409 slot_unavailable")
    }

    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    lines += [
        f"Timevalg booking bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"command   : {command}",
        *machine_lines(),
        f"server    : {' '.join(['gunicorn', *GUNICORN_ARGS])} (DEBUG off, "
        f"CONN_MAX_AGE {settings.DATABASES['default'].get('CONN_MAX_AGE', 0)}, Redis cache)",
        "",
        f"data      : seed {SEED}; {len(dept.days)} working days from {dept.days[0]} "
        f"({WEEKS} weeks, Mon-Fri 08:00-16:00 Europe/Oslo)",
        f"            50 clinicians, 30 rooms, 10 equipment; {stats.appointments} appointments, "
        f"{stats.allocations} allocations, generated in {seed_s:.1f} s",
        "utilisation: "
        + ", ".join(f"{kind} {utilisation[kind]:.1%}" for kind in ResourceKind.values),
        "",
        f"(a) slot search: {_seed.SEARCH_TYPE} (clinician + room + equipment, 30 min, grid 5), "
        f"{WINDOW_DAYS}-day windows, {len(search.total_ms)} searches via available_starts",
        f"    p50 {percentile(search.total_ms, 50):.1f} ms, p95 {search_p95:.1f} ms, "
        f"max {max(search.total_ms):.1f} ms  (target p95 < {SEARCH_TARGET_MS} ms: "
        f"{verdict(search_p95 < SEARCH_TARGET_MS)})",
        f"    CPU time of this process per search p50 {percentile(search.cpu_ms, 50):.1f} ms, p95 "
        f"{percentile(search.cpu_ms, 95):.1f} ms (the rest of the wall time is PostgreSQL and "
        f"waiting for a CPU); full garbage collections during them: {search.full_collections}",
        f"    mean {statistics.mean(search.slots_found):.1f} slots found "
        f"(min {min(search.slots_found)}, max {max(search.slots_found)})",
        f"    split over {len(search.db_ms)} of them: reading calendars p50 "
        f"{percentile(search.db_ms, 50):.1f} ms / p95 {percentile(search.db_ms, 95):.1f} ms "
        f"({statistics.mean(search.busy_rows):.0f} busy intervals), pure search p50 "
        f"{percentile(search.pure_ms, 50):.1f} ms / p95 {percentile(search.pure_ms, 95):.1f} ms",
        "",
        f"(b) HTTP: {len(race_clients) + len(extra)} patients logged in via /auth/csrf/ + "
        f"/auth/login/ ({len(race_clients)} in {login_s:.1f} s); JSON POST /api/v1/appointments/",
        f"(b-i) race: {len(race_clients)} clients, {len(race_slots)} capacity-1 slots of "
        f"{_seed.SEARCH_TYPE}, all POSTs released together, done in {race_s:.2f} s",
        f"    201: {race_outcomes.get('201', 0)} (must be {len(race_slots)}; slots won once: "
        f"{sum(1 for s in race_slots if wins_per_slot[s] == 1)}/{len(race_slots)}), "
        f"409 slot_unavailable: {race_outcomes.get('409 slot_unavailable', 0)}, "
        f"other: {dict(race_other) or 'none'}; rows booked by the racers: {race_rows}",
        f"(b-ii) throughput: {sizes.bookings} bookings of {_seed.BOOKING_TYPE} (clinician + "
        f"room, 15 min) planned on distinct free places ({free_places} free; the plan agrees with "
        f"available_starts on {checked_days} sampled days), {len(idle)} concurrent clients",
        f"    {len(bookings)} POSTs in {bookings_s:.1f} s"
        + (
            f" (stopped by the {args.booking_seconds:.0f} s budget; {not_run} planned bookings "
            "not attempted)"
            if not_run
            else ""
        )
        + f": {ok} booked = {rate:.1f} bookings/s (target >= {THROUGHPUT_TARGET}/s: "
        f"{verdict(rate >= THROUGHPUT_TARGET)})",
        f"    gunicorn workers used {server_cpu_s:.1f} s of CPU = {cpu_per_booking:.1f} ms per "
        f"booking, i.e. at most ~{ceiling:.0f} bookings/s on {os.cpu_count()} CPUs for the app "
        "alone (PostgreSQL not counted)",
        "    CPU per booking elsewhere: "
        + ", ".join(
            f"{name} {cpu_s * 1000 / max(len(bookings), 1):.1f} ms"
            for name, cpu_s in others_cpu_s.items()
        )
        + f"; all together {all_cpu_ms:.1f} ms, i.e. at most ~{all_ceiling:.0f} bookings/s "
        f"on {os.cpu_count()} CPUs",
        f"    latency p50 {percentile(booking_ms, 50):.0f} ms, p95 "
        f"{percentile(booking_ms, 95):.0f} ms; non-201: {dict(non_201) or 'none'}; rows booked: "
        f"{booked_rows}",
        "",
        f"checks    : overlapping allocations (SQL self-join) = {overlapping}; patients in two "
        f"holding appointments at once = {patients_overlapping}; server tracebacks = "
        f"{server_errors}",
        f"total     : {total_s:.0f} s; load average (1 min) at start {load_at_start[0]:.2f}, "
        f"before (b-ii) {load_before_ii:.2f}, at end {os.getloadavg()[0]:.2f}",
    ]
    print("\n" + "-" * 100)
    print("\n".join(lines))
    print("-" * 100)
    if search.profile:
        print("\ncProfile of 10 slot searches (sorted by own time):\n")
        print(search.profile)
    problems = [
        race_outcomes.get("201", 0) != len(race_slots),
        overlapping != 0,
        patients_overlapping != 0,
        server_errors != 0,
    ]
    sys.exit(1 if any(problems) else 0)


if __name__ == "__main__":
    main()
