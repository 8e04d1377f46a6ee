"""A seeded hospital department for the booking bench: resources, working hours, types, and
existing bookings filling about 80 % of every resource's time.

Everything is written with bulk_create straight into the tables (no services, no history rows),
so the load takes seconds. Bookings respect the database's own rules: no resource and no patient
is ever in two holding appointments at once.

Layout: each working day (Mon-Fri 08:00-16:00 Europe/Oslo) is cut into 16 half-hour positions.
Every resource is busy in 13 of its 16 positions on 80 % of days and 12 on the rest (12.8/16 =
80 % on average), chosen at random per resource-day. Per position, the busy clinicians, rooms and
equipment are paired into appointments of the department's types: clinician+room+equipment
(Gastroskopi) first, then clinician+room, room+equipment, and single-resource types for the rest.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from booking.models import (
    Allocation,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    PreparationTiming,
    Resource,
    ResourceKind,
    ResourceRequirement,
    WorkingHours,
)
from patients.identity import birth_date, with_check_digits
from patients.models import Patient

TZ = ZoneInfo("Europe/Oslo")
DAY_START = time(8, 0)
DAY_END = time(16, 0)
POSITION = timedelta(minutes=30)
POSITIONS_PER_DAY = 16
RESOURCE_COUNTS: dict[str, int] = {
    ResourceKind.CLINICIAN: 50,
    ResourceKind.ROOM: 30,
    ResourceKind.EQUIPMENT: 10,
}
RESOURCE_NAMES: dict[str, str] = {
    ResourceKind.CLINICIAN: "Lege",
    ResourceKind.ROOM: "Rom",
    ResourceKind.EQUIPMENT: "Skopirigg",
}
C, R, E = ResourceKind.CLINICIAN, ResourceKind.ROOM, ResourceKind.EQUIPMENT

# name -> (kinds needed, duration, grid); the first one is the slot-search type.
FILL_TYPES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "Gastroskopi": ((C, R, E), 30, 5),
    "Poliklinisk konsultasjon": ((C, R), 30, 15),
    "Infusjon": ((R, E), 30, 30),
    "Telefonkonsultasjon": ((C,), 30, 15),
    "Sykepleiersamtale": ((R,), 30, 15),
    "Utlevering av utstyr": ((E,), 30, 30),
}
SEARCH_TYPE = "Gastroskopi"
BOOKING_TYPE = "Kort kontroll"  # clinician + room, 15 min on a 15-minute grid


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def working_days(first_monday: date, weeks: int) -> list[date]:
    return [first_monday + timedelta(weeks=w, days=d) for w in range(weeks) for d in range(5)]


def position_start(day: date, position: int) -> datetime:
    """Start of a half-hour position, as an aware UTC datetime."""
    local = datetime.combine(day, DAY_START, tzinfo=TZ) + position * POSITION
    return local.astimezone(UTC)


@dataclass
class Department:
    clinic: Clinic
    resources: dict[str, list[Resource]]
    types: dict[str, AppointmentType]
    days: list[date]
    horizon_days: int

    @property
    def period_start(self) -> datetime:
        return datetime.combine(self.days[0], time(0), tzinfo=TZ)

    @property
    def period_end(self) -> datetime:
        return datetime.combine(self.days[-1] + timedelta(days=1), time(0), tzinfo=TZ)


@dataclass
class FillStats:
    appointments: int = 0
    allocations: int = 0
    per_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def create_department(first_monday: date, weeks: int) -> Department:
    clinic = Clinic.objects.create(name="Medisinsk poliklinikk (bench)", time_zone=TZ.key)
    resources: dict[str, list[Resource]] = {}
    for kind, count in RESOURCE_COUNTS.items():
        resources[kind] = Resource.objects.bulk_create(
            Resource(clinic=clinic, kind=kind, name=f"{RESOURCE_NAMES[kind]} {i + 1:02d}")
            for i in range(count)
        )
    WorkingHours.objects.bulk_create(
        WorkingHours(
            resource=res,
            weekday=weekday,
            start_time=DAY_START,
            end_time=DAY_END,
            valid_from=first_monday,
        )
        for group in resources.values()
        for res in group
        for weekday in range(5)
    )
    # The horizon covers the whole period from today; notice 0 lets the bench book right away.
    horizon_days = (first_monday - datetime.now(TZ).date()).days + 7 * weeks + 7
    types: dict[str, AppointmentType] = {}
    for name, (kinds, duration, grid) in [*FILL_TYPES.items(), (BOOKING_TYPE, ((C, R), 15, 15))]:
        types[name] = AppointmentType.objects.create(
            clinic=clinic,
            name=name,
            duration_minutes=duration,
            grid_minutes=grid,
            self_bookable=True,
            min_notice_hours=0,
            booking_horizon_days=horizon_days,
        )
        ResourceRequirement.objects.bulk_create(
            ResourceRequirement(appointment_type=types[name], kind=kind) for kind in kinds
        )
    PreparationTemplate.objects.create(
        appointment_type=types[SEARCH_TYPE],
        title="Faste fra midnatt",
        timing=PreparationTiming.START,
        days_before=1,
    )
    PreparationTemplate.objects.create(
        appointment_type=types[BOOKING_TYPE],
        title="Send inn egenerklæring",
        timing=PreparationTiming.DEADLINE,
        days_before=3,
    )
    return Department(clinic, resources, types, working_days(first_monday, weeks), horizon_days)


def national_ids(rng: random.Random, n: int, taken: set[str] | None = None) -> list[str]:
    """n distinct valid fødselsnummer, born 1940-1999, none of them in `taken`."""
    seen: set[str] = set(taken or ())
    out: list[str] = []
    while len(out) < n:
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        number = with_check_digits(f"{born:%d%m%y}{rng.randrange(500):03d}")
        if number is not None and number not in seen:
            seen.add(number)
            out.append(number)
    return out


def create_patients(
    rng: random.Random,
    n: int,
    *,
    with_users: bool = False,
    password_hash: str = "",
    prefix: str = "bench",
) -> list[Patient]:
    """Patients (bulk); with users sharing one precomputed password hash if asked."""
    taken = set(Patient.objects.values_list("national_id", flat=True))
    users: list[User | None] = [None] * n
    if with_users:
        user_model = get_user_model()
        offset = user_model.objects.filter(username__startswith=prefix).count()
        users = list(
            user_model.objects.bulk_create(
                user_model(username=f"{prefix}{offset + i:05d}", password=password_hash)
                for i in range(n)
            )
        )
    patients = [
        Patient(
            user=user,
            national_id=number,
            birth_date=birth_date(number),
            given_name=rng.choice(["Kari", "Ola", "Ingrid", "Per", "Nora", "Jonas"]),
            family_name=rng.choice(["Hansen", "Johansen", "Olsen", "Larsen", "Berg"]),
            phone="+4791234567",
        )
        for user, number in zip(users, national_ids(rng, n, taken), strict=True)
    ]
    return Patient.objects.bulk_create(patients, batch_size=5000)


def _busy_positions(rng: random.Random, ids: list[int], utilisation: float) -> dict[int, set[int]]:
    """Per resource, the positions it is busy in on one day."""
    mean = utilisation * POSITIONS_PER_DAY
    low = int(mean)
    out: dict[int, set[int]] = {}
    for rid in ids:
        k = low + (rng.random() < mean - low)
        out[rid] = set(rng.sample(range(POSITIONS_PER_DAY), k))
    return out


def _pair_up(busy: dict[str, list[int]]) -> list[tuple[str, tuple[int, ...]]]:
    """Split one position's busy resources into appointments of the fill types."""
    pools = {kind: list(ids) for kind, ids in busy.items()}
    out: list[tuple[str, tuple[int, ...]]] = []
    for name, (kinds, _, _) in FILL_TYPES.items():
        while all(pools[kind] for kind in kinds):
            out.append((name, tuple(pools[kind].pop() for kind in kinds)))
    return out


