"""The leaders' statistics on PostgreSQL: `insights.figures.dashboard()` over a hospital's year.

Seeds a year of past history for 6 clinics (12 clinicians and 12 rooms each, 5 appointment
types, one of them a procedure with three preparations): about 250,000 appointments with their
allocations, preparation tasks, referrals, booking tasks, waitlist fills and about 1,000,000
history events, written with COPY in the shape the services write (the mix of the demo's
history, booking/demo_history.py: self-booking rising through the year, batch-planned and staff
bookings, the patient's own and phone changes, re-plans, cancellations in time and late, clinic
cancellations, no-shows, fulfilled visits with their attendance events). Then, for a leader of
all six clinics, times `dashboard(scope)` for the whole year by month and for its last whole
month by day: WARM_UP calls, then REPETITIONS timed ones, p50/p95 and the queries of one call;
and each figure section alone (the private `_..._figures` functions, called as dashboard() calls
them).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/timevalg python bench/bench_insights.py
[--keep] [--explain] [--quick]. It creates its own database timevalg_bench_insights and drops it
at the end (`--keep` leaves it for EXPLAIN ANALYZE; `--explain` prints the plan of every query of
the year's dashboard; `--quick` seeds a month, to check the bench). Data from random.Random(2029).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import log, percentile, shown_url, use_bench_database

DB_NAME = "timevalg_bench_insights"
SEED = 2029
CLINICS = 6
CLINICIANS = 12  # and as many rooms, one beside each clinician
QUICK = "--quick" in sys.argv  # a month's history, to check the bench itself
DAYS = 35 if QUICK else 365
PATIENTS = 20_000 if QUICK else 100_000
FILL = 0.82  # share of a clinician's half-hour places booked
CANCELLED_SHARE = 0.09  # extra appointments, cancelled (their times were given away)
WARM_UP = 2
REPETITIONS = 10
TARGET_YEAR_MS = 1000
TARGET_MONTH_MS = 200
TZ = ZoneInfo("Europe/Oslo")
HOUR = timedelta(hours=1)
Who = tuple[int | None, str]  # an event's actor: user id and kind
DAY = timedelta(days=1)
# name, minutes, grid, needs a room, self-bookable, requires confirmation, weight
TYPES = (
    ("Første konsultasjon", 30, 15, True, True, True, 3),
    ("Kontroll", 20, 10, True, True, False, 4),
    ("Videokontroll", 15, 15, False, True, False, 2),
    ("Skopi", 60, 15, True, True, False, 2),
    ("Samtale", 30, 15, True, False, False, 1),
)
REFERRED = {"Første konsultasjon", "Skopi", "Samtale"}
PREPARATIONS = (
    ("MRSA-skjema", "deadline", 14),
    ("Tøm tarmen", "start", 7),
    ("Medisinliste", "deadline", 5),
)


@dataclass
class Kind:
    pk: int
    clinic: int
    name: str
    minutes: int
    grid: int
    room: bool
    self_bookable: bool
    confirm: bool
    cutoff: timedelta
    notice: timedelta
    templates: list[tuple[int, str, str, int]]


class Tables:
    """Rows for COPY, with ids handed out here so rows can point at each other."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self.rows: dict[str, list[list[Any]]] = {name: [] for name in columns}
        self.next_id = dict.fromkeys(columns, 1)
        self.written = dict.fromkeys(columns, 0)

    def add(self, table: str, *values: Any) -> int:
        pk = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append([pk, *values])
        return pk

    def flush(self, cursor: Any) -> None:
        for table, rows in self.rows.items():
            if not rows:
                continue
            names = ", ".join(self.columns[table])
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            self.written[table] += len(rows)
            rows.clear()


def columns_of(model: Any, order: Sequence[str]) -> tuple[str, ...]:
    """The table's columns in the order the generator writes them; all of them, or it stops."""
    actual = {f.column for f in model._meta.concrete_fields}
    assert set(order) == actual, (model.__name__, sorted(actual ^ set(order)))
    return tuple(order)


def national_ids(rng: random.Random, n: int) -> list[str]:
    from patients.identity import with_check_digits

    seen: set[str] = set()
    while len(seen) < n:
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(70 * 365))
        first, last = (0, 499) if born.year < 2000 else (500, 999)
        number = with_check_digits(f"{born:%d%m%y}{rng.randint(first, last):03d}")
        if number is not None:
            seen.add(number)
    return sorted(seen)


