"""A year of past history for the demo clinic, so the leaders' statistics have something to show.

Past times cannot be booked through the services (they refuse times in the past), so the rows
are written directly, as the services would have written them: each appointment with its
allocations (only while it holds its time: a cancelled one has none, its cancellation's history
row lists what it held), its preparation tasks, and an append-only history whose rows carry the
time they happened. Appointments come through booking tasks for referrals (chosen by the patient
among the first times offered or after asking for more, or assigned by the batch planner after
the due date) or are booked by staff; then some are moved by the patient online, by staff on the
phone, by the clinic's re-plan after an absence or to an earlier time from the waitlist, some
are cancelled (by the patient in time or late, by the clinic, or by a re-plan that found no
time), and the rest end fulfilled or as no-shows. The day plan keeps every resource to one
appointment at a time (buffers included) and every patient to one appointment a day.

The random choices use their own fixed seed, so the demo's other choices do not change.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models

from booking.models import (
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    AppointmentType,
    Clinic,
    EventCause,
    EventKind,
    PreparationTask,
    PreparationTiming,
    Resource,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from booking.services import Actor
from booking.services import _event as history_row
from patients.identity import birth_date, with_check_digits
from patients.models import Patient, Referral, ReferralPriority, ReferralStatus
from planning.models import BookingTask, BookingTaskStatus

HISTORY_SEED = 20251204
HISTORY_DAYS = 365
HISTORY_PATIENTS = 1400
UTC_DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
GIVEN_NAMES = [
    "Anne",
    "Inger",
    "Kari",
    "Marit",
    "Ingrid",
    "Liv",
    "Eva",
    "Berit",
    "Astrid",
    "Bjørg",
    "Hilde",
    "Nora",
    "Emma",
    "Sara",
    "Ida",
    "Maja",
    "Jan",
    "Per",
    "Bjørn",
    "Ole",
    "Lars",
    "Kjell",
    "Knut",
    "Arne",
    "Svein",
    "Thomas",
    "Jonas",
    "Emil",
    "Lukas",
    "Filip",
    "Magnus",
    "Olav",
]
FAMILY_NAMES = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
]
# What the clinic's lists hold on a working day: (first start, appointment types' names).
ENDOSCOPY_STARTS = (time(8, 0), time(9, 15), time(10, 30), time(12, 15), time(13, 30))
CONSULTATION_MIX = (("Første konsultasjon", 4), ("Kontroll", 5), ("Seksuell helse – samtale", 1))
LUNCH = (time(11, 30), time(12, 0))
DAY_END = time(15, 30)
REFERRED_TYPES = ("Koloskopi", "Første konsultasjon", "Seksuell helse – samtale")


def is_working_day(day: date) -> bool:
    from booking.management.commands.load_demo_data import is_holiday

    return day.weekday() < 5 and not is_holiday(day)


@contextmanager
def clocks_as_given(*model_classes: type[models.Model]) -> Iterator[None]:
    """Keep the times set on the rows. bulk_create, like save(), calls each field's pre_save(),
    and an auto_now or auto_now_add field there writes the current time over the value set;
    history rows must keep the time they happened. The fields' flags are off only inside the
    block (one thread: a management command)."""
    fields = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


@dataclass
class Visit:
    """One appointment of the plan, at its final time with the resources it holds then."""

    day: date
    starts_at: datetime  # UTC
    appointment_type: AppointmentType
    resource_ids: tuple[int, ...]
    patient: Patient | None = None


@dataclass
class Rows:
    appointments: list[Appointment] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    events: list[AppointmentEvent] = field(default_factory=list)
    preparations: list[PreparationTask] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    tasks: list[BookingTask] = field(default_factory=list)
    entries: list[WaitlistEntry] = field(default_factory=list)
    offers: list[WaitlistOffer] = field(default_factory=list)


class History:
    def __init__(self, clinic: Clinic, today: date, tz: ZoneInfo) -> None:
        self.clinic, self.today, self.tz = clinic, today, tz
        self.rng = random.Random(HISTORY_SEED)
        self.now = datetime.combine(today, time(0), tzinfo=tz).astimezone(UTC)
        self.first_day = today - timedelta(days=HISTORY_DAYS)
        self.types = {t.name: t for t in clinic.appointment_types.prefetch_related("preparations")}
        self.templates = {name: list(t.preparations.all()) for name, t in self.types.items()}
        self.resources = {r.name: r for r in Resource.objects.filter(clinic=clinic)}
        self.secretary = get_user_model().objects.get(username="sekretaer")
        self.rows = Rows()
        self.busy_days: dict[int, set[date]] = {}

    # --- the plan of the days -----------------------------------------------------------------

    def at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day < self.today:
            if is_working_day(day):
                yield day
            day += UTC_DAY

    def plan(self) -> list[Visit]:
        r = self.resources
        endoscopy = (
            (r["Skopirom 1"].pk, r["Koloskop 1"].pk, r["Ingrid Haugen"].pk),
            (r["Skopirom 2"].pk, r["Koloskop 2"].pk, r["Lars Berg"].pk),
        )
        rooms = (r["Konsultasjonsrom 1"].pk, r["Konsultasjonsrom 2"].pk)
        visits: list[Visit] = []
        for day in self.days():
            # Fewer lists in the summer holidays and around Christmas.
            busy = 0.45 if day.month == 7 or (day.month == 12 and day.day > 20) else 1.0
            for lane in endoscopy:
                for clock in ENDOSCOPY_STARTS:
                    if self.rng.random() < 0.5 * busy:
                        visits.append(self.visit(day, clock, "Koloskopi", lane))
            clinicians = [r["Maria Johansen"].pk, r["Jonas Lie"].pk]
            if day.weekday() in (1, 3):
                clinicians.append(r["Sofie Nilsen"].pk)
            if day.weekday() != 4:
                clinicians.append(r["Erik Dahl"].pk)
            self.rng.shuffle(clinicians)
            for room, clinician in zip(rooms, clinicians, strict=False):
                visits += self.consultations(day, room, clinician, 0.33 * busy)
            if len(clinicians) > 2:
                visits += self.video_controls(day, clinicians[2], 0.15 * busy)
        return visits

    def visit(self, day: date, clock: time, type_name: str, resource_ids: tuple[int, ...]) -> Visit:
        return Visit(day, self.at(day, clock), self.types[type_name], tuple(sorted(resource_ids)))

    def consultations(self, day: date, room: int, clinician: int, share: float) -> list[Visit]:
        names = [name for name, _ in CONSULTATION_MIX]
        weights = [weight for _, weight in CONSULTATION_MIX]
        cursor = datetime.combine(day, time(8, 0))
        out: list[Visit] = []
        while True:
            if LUNCH[0] <= cursor.time() < LUNCH[1]:
                cursor = datetime.combine(day, LUNCH[1])
            kind = self.types[self.rng.choices(names, weights)[0]]
            grid = kind.grid_minutes
            minutes = cursor.hour * 60 + cursor.minute
            cursor += timedelta(minutes=-minutes % grid)
            end = cursor + kind.duration
            if end.time() > DAY_END or end.date() != day:
                return out
            if self.rng.random() < share:
                out.append(self.visit(day, cursor.time(), kind.name, (room, clinician)))
                cursor = end
            else:
                cursor += timedelta(minutes=self.rng.choice((15, 30, 45)))

    def video_controls(self, day: date, clinician: int, share: float) -> list[Visit]:
        out = []
        for quarter in range(4 * 8, 4 * 15):
            clock = time(quarter // 4, 15 * (quarter % 4))
            if not LUNCH[0] <= clock < LUNCH[1] and self.rng.random() < share:
                out.append(self.visit(day, clock, "Videokontroll", (clinician,)))
        return out

    # --- patients -----------------------------------------------------------------------------

    def create_patients(self) -> list[Patient]:
        taken = set(Patient.objects.values_list("national_id", flat=True))
        numbers: list[str] = []
        while len(numbers) < HISTORY_PATIENTS:
            born = self.today - timedelta(days=self.rng.randrange(18 * 365, 90 * 365))
            first, last = (0, 499) if born.year < 2000 else (500, 999)
            number = with_check_digits(f"{born:%d%m%y}{self.rng.randint(first, last):03d}")
            if number is not None and number not in taken:
                taken.add(number)
                numbers.append(number)
        digital = [self.rng.random() < 0.85 for _ in numbers]
        password = make_password(None)  # no login of their own in the demo
        users = iter(
            get_user_model().objects.bulk_create(
                get_user_model()(username=f"demo-pasient-{i:04d}", password=password)
                for i, uses in enumerate(digital)
                if uses
            )
        )
        patients = []
        for number, uses in zip(numbers, digital, strict=True):
            patients.append(
                Patient(
                    user=next(users) if uses else None,
                    national_id=number,
                    birth_date=birth_date(number),
                    given_name=self.rng.choice(GIVEN_NAMES),
                    family_name=self.rng.choice(FAMILY_NAMES),
                    phone=f"+479{self.rng.randrange(10**7):07d}",
                    uses_digital_services=uses,
                )
            )
        return Patient.objects.bulk_create(patients)

    def assign_patients(self, visits: list[Visit], patients: list[Patient]) -> None:
        """Nobody has two appointments on one day (so never two at once)."""
        for visit in visits:
            while True:
                patient = self.rng.choice(patients)
                days = self.busy_days.setdefault(patient.pk, set())
                if visit.day not in days:
                    days.add(visit.day)
                    visit.patient = patient
                    break

    # --- one appointment's story --------------------------------------------------------------

    def between(self, low: datetime, high: datetime) -> datetime:
        """A moment between the two, on a whole minute."""
        span = max(int((high - low).total_seconds() // 60), 1)
        return low + timedelta(minutes=self.rng.randrange(span))

    def pick(self, chances: dict[str, float]) -> str | None:
        """One of the keys, each with its chance, or None with the chance left over."""
        roll = self.rng.random()
        for key, chance in chances.items():
            if roll < chance:
                return key
            roll -= chance
        return None

    def shifted(self, visit: Visit, days: int) -> datetime:
        """The visit's clock time on the working day `days` from it (or the next one after)."""
        day = visit.day + timedelta(days=days)
        step = UTC_DAY if days >= 0 else -UTC_DAY
        while not is_working_day(day):
            day += step
        return self.at(day, self.local(visit.starts_at).time())

    def event(
        self,
        appointment: Appointment,
        kind: EventKind,
        cause: EventCause,
        actor: Actor,
        occurred_at: datetime,
        *,
        old: tuple[datetime | None, datetime | None, list[int], str] = (None, None, [], ""),
        new_status: str,
        new_starts_at: datetime | None,
        new_resource_ids: list[int],
        note: str = "",
    ) -> None:
        """The history row booking.services writes (`_event`), as it was when it happened: the
        status and time given, not the appointment's final ones."""
        row = history_row(
            appointment,
            kind=kind,
            cause=cause,
            actor=actor,
            old=old,
            new_resource_ids=new_resource_ids,
            note=note,
        )
        row.new_status = new_status
        row.new_starts_at = new_starts_at
        row.new_ends_at = (
            new_starts_at + appointment.appointment_type.duration if new_starts_at else None
        )
        row.occurred_at = occurred_at
        self.rows.events.append(row)

    def story(self, visit: Visit, *, cancelled: str | None) -> None:
        rng, kind = self.rng, visit.appointment_type
        assert visit.patient is not None
        patient = visit.patient
        progress = (visit.day - self.first_day).days / HISTORY_DAYS
        staff = Actor(self.secretary, ActorKind.STAFF)
        online = Actor(patient.user, ActorKind.PATIENT)
        notice = timedelta(hours=kind.min_notice_hours)
        resources = list(visit.resource_ids)

        # How its first time was set.
        if not kind.self_bookable or patient.user is None:
            source = "batch" if rng.random() < 0.3 else "staff"
        else:
            roll = rng.random()
            patient_share = 0.35 + 0.3 * progress  # self-booking catches on through the year
            source = (
                "patient"
                if roll < patient_share
                else "batch"
                if roll < patient_share + 0.2
                else "staff"
            )

        # A move before the final time, for appointments that keep a time.
        move = None
        may_wait = kind.self_bookable and patient.user is not None
        if cancelled is not None:
            pass
        elif source == "patient":
            move = self.pick({"patient": 0.06, "phone": 0.02, "replan": 0.025, "waitlist": 0.03})
        else:
            move = self.pick({"phone": 0.03, "replan": 0.025, "waitlist": 0.02 * may_wait})
        final = visit.starts_at
        if move == "waitlist":
            first_time = self.shifted(visit, rng.randint(5, 30))
        elif move is not None:
            first_time = self.shifted(visit, rng.choice((-1, 1)) * rng.randint(2, 21))
        else:
            first_time = final
        earliest = min(first_time, final)

        lead = timedelta(days=rng.randint(5, 45), hours=rng.randint(0, 10))
        booked_at = first_time - lead
        if source == "batch":
            booked_at = booked_at.replace(hour=1, minute=rng.randrange(60))  # the hourly job
        booked_at = min(booked_at, earliest - notice - HOUR)
        status = (
            AppointmentStatus.PENDING
            if kind.requires_confirmation and source == "patient"
            else AppointmentStatus.BOOKED
        )
        appointment = Appointment(
            patient=patient,
            appointment_type=kind,
            clinic=self.clinic,
            starts_at=final,
            ends_at=final + kind.duration,
            status=status,
            created_at=booked_at,
        )
        creator = {
            "patient": (EventCause.PATIENT_CHANGE, online),
            "batch": (
                EventCause.BATCH_PLANNING,
                staff if rng.random() < 0.3 else Actor(None, ActorKind.SYSTEM),
            ),
            "staff": (EventCause.CLINIC_BOOKING, staff),
        }[source]
        self.event(
            appointment,
            EventKind.CREATED,
            creator[0],
            creator[1],
            booked_at,
            new_status=status,
            new_starts_at=first_time,
            new_resource_ids=resources,
        )
        last = booked_at
        if status == AppointmentStatus.PENDING:
            last = booked_at + timedelta(hours=rng.randint(2, 30))
            last = min(last, earliest - 2 * HOUR)
            self.event(
                appointment,
                EventKind.CONFIRMED,
                EventCause.CLINIC_BOOKING,
                staff,
                last,
                old=(first_time, first_time + kind.duration, resources, status),
                new_status=AppointmentStatus.BOOKED,
                new_starts_at=first_time,
                new_resource_ids=resources,
            )
            status = AppointmentStatus.BOOKED

        task = self.booking_task(visit, appointment, source, booked_at, first_time)
        if move is not None:
            last = self.moved(appointment, move, first_time, last, task, resources)
        if cancelled is not None:
            last = self.cancel(appointment, cancelled, last, task, resources)
        else:
            self.rows.allocations += [
                Allocation(
                    appointment=appointment,
                    resource_id=rid,
                    starts_at=final - kind.buffer_before,
                    ends_at=final + kind.duration + kind.buffer_after,
                )
                for rid in resources
            ]
            last = self.outcome(appointment, resources) or last
        appointment.updated_at = last
        if task is not None and task.referral is not None:
            self.finish_referral(task.referral, task, appointment)
        self.preparations(appointment, booked_at)
        self.rows.appointments.append(appointment)

    def booking_task(
        self,
        visit: Visit,
        appointment: Appointment,
        source: str,
        booked_at: datetime,
        first_time: datetime,
    ) -> BookingTask | None:
        """The invitation to choose a time the appointment was booked for, with its referral
        for the first visits; staff book controls on the phone without one."""
        rng, kind = self.rng, appointment.appointment_type
        referred = kind.name in REFERRED_TYPES
        through_task = source in ("patient", "batch") or (referred and rng.random() < 0.5)
        if not through_task and not referred:
            return None
        booked_day = self.local(booked_at).date()
        first_day = self.local(first_time).date()
        if source == "batch":
            respond_by = booked_day - UTC_DAY
            created_day = respond_by - timedelta(days=rng.randint(10, 21))
        else:
            created_day = booked_day - timedelta(days=rng.randint(0, 10))
            respond_by = booked_day + timedelta(days=rng.randint(0, 7))
        earliest = min(first_day, created_day + timedelta(days=rng.randint(3, 10)))
        latest = max(first_day, respond_by, earliest + timedelta(days=28)) + timedelta(
            days=rng.randint(0, 21)
        )
        referral = None
        if referred:
            roll = rng.random()
            priority = (
                ReferralPriority.URGENT
                if roll < 0.03
                else ReferralPriority.HIGH
                if roll < 0.15
                else ReferralPriority.NORMAL
            )
            referral = Referral(
                patient=appointment.patient,
                clinic=self.clinic,
                received_on=created_day - timedelta(days=rng.randint(1, 21)),
                priority=priority,
                care_deadline=latest,  # set once the appointment's day is known
                status=ReferralStatus.ASSESSED,
            )
            self.rows.referrals.append(referral)
        created_at = self.at(created_day, time(rng.randint(8, 14), rng.randrange(60)))
        created_at = min(created_at, booked_at - HOUR)
        if source == "patient":
            status, after_more = BookingTaskStatus.CHOSEN, rng.random() < 0.2 + 0.1 * rng.random()
        elif source == "batch":
            status, after_more = BookingTaskStatus.ASSIGNED, None
        elif through_task:
            status, after_more = BookingTaskStatus.CHOSEN, False  # staff chose for the patient
        else:
            status, after_more = BookingTaskStatus.CANCELLED, None  # booked on the phone instead
        task = BookingTask(
            clinic=self.clinic,
            patient=appointment.patient,
            referral=referral,
            appointment_type=kind,
            earliest_date=earliest,
            latest_date=latest,
            deadline=latest,
            respond_by=respond_by,
            priority=referral.priority if referral else ReferralPriority.NORMAL,
            status=status,
            appointment=appointment if status != BookingTaskStatus.CANCELLED else None,
            chosen_after_more_times=after_more,
            created_by=self.secretary,
            created_at=created_at,
            updated_at=booked_at,
        )
        self.rows.tasks.append(task)
        return task if through_task else None

    def finish_referral(
        self, referral: Referral, task: BookingTask, appointment: Appointment
    ) -> None:
        """The legal deadline: met with room to spare, except for a few breaches."""
        day = self.local(appointment.starts_at).date()
        waited = (day - referral.received_on).days
        if self.rng.random() < 0.035 and waited > 20:
            deadline = day - timedelta(days=self.rng.randint(1, min(14, waited - 10)))
        else:
            norm = {ReferralPriority.URGENT: 30, ReferralPriority.HIGH: 60}.get(
                ReferralPriority(referral.priority), 90
            )
            deadline = max(
                referral.received_on + timedelta(days=norm),
                day + timedelta(days=self.rng.randint(3, 30)),
            )
        referral.care_deadline = deadline
        task.deadline = deadline
        task.earliest_date = min(task.earliest_date, deadline)
        if appointment.status == AppointmentStatus.FULFILLED:
            referral.status = ReferralStatus.COMPLETED
        elif appointment.status != AppointmentStatus.CANCELLED:
            referral.status = ReferralStatus.SCHEDULED

    def moved(
        self,
        appointment: Appointment,
        move: str,
        old_time: datetime,
        last: datetime,
        task: BookingTask | None,
        held: list[int],
    ) -> datetime:
        rng, kind = self.rng, appointment.appointment_type
        new_time = appointment.starts_at
        cutoff = timedelta(hours=kind.change_cutoff_hours)
        notice = timedelta(hours=kind.min_notice_hours)
        staff = Actor(self.secretary, ActorKind.STAFF)
        online = Actor(appointment.patient.user, ActorKind.PATIENT)
        low = last + HOUR
        if move == "patient":
            high = min(old_time - cutoff, new_time - notice) - HOUR
            if high <= low:
                move = "phone"
        if move == "patient":
            cause, actor = EventCause.PATIENT_CHANGE, online
        elif move == "phone":
            cause, actor, high = EventCause.PATIENT_CHANGE, staff, min(old_time, new_time) - HOUR
        elif move == "replan":
            cause, actor = EventCause.CLINIC_REPLANNING, staff
            low = max(low, old_time - timedelta(days=10))
            high = min(old_time, new_time) - timedelta(hours=20)
        else:
            cause, actor, high = EventCause.WAITLIST_FILL, online, new_time - notice
        occurred = self.between(low, max(high, low + HOUR))
        if cause == EventCause.PATIENT_CHANGE:
            appointment.patient_change_count += 1
        self.event(
            appointment,
            EventKind.RESCHEDULED,
            cause,
            actor,
            occurred,
            old=(old_time, old_time + kind.duration, held, AppointmentStatus.BOOKED),
            new_status=AppointmentStatus.BOOKED,
            new_starts_at=new_time,
            new_resource_ids=held,
        )
        if move == "replan":
            self.follow_up(appointment, task, occurred, BookingTaskStatus.MOVED)
        if move == "waitlist":
            entry = WaitlistEntry(
                appointment=appointment, joined_at=self.between(last, occurred - HOUR)
            )
            offered = occurred - timedelta(minutes=rng.randint(5, 600))
            self.rows.entries.append(entry)
            self.rows.offers.append(
                WaitlistOffer(
                    entry=entry,
                    starts_at=new_time,
                    offered_at=offered,
                    expires_at=offered + timedelta(hours=12),
                    status=WaitlistOfferStatus.ACCEPTED,
                    decided_at=occurred,
                )
            )
        return occurred

    def follow_up(
        self,
        appointment: Appointment,
        origin: BookingTask | None,
        occurred: datetime,
        status: BookingTaskStatus,
    ) -> None:
        """The task a re-plan gives the moved (or cancelled) patient: accept the new time or
        choose another. Most patients keep the new time and never answer."""
        day = self.local(occurred).date()
        latest = self.local(appointment.starts_at).date() + timedelta(days=14)
        self.rows.tasks.append(
            BookingTask(
                clinic=self.clinic,
                patient=appointment.patient,
                referral=origin.referral if origin else None,
                appointment_type=appointment.appointment_type,
                earliest_date=day,
                latest_date=max(latest, day),
                deadline=origin.deadline if origin else max(latest, day),
                respond_by=min(day + timedelta(days=3), max(latest, day)),
                priority=origin.priority if origin else ReferralPriority.NORMAL,
                status=status,
                appointment=appointment if status == BookingTaskStatus.MOVED else None,
                created_by=self.secretary,
                created_at=occurred,
                updated_at=occurred,
            )
        )

    def cancel(
        self,
        appointment: Appointment,
        how: str,
        last: datetime,
        task: BookingTask | None,
        held: list[int],
    ) -> datetime:
        kind, start = appointment.appointment_type, appointment.starts_at
        cutoff = timedelta(hours=kind.change_cutoff_hours)
        staff = Actor(self.secretary, ActorKind.STAFF)
        low = last + HOUR
        note = ""
        if how == "patient":
            online = appointment.patient.user is not None and self.rng.random() < 0.7
            actor = Actor(appointment.patient.user, ActorKind.PATIENT) if online else staff
            cause, high = EventCause.PATIENT_CHANGE, start - cutoff - HOUR
        elif how == "late":
            # Past the cutoff the patient can only phone: staff cancel for them.
            actor, cause = staff, EventCause.PATIENT_CHANGE
            low, high = max(low, start - cutoff + HOUR), start - HOUR
        elif how == "clinic":
            actor, cause, high = staff, EventCause.CLINIC_CANCELLATION, start - 2 * HOUR
            note = "Legen er syk"
        else:
            actor, cause = staff, EventCause.CLINIC_REPLANNING
            low, high = max(low, start - timedelta(days=7)), start - 20 * HOUR
            note = "No new time could be found within the re-plan's reach."
        occurred = self.between(low, max(high, low + HOUR))
        self.event(
            appointment,
            EventKind.CANCELLED,
            cause,
            actor,
            occurred,
            old=(start, appointment.ends_at, held, appointment.status),
            new_status=AppointmentStatus.CANCELLED,
            new_starts_at=None,
            new_resource_ids=[],
            note=note,
        )
        appointment.status = AppointmentStatus.CANCELLED
        if how == "replan":
            # The patient was asked to choose a new time; the secretary booked it by phone.
            self.follow_up(appointment, task, occurred, BookingTaskStatus.CANCELLED)
        return occurred

    def outcome(self, appointment: Appointment, held: list[int]) -> datetime | None:
        """Attendance, recorded by staff after the appointment; yesterday's may still wait."""
        end = appointment.ends_at
        if end > self.now - 2 * UTC_DAY and self.rng.random() < 0.3:
            return None
        noshow = self.rng.random() < 0.02 + 0.04 * self.rng.random()
        occurred = end + timedelta(minutes=self.rng.randint(1, 180))
        status = AppointmentStatus.NOSHOW if noshow else AppointmentStatus.FULFILLED
        self.event(
            appointment,
            EventKind.NOSHOW if noshow else EventKind.STATUS_CHANGED,
            EventCause.ATTENDANCE,
            Actor(self.secretary, ActorKind.STAFF),
            occurred,
            old=(None, None, [], appointment.status),
            new_status=status,
            new_starts_at=appointment.starts_at,
            new_resource_ids=held,
        )
        appointment.status = status
        return occurred

    def preparations(self, appointment: Appointment, booked_at: datetime) -> None:
        """The type's preparations, mostly ticked off in time by the patient."""
        day = self.local(appointment.starts_at).date()
        for template in self.templates[appointment.appointment_type.name]:
            due = day - timedelta(days=template.days_before)
            last_day = due if template.timing == PreparationTiming.DEADLINE else day
            roll = self.rng.random()
            done_at = None
            if roll < 0.86:
                done_day = last_day - timedelta(days=self.rng.randint(0, 4))
                if template.timing == PreparationTiming.START:
                    done_day = max(done_day, due)
                done_at = self.at(done_day, time(self.rng.randint(7, 22), self.rng.randrange(60)))
            elif roll < 0.94:
                late = last_day + timedelta(days=self.rng.randint(1, 3))
                done_at = self.at(late, time(self.rng.randint(7, 22), self.rng.randrange(60)))
            if done_at is not None:
                done_at = min(max(done_at, booked_at + HOUR), self.now - HOUR)
            self.rows.preparations.append(
                PreparationTask(
                    appointment=appointment,
                    template=template,
                    title=template.title,
                    instructions=template.instructions,
                    timing=template.timing,
                    due_date=due,
                    done_at=done_at,
                    done_by=appointment.patient.user if done_at else None,
                )
            )

    # --- all of it ----------------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        visits = self.plan()
        # Times cancelled and given to someone else, or left free: extra appointments.
        cancelled = [
            Visit(v.day, v.starts_at, v.appointment_type, v.resource_ids)
            for v in self.rng.sample(visits, len(visits) // 11)
        ]
        patients = self.create_patients()
        self.assign_patients(visits + cancelled, patients)
        how = ("patient",) * 45 + ("late",) * 17 + ("clinic",) * 20 + ("replan",) * 18
        for visit in visits:
            self.story(visit, cancelled=None)
        for visit in cancelled:
            self.story(visit, cancelled=self.rng.choice(how))
        self.write()
        return {"appointments": len(self.rows.appointments), "events": len(self.rows.events)}

    def write(self) -> None:
        rows = self.rows
        with clocks_as_given(
            Appointment, AppointmentEvent, BookingTask, WaitlistEntry, WaitlistOffer
        ):
            Appointment.objects.bulk_create(rows.appointments, batch_size=2000)
            Allocation.objects.bulk_create(rows.allocations, batch_size=2000)
            PreparationTask.objects.bulk_create(rows.preparations, batch_size=2000)
            AppointmentEvent.objects.bulk_create(rows.events, batch_size=2000)
            Referral.objects.bulk_create(rows.referrals, batch_size=2000)
            BookingTask.objects.bulk_create(rows.tasks, batch_size=2000)
            WaitlistEntry.objects.bulk_create(rows.entries, batch_size=2000)
            WaitlistOffer.objects.bulk_create(rows.offers, batch_size=2000)


def load_history(clinic: Clinic, *, today: date, tz: ZoneInfo) -> dict[str, Any]:
    """Write a year of history before `today` for the demo clinic; returns what it wrote."""
    return History(clinic, today, tz).load()


__all__ = ["clocks_as_given", "load_history"]