def fill(
    rng: random.Random, dept: Department, patients: list[Patient], utilisation: float = 0.8
) -> FillStats:
    """Book about `utilisation` of every resource-day with non-overlapping appointments."""
    if len(patients) < sum(RESOURCE_COUNTS.values()):
        raise ValueError("need more patients than resources to keep patients free of overlaps")
    stats = FillStats()
    ids = {kind: [r.id for r in group] for kind, group in dept.resources.items()}
    patient_ids = [p.id for p in patients]
    planned: list[tuple[Appointment, tuple[int, ...]]] = []
    cursor = 0
    for day in dept.days:
        busy_by_kind = {kind: _busy_positions(rng, ids[kind], utilisation) for kind in ids}
        for position in range(POSITIONS_PER_DAY):
            busy = {
                kind: [
                    rid for rid, positions in busy_by_kind[kind].items() if position in positions
                ]
                for kind in ids
            }
            for pool in busy.values():
                rng.shuffle(pool)
            start = position_start(day, position)
            # Consecutive patients within one position: nobody is in two places at once.
            for name, resource_ids in _pair_up(busy):
                appointment_type = dept.types[name]
                planned.append(
                    (
                        Appointment(
                            patient_id=patient_ids[cursor % len(patient_ids)],
                            appointment_type=appointment_type,
                            clinic=dept.clinic,
                            starts_at=start,
                            ends_at=start + POSITION,
                            status=AppointmentStatus.BOOKED,
                        ),
                        resource_ids,
                    )
                )
                cursor += 1
                stats.per_type[name] += 1
    appointments = Appointment.objects.bulk_create([a for a, _ in planned], batch_size=5000)
    allocations = [
        Allocation(
            appointment=appointment,
            resource_id=rid,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
        )
        for appointment, (_, resource_ids) in zip(appointments, planned, strict=True)
        for rid in resource_ids
    ]
    Allocation.objects.bulk_create(allocations, batch_size=10000)
    stats.appointments = len(appointments)
    stats.allocations = len(allocations)
    return stats