class Hospital:
    def __init__(self, rng: random.Random, today: date) -> None:
        from django.contrib.auth import get_user_model

        from access.roles import StaffRole
        from booking.models import (
            AppointmentType,
            Clinic,
            PreparationTemplate,
            Resource,
            ResourceKind,
            ResourceRequirement,
            StaffMembership,
        )

        self.rng, self.today = rng, today
        self.first_day = today - timedelta(days=DAYS)
        self.now = datetime.combine(today, clock(6), tzinfo=TZ).astimezone(UTC)
        users = get_user_model().objects
        self.leader = users.create_user("leder", first_name="Tor")
        self.secretary = users.create_user("sekretaer", first_name="Siri")
        self.clinics: list[int] = []
        self.lanes: dict[int, list[tuple[int, int]]] = {}  # clinic -> (clinician, room)
        self.kinds: dict[int, list[Kind]] = {}
        for c in range(CLINICS):
            clinic = Clinic.objects.create(name=f"Poliklinikk {c + 1}", time_zone=TZ.key)
            self.clinics.append(clinic.pk)
            for user, role in (
                (self.leader, StaffRole.LEADER),
                (self.secretary, StaffRole.SECRETARY),
            ):
                StaffMembership.objects.create(user=user, clinic=clinic, role=role)
            clinicians = Resource.objects.bulk_create(
                Resource(clinic=clinic, kind=ResourceKind.CLINICIAN, name=f"Lege {i + 1:02d}")
                for i in range(CLINICIANS)
            )
            rooms = Resource.objects.bulk_create(
                Resource(clinic=clinic, kind=ResourceKind.ROOM, name=f"Rom {i + 1:02d}")
                for i in range(CLINICIANS)
            )
            self.lanes[clinic.pk] = [(a.pk, b.pk) for a, b in zip(clinicians, rooms, strict=True)]
            kinds = []
            for name, minutes, grid, room, self_bookable, confirm, _ in TYPES:
                kind = AppointmentType.objects.create(
                    clinic=clinic,
                    name=name,
                    duration_minutes=minutes,
                    grid_minutes=grid,
                    self_bookable=self_bookable,
                    requires_confirmation=confirm,
                    min_notice_hours=24,
                    change_cutoff_hours=48,
                )
                needs = [ResourceKind.CLINICIAN, *([ResourceKind.ROOM] if room else [])]
                ResourceRequirement.objects.bulk_create(
                    ResourceRequirement(appointment_type=kind, kind=k) for k in needs
                )
                templates = []
                if name == "Skopi":
                    for title, timing, days in PREPARATIONS:
                        t = PreparationTemplate.objects.create(
                            appointment_type=kind, title=title, timing=timing, days_before=days
                        )
                        templates.append((t.pk, title, timing, days))
                kinds.append(
                    Kind(
                        kind.pk, clinic.pk, name, minutes, grid, room, self_bookable, confirm,
                        timedelta(hours=48), timedelta(hours=24), templates,
                    )
                )  # fmt: skip
            self.kinds[clinic.pk] = kinds

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, clock(hour, minute), tzinfo=TZ).astimezone(UTC)

    def between(self, low: datetime, high: datetime) -> datetime:
        span = max(int((high - low).total_seconds() // 60), 1)
        return low + timedelta(minutes=self.rng.randrange(span))

    def working_days(self) -> list[date]:
        from booking.management.commands.load_demo_data import is_holiday

        days = [self.first_day + timedelta(days=i) for i in range(DAYS)]
        return [d for d in days if d.weekday() < 5 and not is_holiday(d)]


def seed(hospital: Hospital, cursor: Any) -> Tables:
    from booking import models as b
    from patients.identity import birth_date
    from patients.models import Patient, Referral
    from planning.models import BookingTask

    tables = Tables(
        {
            b.Appointment._meta.db_table: columns_of(b.Appointment, (
                "id", "patient_id", "appointment_type_id", "clinic_id", "starts_at", "ends_at",
                "status", "patient_change_count", "created_at", "updated_at")),
            b.Allocation._meta.db_table: columns_of(b.Allocation, (
                "id", "appointment_id", "resource_id", "starts_at", "ends_at")),
            b.AppointmentEvent._meta.db_table: columns_of(b.AppointmentEvent, (
                "id", "appointment_id", "clinic_id", "appointment_type_id", "kind", "cause",
                "actor_id", "actor_kind", "on_behalf_of_id", "old_starts_at", "old_ends_at",
                "new_starts_at", "new_ends_at", "old_status", "new_status", "old_resource_ids",
                "new_resource_ids", "note", "occurred_at")),
            b.PreparationTask._meta.db_table: columns_of(b.PreparationTask, (
                "id", "appointment_id", "template_id", "title", "instructions", "timing",
                "due_date", "done_at", "done_by_id")),
            Referral._meta.db_table: columns_of(Referral, (
                "id", "patient_id", "clinic_id", "received_on", "priority", "care_deadline",
                "status")),
            BookingTask._meta.db_table: columns_of(BookingTask, (
                "id", "clinic_id", "patient_id", "referral_id", "appointment_type_id",
                "earliest_date", "latest_date", "deadline", "respond_by", "priority", "status",
                "appointment_id", "note", "chosen_after_more_times", "created_by_id",
                "created_at", "updated_at")),
            b.WaitlistEntry._meta.db_table: columns_of(b.WaitlistEntry, (
                "id", "appointment_id", "joined_at")),
            b.WaitlistOffer._meta.db_table: columns_of(b.WaitlistOffer, (
                "id", "entry_id", "starts_at", "offered_at", "expires_at", "status",
                "decided_at")),
        }
    )  # fmt: skip
    patient_table = Patient._meta.db_table
    patient_columns = columns_of(Patient, (
        "id", "user_id", "national_id", "birth_date", "given_name", "family_name", "phone",
        "email", "preferred_language", "uses_digital_services", "notify_by_sms",
        "notify_by_email"))  # fmt: skip
    rng = hospital.rng
    with cursor.copy(f"COPY {patient_table} ({', '.join(patient_columns)}) FROM STDIN") as copy:
        for pk, number in enumerate(national_ids(rng, PATIENTS), start=1):
            copy.write_row(
                (pk, None, number, birth_date(number), "Kari", "Nordmann", "+4791234567", "",
                 "nb", rng.random() < 0.85, True, False)
            )  # fmt: skip
    story = Story(hospital, tables)
    days = hospital.working_days()
    for n, day in enumerate(days):
        story.day(day, (day - hospital.first_day).days / DAYS)
        if n % 20 == 19:
            tables.flush(cursor)
            log(f"  {day}: {tables.written[b.Appointment._meta.db_table]:,} appointments")
    tables.flush(cursor)
    for table in [*tables.columns, patient_table]:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    return tables


class Story:
    """One day's appointments of the hospital, each with the history the services write."""

    def __init__(self, hospital: Hospital, tables: Tables) -> None:
        from booking import models as b
        from patients.models import Referral
        from planning.models import BookingTask

        self.h, self.t, self.rng = hospital, tables, hospital.rng
        self.A = b.Appointment._meta.db_table
        self.L = b.Allocation._meta.db_table
        self.E = b.AppointmentEvent._meta.db_table
        self.P = b.PreparationTask._meta.db_table
        self.R = Referral._meta.db_table
        self.B = BookingTask._meta.db_table
        self.W = b.WaitlistEntry._meta.db_table
        self.O = b.WaitlistOffer._meta.db_table
        self.staff = hospital.secretary.pk
        self.weights = [t[6] for t in TYPES]

    def day(self, day: date, progress: float) -> None:
        rng = self.rng
        planned: list[tuple[Kind, date, int, list[int]]] = []
        for clinic in self.h.clinics:
            kinds = self.h.kinds[clinic]
            for clinician, room in self.h.lanes[clinic]:
                place = 0
                while place < 16:
                    kind = rng.choices(kinds, self.weights)[0]
                    places = 2 if kind.minutes > 30 else 1
                    if place + places > 16 or rng.random() > FILL:
                        place += 1
                        continue
                    held = [clinician, room] if kind.room else [clinician]
                    planned.append((kind, day, place, held))
                    place += places
        extra = [p for p in planned if rng.random() < CANCELLED_SHARE]
        patients = rng.sample(range(1, PATIENTS + 1), len(planned) + len(extra))
        how = ("patient",) * 45 + ("late",) * 17 + ("clinic",) * 20 + ("replan",) * 18
        for i, (kind, when, place, held) in enumerate(planned + extra):
            cancelled = rng.choice(how) if i >= len(planned) else None
            self.appointment(kind, when, place, held, patients[i], progress, cancelled)

    def start_of(self, day: date, place: int) -> datetime:
        return self.h.at(day, 8 + place // 2, 30 * (place % 2))

    def event(
        self,
        appointment: int,
        kind: Kind,
        patient: int,
        what: str,
        cause: str,
        actor: tuple[int | None, str],
        occurred: datetime,
        *,
        old: tuple[datetime | None, list[int], str] = (None, [], ""),
        new_status: str,
        new_start: datetime | None,
        new_held: list[int],
        note: str = "",
    ) -> None:
        old_start, old_held, old_status = old
        duration = timedelta(minutes=kind.minutes)
        self.t.add(
            self.E, appointment, kind.clinic, kind.pk, what, cause, actor[0], actor[1],
            patient if actor[1] != "patient" else None,
            old_start, old_start + duration if old_start else None,
            new_start, new_start + duration if new_start else None,
            old_status, new_status, json_list(old_held), json_list(new_held), note, occurred,
        )  # fmt: skip

    def appointment(
        self,
        kind: Kind,
        day: date,
        place: int,
        held: list[int],
        patient: int,
        progress: float,
        cancelled: str | None,
    ) -> None:
        rng, h, t = self.rng, self.h, self.t
        start = self.start_of(day, place)
        duration = timedelta(minutes=kind.minutes)
        digital = rng.random() < 0.85
        staff: Who = (self.staff, "staff")
        system: Who = (None, "system")
        online: Who = (None, "patient")  # the bench's patients have no logins
        actor: Who
        chances: tuple[tuple[str, float], ...]
        if not kind.self_bookable or not digital:
            source = "batch" if rng.random() < 0.3 else "staff"
        else:
            roll, share = rng.random(), 0.35 + 0.3 * progress
            source = "patient" if roll < share else "batch" if roll < share + 0.2 else "staff"
        move = None
        if cancelled is None:
            roll = rng.random()
            if source == "patient":
                chances = (
                    ("patient", 0.06),
                    ("phone", 0.02),
                    ("replan", 0.025),
                    ("waitlist", 0.03),
                )
            else:
                chances = (("phone", 0.03), ("replan", 0.025), ("waitlist", 0.02 * digital))
            for name, chance in chances:
                if roll < chance:
                    move = name
                    break
                roll -= chance
        if move == "waitlist":
            first = self.start_of(day + timedelta(weeks=rng.randint(1, 4)), place)
        elif move is not None:
            first = self.start_of(
                day + rng.choice((-1, 1)) * timedelta(weeks=rng.randint(1, 3)), place
            )
        else:
            first = start
        earliest = min(first, start)
        booked = first - timedelta(days=rng.randint(5, 45), hours=rng.randint(0, 10))
        if source == "batch":
            booked = booked.replace(hour=0, minute=rng.randrange(60))
        booked = min(booked, earliest - kind.notice - HOUR)
        pk = t.next_id[self.A]
        t.next_id[self.A] += 1
        status = "pending" if kind.confirm and source == "patient" else "booked"
        creator = {
            "patient": ("patient_change", online),
            "batch": ("batch_planning", staff if rng.random() < 0.3 else system),
            "staff": ("clinic_booking", staff),
        }[source]
        self.event(pk, kind, patient, "created", creator[0], creator[1], booked,
                   new_status=status, new_start=first, new_held=held)  # fmt: skip
        last = booked
        if status == "pending":
            last = min(booked + timedelta(hours=rng.randint(2, 30)), earliest - 2 * HOUR)
            self.event(pk, kind, patient, "confirmed", "clinic_booking", staff, last,
                       old=(first, held, status), new_status="booked", new_start=first,
                       new_held=held)  # fmt: skip
            status = "booked"
        task, referral = self.booking_task(pk, kind, patient, source, booked, first, start)
        changes = 0
        if move is not None:
            low, high = last + HOUR, min(first, start) - HOUR
            if move == "patient" and min(first - kind.cutoff, start - kind.notice) - HOUR > low:
                cause, actor, high = (
                    "patient_change",
                    online,
                    min(first - kind.cutoff, start - kind.notice) - HOUR,
                )
            elif move in ("patient", "phone"):
                cause, actor = "patient_change", staff
            elif move == "replan":
                cause, actor = "clinic_replanning", staff
                low, high = max(low, first - 10 * DAY), min(first, start) - 20 * HOUR
            else:
                cause, actor, high = "waitlist_fill", online, start - kind.notice
            occurred = h.between(low, max(high, low + HOUR))
            changes += cause == "patient_change"
            self.event(pk, kind, patient, "rescheduled", cause, actor, occurred,
                       old=(first, held, "booked"), new_status="booked", new_start=start,
                       new_held=held)  # fmt: skip
            if move == "replan":
                self.follow_up(pk, kind, patient, task, occurred, start, "moved")
            if move == "waitlist":
                entry = t.add(self.W, pk, h.between(last, occurred - HOUR))
                offered = occurred - timedelta(minutes=rng.randint(5, 600))
                t.add(self.O, entry, start, offered, offered + 12 * HOUR, "accepted", occurred)
            last = occurred
        if cancelled is not None:
            low, note = last + HOUR, ""
            if cancelled == "patient":
                actor = online if digital and rng.random() < 0.7 else staff
                cause, high = "patient_change", start - kind.cutoff - HOUR
            elif cancelled == "late":
                actor, cause = staff, "patient_change"
                low, high = max(low, start - kind.cutoff + HOUR), start - HOUR
            elif cancelled == "clinic":
                actor, cause, high, note = (
                    staff,
                    "clinic_cancellation",
                    start - 2 * HOUR,
                    "Syk lege",
                )
            else:
                actor, cause = staff, "clinic_replanning"
                low, high = max(low, start - 7 * DAY), start - 20 * HOUR
            occurred = h.between(low, max(high, low + HOUR))
            self.event(pk, kind, patient, "cancelled", cause, actor, occurred,
                       old=(start, held, status), new_status="cancelled", new_start=None,
                       new_held=[], note=note)  # fmt: skip
            status, last = "cancelled", occurred
            if cancelled == "replan":
                self.follow_up(pk, kind, patient, task, occurred, start, "cancelled")
        else:
            blocked_end = start + duration
            for rid in held:
                t.add(self.L, pk, rid, start, blocked_end)
            end = start + duration
            if not (end > h.now - 2 * DAY and rng.random() < 0.3):
                occurred = end + timedelta(minutes=rng.randint(1, 120))
                if rng.random() < 0.02 + 0.04 * rng.random():
                    steps = [("noshow", "noshow")]
                elif kind.room:
                    steps = [("status_changed", "arrived"), ("status_changed", "checked-in"),
                             ("status_changed", "fulfilled")]  # fmt: skip
                else:
                    steps = [("status_changed", "fulfilled")]
                moments = [start - timedelta(minutes=10), start, occurred][-len(steps) :]
                for (what, new), moment in zip(steps, moments, strict=True):
                    self.event(pk, kind, patient, what, "attendance", staff, moment,
                               old=(None, [], status), new_status=new, new_start=start,
                               new_held=held)  # fmt: skip
                    status, last = new, moment
        t.rows[self.A].append(
            [pk, patient, kind.pk, kind.clinic, start, start + duration, status, changes,
             booked, last]
        )  # fmt: skip
        if referral is not None:
            referral[6] = {"fulfilled": "completed", "cancelled": "assessed"}.get(
                status, "scheduled"
            )
        self.preparations(pk, kind, start, booked)

    def booking_task(
        self,
        appointment: int,
        kind: Kind,
        patient: int,
        source: str,
        booked: datetime,
        first: datetime,
        start: datetime,
    ) -> tuple[list[Any] | None, list[Any] | None]:
        """The task the appointment was booked through (None for a phone booking) and its
        referral, as written rows (lists: the referral's status comes with the outcome)."""
        rng, t = self.rng, self.t
        referred = kind.name in REFERRED
        through = source in ("patient", "batch") or (referred and rng.random() < 0.5)
        if not through and not referred:
            return None, None
        booked_day, first_day, day = local_day(booked), local_day(first), local_day(start)
        if source == "batch":
            respond_by = booked_day - DAY
            created = respond_by - timedelta(days=rng.randint(10, 21))
        else:
            created = booked_day - timedelta(days=rng.randint(0, 10))
            respond_by = booked_day + timedelta(days=rng.randint(0, 7))
        earliest = min(first_day, created + timedelta(days=rng.randint(3, 10)))
        latest = max(first_day, respond_by, earliest + 28 * DAY) + timedelta(
            days=rng.randint(0, 21)
        )
        roll = rng.random()
        priority = 1 if roll < 0.03 else 2 if roll < 0.15 else 3
        referral, deadline = None, latest
        if referred:
            received = created - timedelta(days=rng.randint(1, 21))
            waited = (day - received).days
            if rng.random() < 0.035 and waited > 20:  # a few breaches of the legal deadline
                deadline = day - timedelta(days=rng.randint(1, min(14, waited - 10)))
            else:
                norm = timedelta(days={1: 30, 2: 60}.get(priority, 90))
                deadline = max(received + norm, day + timedelta(days=rng.randint(3, 30)))
            earliest = min(earliest, deadline)
            t.add(self.R, patient, kind.clinic, received, priority, deadline, "assessed")
            referral = t.rows[self.R][-1]
        if source == "patient":
            status, after_more = "chosen", rng.random() < 0.2 + 0.1 * rng.random()
        elif source == "batch":
            status, after_more = "assigned", None
        elif through:
            status, after_more = "chosen", False  # staff chose for the patient
        else:
            status, after_more = "cancelled", None  # booked on the phone instead
        created_at = min(self.h.at(created, rng.randint(8, 14), rng.randrange(60)), booked - HOUR)
        t.add(
            self.B, kind.clinic, patient, referral[0] if referral else None, kind.pk, earliest,
            latest, deadline, respond_by, priority, status,
            appointment if status != "cancelled" else None, "", after_more, self.staff,
            created_at, booked,
        )  # fmt: skip
        task = t.rows[self.B][-1]
        return (task if through else None), referral

    def follow_up(
        self,
        appointment: int,
        kind: Kind,
        patient: int,
        origin: list[Any] | None,
        occurred: datetime,
        start: datetime,
        status: str,
    ) -> None:
        day = local_day(occurred)
        latest = max(local_day(start) + 14 * DAY, day)
        self.t.add(
            self.B, kind.clinic, patient, origin[3] if origin else None, kind.pk, day, latest,
            origin[7] if origin else latest, min(day + 3 * DAY, latest),
            origin[9] if origin else 3, status, appointment if status == "moved" else None, "",
            None, self.staff, occurred, occurred,
        )  # fmt: skip

    def preparations(self, appointment: int, kind: Kind, start: datetime, booked: datetime) -> None:
        rng, day = self.rng, local_day(start)
        for template, title, timing, days in kind.templates:
            due = day - timedelta(days=days)
            last_day = due if timing == "deadline" else day
            roll, done = rng.random(), None
            if roll < 0.86:
                done_day = last_day - timedelta(days=rng.randint(0, 4))
                if timing == "start":
                    done_day = max(done_day, due)
                done = self.h.at(done_day, rng.randint(7, 22), rng.randrange(60))
            elif roll < 0.94:
                done = self.h.at(last_day + timedelta(days=rng.randint(1, 3)), rng.randint(7, 22))
            if done is not None:
                done = min(max(done, booked + HOUR), self.h.now - HOUR)
            self.t.add(self.P, appointment, template, title, "", timing, due, done, None)


def local_day(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


def json_list(ids: list[int]) -> str:
    return "[" + ", ".join(map(str, ids)) + "]"


SECTIONS = (
    "_appointment_figures",
    "_replanning_figures",
    "_self_booking_figures",
    "_offer_figures",
    "_referral_figures",
    "_preparation_figures",
)


def timed(call: Callable[[], object], repetitions: int) -> list[float]:
    for _ in range(WARM_UP):
        call()
    out = []
    for _ in range(repetitions):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def section_calls(scope: Any, now: datetime) -> dict[str, Callable[[], object]]:
    """Each figure section alone, with the arguments dashboard() gives it."""
    from insights import figures

    def call(name: str) -> Callable[[], object]:
        def run() -> object:
            appointments, bucket_days = figures.cohort(scope), scope.buckets
            fn = getattr(figures, name)
            if name == "_offer_figures":
                return list(fn(scope, bucket_days))
            if name in ("_appointment_figures", "_preparation_figures"):
                return list(fn(scope, appointments, bucket_days, now))
            return list(fn(scope, appointments, bucket_days))

        return run

    return {name: call(name) for name in SECTIONS}


def drop_database(original_url: str) -> None:
    import environ
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    server = environ.Env.db_url_config(original_url)
    with psycopg.connect(
        host=server.get("HOST") or None,
        port=server.get("PORT") or None,
        user=server.get("USER") or None,
        password=server.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
        )


def main() -> None:
    original_url = use_bench_database(DB_NAME, "bench/bench_insights.py")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from booking.models import Appointment, AppointmentEvent
    from insights.figures import Resolution, dashboard, scope_for

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    today = datetime.now(TZ).date()
    started = time.perf_counter()
    log("seeding a year of history")
    hospital = Hospital(rng, today)
    with connection.cursor() as cursor:
        # The generator keeps every reference right; checking each one as it arrives would
        # double the load's time. The exclusion constraints (no resource or patient twice at
        # once) are indexes, not triggers: they still check every row.
        cursor.execute("SET session_replication_role = replica")
        tables = seed(hospital, cursor.connection.cursor())
        cursor.execute("SET session_replication_role = DEFAULT")
        log("ANALYZE")
        cursor.execute("ANALYZE")
    seeded = time.perf_counter() - started
    written = tables.written
    appointments = Appointment.objects.count()
    events = AppointmentEvent.objects.count()
    last_month_end = today.replace(day=1) - DAY
    scopes = {
        "year by month": scope_for(
            hospital.leader, first=today - timedelta(days=DAYS), last=today - DAY,
            resolution=Resolution.MONTH,
        ),
        "month by day": scope_for(
            hospital.leader, first=last_month_end.replace(day=1), last=last_month_end,
            resolution=Resolution.DAY,
        ),
    }  # fmt: skip
    now = datetime.now(UTC)
    lines = [
        f"DATABASE_URL={shown_url(original_url)} python bench/bench_insights.py",
        f"data: seed {SEED}; {CLINICS} clinics x ({CLINICIANS} clinicians, {CLINICIANS} rooms, "
        f"{len(TYPES)} types), {DAYS} days to {today - DAY}; {appointments:,} appointments, "
        f"{events:,} history events, {written['planning_bookingtask']:,} booking tasks, "
        f"{written['booking_allocation']:,} allocations, "
        f"{written['booking_preparationtask']:,} preparation tasks, {PATIENTS:,} patients; "
        f"seeded in {seeded:.0f} s",
    ]
    for label, scope in scopes.items():
        log(label)
        board = dashboard(scope, now=now)
        with CaptureQueriesContext(connection) as queries:
            dashboard(scope, now=now)

        def whole(scope: Any = scope) -> object:
            return dashboard(scope, now=now)

        timings = timed(whole, REPETITIONS)
        target = TARGET_YEAR_MS if scope.resolution == Resolution.MONTH else TARGET_MONTH_MS
        p95 = percentile(timings, 95)
        lines.append(
            f"{label:<14} {scope.first}..{scope.last}: {board.appointments:,} appointments; "
            f"dashboard p50 {percentile(timings, 50):.0f} ms, p95 {p95:.0f} ms, "
            f"{len(queries.captured_queries)} queries (target < {target} ms: "
            f"{'met' if p95 < target else 'MISSED'})"
        )
        for name, call in section_calls(scope, now).items():
            each = timed(call, 5)
            lines.append(f"    {name:<24} p50 {percentile(each, 50):7.0f} ms")
        if "--explain" in sys.argv and scope.resolution == Resolution.MONTH:
            with connection.cursor() as cursor:
                for query in queries.captured_queries:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(query["sql"]))
                    print(str(query["sql"])[:400])
                    print("\n".join(row[0] for row in cursor.fetchall()), "\n")
    share = board.figure("replanned_share").total
    lines.append(f"(last scope: replanned share {share.value:.3f}, no-shows "
                 f"{board.figure('no_show_rate').total.value:.3f})")  # fmt: skip
    print("\n".join(lines))
    if "--keep" not in sys.argv:
        drop_database(original_url)


if __name__ == "__main__":
    main()
