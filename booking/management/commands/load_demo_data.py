"""Load a demo clinic to try the whole flow on a laptop.

Staff logins, resources with working hours, appointment types with their requirements and
preparations, patients with proxies, availability and referrals, and a few appointments booked
through the booking service (so resources are allocated and preparation tasks created).

Safe to run twice: when the demo clinic exists it says so and changes nothing. Dates are relative
to today and the random choices use a fixed seed, so a run on a given day is reproducible.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.easter import easter
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from access.roles import StaffRole
from booking.demo_history import HISTORY_DAYS, load_history
from booking.errors import BookingError
from booking.models import (
    Absence,
    AbsenceReason,
    ActorKind,
    Appointment,
    AppointmentType,
    Clinic,
    ContactMode,
    PreparationTemplate,
    PreparationTiming,
    Resource,
    ResourceKind,
    ResourceRequirement,
    StaffMembership,
    WorkingHours,
)
from booking.selectors import available_starts
from booking.services import SYSTEM, Actor, appointment_book, preparation_task_mark
from patients.identity import with_check_digits
from patients.models import (
    AvailabilityWindow,
    Language,
    Patient,
    Proxy,
    ProxyKind,
    Referral,
    ReferralPriority,
    ReferralStatus,
    UnavailablePeriod,
)
from patients.services import patient_register
from planning.models import BookingTask
from planning.services import booking_task_create

DEMO_CLINIC = "Medisinsk poliklinikk"
DEMO_ADDRESS = "Sentralsjukehuset, 5. etasje"
DEMO_PASSWORD = "demo1234"
RANDOM_SEED = 20240917
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
MAX_BOOKING_ATTEMPTS = 20
# The working hours hold from before the year of history; a whole number of fortnights back, so
# the fortnightly Fridays fall on the same weeks as they would from a month ago.
HOURS_VALID_FROM_DAYS = 30 + 14 * 28
# Norwegian public holidays (and Christmas and New Year's Eve): (month, day), and days from Easter.
HOLIDAYS = {(1, 1), (5, 1), (5, 17), (12, 24), (12, 25), (12, 26), (12, 31)}
EASTER_HOLIDAYS = {-3, -2, 0, 1, 39, 49, 50}


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: StaffRole
    try_this: str


@dataclass(frozen=True)
class ClinicianSpec:
    name: str
    tags: tuple[str, ...]
    weekdays: tuple[tuple[int, int], ...]  # (weekday, interval_weeks)


@dataclass(frozen=True)
class PatientSpec:
    key: str
    given_name: str
    family_name: str
    age: int
    birthday: tuple[int, int]  # (month, day)
    female: bool
    phone: str = ""
    has_login: bool = False
    language: str = Language.BOKMAL
    uses_digital_services: bool = True


@dataclass(frozen=True)
class ReferralSpec:
    patient: str
    received_days_ago: int
    deadline_days: int
    priority: ReferralPriority
    status: ReferralStatus


@dataclass(frozen=True)
class BookingSpec:
    patient: str
    appointment_type: str
    first_day: int  # days from today
    last_day: int


STAFF = (
    StaffSpec(
        "sekretaer",
        "Siri",
        "Lunde",
        StaffRole.SECRETARY,
        "set up types, resources, working hours and absences at /admin/; book, move or "
        "cancel for patients (e.g. Arne Berg, who does not use digital services) under "
        "/api/v1/staff/",
    ),
    StaffSpec(
        "leder",
        "Tor",
        "Moe",
        StaffRole.LEADER,
        "change the clinic set-up; every appointment change is in the history the "
        "re-planning statistics will count",
    ),
    StaffSpec(
        "lege",
        "Ingrid",
        "Haugen",
        StaffRole.CLINICIAN,
        "read the clinic set-up (/admin/) and the attendance list "
        "(/api/v1/staff/appointments/?clinic=1&date=...)",
    ),
)

CLINICIANS = (
    ClinicianSpec(
        "Ingrid Haugen",
        ("endoscopist", "gastroenterologist"),
        tuple((d, 1) for d in MONDAY_TO_FRIDAY),
    ),
    ClinicianSpec("Lars Berg", ("endoscopist",), tuple((d, 1) for d in MONDAY_TO_FRIDAY)),
    ClinicianSpec("Sofie Nilsen", ("gastroenterologist",), ((1, 1), (3, 1))),
    ClinicianSpec(
        "Maria Johansen", ("gastroenterologist",), tuple((d, 1) for d in MONDAY_TO_FRIDAY)
    ),
    ClinicianSpec("Erik Dahl", ("internist",), ((0, 1), (1, 1), (2, 1), (3, 1), (4, 2))),
    ClinicianSpec("Jonas Lie", ("internist",), tuple((d, 1) for d in MONDAY_TO_FRIDAY)),
)
ROOMS = (
    ("Skopirom 1", "endoscopy"),
    ("Skopirom 2", "endoscopy"),
    ("Konsultasjonsrom 1", "consultation"),
    ("Konsultasjonsrom 2", "consultation"),
)
ENDOSCOPES = ("Koloskop 1", "Koloskop 2")
ABSENT_CLINICIAN = "Lars Berg"

COLONOSCOPY = "Koloskopi"
FIRST_CONSULTATION = "Første konsultasjon"
FOLLOW_UP = "Kontroll"
VIDEO_FOLLOW_UP = "Videokontroll"
SENSITIVE = "Seksuell helse – samtale"
LOCATION = f"{DEMO_CLINIC}, {DEMO_ADDRESS}"

COLONOSCOPY_PREPARATIONS = (
    (
        "Tøm tarmen",
        PreparationTiming.START,
        7,
        "Fra sju dager før undersøkelsen: unngå mat med frø, kjerner og grove fiber. Dagen før: "
        "bare klar væske, og drikk tarmtømmingsmiddelet slik pakningsvedlegget beskriver. Tarmen "
        "må være helt tom for at legen skal se slimhinnen.",
    ),
    (
        "Fyll ut medisinlisten",
        PreparationTiming.DEADLINE,
        5,
        "Før opp alle legemidler du bruker, også naturmidler og kosttilskudd. Bruker du "
        "blodfortynnende medisin, må du ringe poliklinikken.",
    ),
    (
        "Svar på MRSA-skjemaet",
        PreparationTiming.DEADLINE,
        14,
        "Svar på spørsmålene om MRSA og andre resistente bakterier, blant annet om du har vært "
        "innlagt på sykehus eller jobbet i helsevesenet utenfor Norden de siste tolv månedene.",
    ),
)

PATIENTS = (
    PatientSpec(
        "kari", "Kari", "Nordmann", 42, (3, 12), female=True, phone="+4791234567", has_login=True
    ),
    PatientSpec("emil", "Emil", "Nordmann", 10, (6, 2), female=False),
    PatientSpec(
        "ola", "Ola", "Hansen", 58, (11, 23), female=False, phone="+4792345678", has_login=True
    ),
    PatientSpec(
        "per",
        "Per",
        "Olsen",
        67,
        (1, 8),
        female=False,
        phone="+4741234567",
        has_login=True,
        language=Language.NYNORSK,
    ),
    PatientSpec(
        "anne", "Anne", "Berg", 54, (9, 17), female=True, phone="+4748123456", has_login=True
    ),
    PatientSpec(
        "arne",
        "Arne",
        "Berg",
        85,
        (4, 27),
        female=False,
        phone="+4790011223",
        uses_digital_services=False,
    ),
    PatientSpec(
        "nils", "Nils", "Bakken", 35, (8, 5), female=False, phone="+4795566778", has_login=True
    ),
)
PATIENT_HINTS = {
    "kari": "has a colonoscopy with preparations (1/3 done); acts for her son Emil (10) "
    "with a parent proxy: choose a time for his first consultation (a booking task)",
    "ola": "can only come Tuesday and Thursday mornings; change his first consultation",
    "per": "nynorsk; on holiday in two to three weeks; cancel or move his control",
    "anne": "has a video control; acts for her father Arne (85) with a power of attorney",
    "nils": "has a colonoscopy and a sensitive appointment shown to him as 'Samtale'",
}

REFERRALS = (
    ReferralSpec("kari", 20, 60, ReferralPriority.NORMAL, ReferralStatus.SCHEDULED),
    ReferralSpec("emil", 3, 90, ReferralPriority.NORMAL, ReferralStatus.ASSESSED),
    ReferralSpec("ola", 10, 90, ReferralPriority.NORMAL, ReferralStatus.SCHEDULED),
    ReferralSpec("per", 30, 120, ReferralPriority.NORMAL, ReferralStatus.SCHEDULED),
    ReferralSpec("arne", 14, 42, ReferralPriority.HIGH, ReferralStatus.SCHEDULED),
    ReferralSpec("nils", 60, 150, ReferralPriority.NORMAL, ReferralStatus.SCHEDULED),
    ReferralSpec("anne", 200, 60, ReferralPriority.NORMAL, ReferralStatus.COMPLETED),
)

BOOKINGS = (
    BookingSpec("kari", COLONOSCOPY, 21, 35),
    BookingSpec("kari", FOLLOW_UP, 45, 60),
    BookingSpec("ola", FIRST_CONSULTATION, 7, 21),
    BookingSpec("per", FOLLOW_UP, 3, 13),
    BookingSpec("per", COLONOSCOPY, 28, 42),
    BookingSpec("anne", VIDEO_FOLLOW_UP, 2, 10),
    BookingSpec("arne", FIRST_CONSULTATION, 5, 15),
    BookingSpec("arne", FOLLOW_UP, 35, 50),
    BookingSpec("nils", SENSITIVE, 4, 12),
    BookingSpec("nils", COLONOSCOPY, 16, 30),
)


def national_id(born: date, *, female: bool) -> str:
    """A valid fødselsnummer for `born`: the individual number tells the century and, by its
    last digit, the gender (even for women); not every number has valid check digits."""
    first, last = (100, 499) if born.year < 2000 else (500, 999)
    for individual in range(first, last + 1):
        if (individual % 2 == 0) != female:
            continue
        number = with_check_digits(f"{born:%d%m%y}{individual:03d}")
        if number is not None:
            return number
    raise CommandError(f"No national identity number exists for {born}.")


def is_holiday(day: date) -> bool:
    return (day.month, day.day) in HOLIDAYS or (day - easter(day.year)).days in EASTER_HOLIDAYS


def at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


class Command(BaseCommand):
    help = "Create a demo clinic with staff, resources, patients and booked appointments."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--without-history",
            action="store_true",
            help="Leave out the year of past appointments the leaders' statistics show.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            if Clinic.objects.filter(name=DEMO_CLINIC).exists():
                self.stdout.write(
                    f"The demo clinic «{DEMO_CLINIC}» already exists; nothing changed."
                )
            else:
                self._refuse_taken_usernames()
                clinic = self._load()
                if not options.get("without_history"):
                    self._load_history(clinic)
        self._print_logins()

    def _load_history(self, clinic: Clinic) -> None:
        """A year of past appointments and their history, for the leaders' statistics."""
        written = load_history(clinic, today=self.today, tz=self.tz)
        self.stdout.write(
            f"History of the past {HISTORY_DAYS} days: {written['appointments']:,} past "
            f"appointments, {written['events']:,} history events (statistics: log in as leder)."
        )

    def _refuse_taken_usernames(self) -> None:
        usernames = [s.username for s in STAFF] + [p.key for p in PATIENTS if p.has_login]
        taken = get_user_model().objects.filter(username__in=usernames)
        if taken.exists():
            names = ", ".join(sorted(taken.values_list("username", flat=True)))
            raise CommandError(
                f"Users {names} exist but the demo clinic does not; use a fresh database."
            )

    def _load(self) -> Clinic:
        self.tz = ZoneInfo("Europe/Oslo")
        self.today = timezone.localdate(timezone=self.tz)
        self.rng = random.Random(RANDOM_SEED)
        clinic = Clinic.objects.create(
            name=DEMO_CLINIC, address=DEMO_ADDRESS, phone="+4755975000", time_zone="Europe/Oslo"
        )
        self._create_staff(clinic)
        self._create_resources(clinic)
        types = self._create_appointment_types(clinic)
        patients = self._create_patients()
        self._create_referrals(clinic, patients)
        appointments: list[Appointment] = []
        for spec in BOOKINGS:
            appointments.append(self._book(spec, patients, types, booked=appointments))
        self._tick_off_first_preparation(appointments[0], patients["kari"])
        tasks = self._create_booking_tasks(patients, types)
        resource_count = Resource.objects.filter(clinic=clinic).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Created «{DEMO_CLINIC}»: {resource_count} resources, {len(types)} appointment "
                f"types, {len(patients)} patients, {len(appointments)} appointments:"
            )
        )
        for appointment in sorted(appointments, key=lambda a: a.starts_at):
            self._print_appointment(appointment)
        self.stdout.write(f"{len(tasks)} booking tasks:")
        for task in tasks:
            self.stdout.write(
                f"  {task.appointment_type.name:<25} {task.patient.full_name:<14} "
                f"choose by {task.respond_by:%d.%m.%Y}, between {task.earliest_date:%d.%m} "
                f"and {task.latest_date:%d.%m.%Y}"
            )
        return clinic

    def _print_appointment(self, appointment: Appointment) -> None:
        local = timezone.localtime(appointment.starts_at, self.tz)
        resources = ", ".join(a.resource.name for a in appointment.allocations.all())
        self.stdout.write(
            f"  {local:%a %d.%m.%Y %H:%M}  {appointment.appointment_type.name:<25} "
            f"{appointment.patient.full_name:<14} {resources}"
        )

    def _create_staff(self, clinic: Clinic) -> None:
        for spec in STAFF:
            user = get_user_model().objects.create_user(
                username=spec.username,
                password=DEMO_PASSWORD,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@sentralsjukehuset.example",
            )
            StaffMembership.objects.create(user=user, clinic=clinic, role=spec.role)

    def _create_resources(self, clinic: Clinic) -> None:
        valid_from = self.today - timedelta(days=HOURS_VALID_FROM_DAYS)

        def add(
            kind: ResourceKind,
            name: str,
            tags: list[str],
            hours: tuple[tuple[int, int], ...],
            start: time,
            end: time,
        ) -> Resource:
            resource = Resource.objects.create(clinic=clinic, kind=kind, name=name, tags=tags)
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    resource=resource,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                    valid_from=valid_from,
                    interval_weeks=interval,
                )
                for weekday, interval in hours
            )
            return resource

        every_weekday = tuple((d, 1) for d in MONDAY_TO_FRIDAY)
        for c in CLINICIANS:
            clinician = add(
                ResourceKind.CLINICIAN, c.name, list(c.tags), c.weekdays, time(8, 0), time(15, 30)
            )
            if c.name == ABSENT_CLINICIAN:
                self._send_on_course(clinician)
        for name, tag in ROOMS:
            add(ResourceKind.ROOM, name, [tag], every_weekday, time(7, 30), time(16, 0))
        for name in ENDOSCOPES:
            add(
                ResourceKind.EQUIPMENT,
                name,
                ["colonoscope"],
                every_weekday,
                time(7, 30),
                time(16, 0),
            )

    def _send_on_course(self, clinician: Resource) -> None:
        """Away Tuesday and Wednesday next week."""
        next_monday = self.today + timedelta(days=7 - self.today.weekday())
        Absence.objects.create(
            resource=clinician,
            reason=AbsenceReason.COURSE,
            note="Kurs i avansert endoskopi",
            starts_at=at(next_monday + timedelta(days=1), 0, 0, self.tz),
            ends_at=at(next_monday + timedelta(days=3), 0, 0, self.tz),
        )

    def _create_appointment_types(self, clinic: Clinic) -> dict[str, AppointmentType]:
        consultation = ((ResourceKind.CLINICIAN, ""), (ResourceKind.ROOM, "consultation"))
        specs: tuple[tuple[dict[str, Any], tuple[tuple[ResourceKind, str], ...]], ...] = (
            (
                {
                    "name": COLONOSCOPY,
                    "duration_minutes": 60,
                    "grid_minutes": 15,
                    "buffer_after_minutes": 15,
                    "self_bookable": True,
                    "min_notice_hours": 72,
                    "change_cutoff_hours": 48,
                    "max_patient_changes": 2,
                },
                (
                    (ResourceKind.CLINICIAN, "endoscopist"),
                    (ResourceKind.ROOM, "endoscopy"),
                    (ResourceKind.EQUIPMENT, "colonoscope"),
                ),
            ),
            (
                {
                    "name": FIRST_CONSULTATION,
                    "duration_minutes": 45,
                    "grid_minutes": 15,
                    "self_bookable": True,
                    "requires_confirmation": True,
                },
                consultation,
            ),
            (
                {
                    "name": FOLLOW_UP,
                    "duration_minutes": 20,
                    "grid_minutes": 10,
                    "self_bookable": True,
                },
                consultation,
            ),
            (
                {
                    "name": VIDEO_FOLLOW_UP,
                    "duration_minutes": 15,
                    "grid_minutes": 15,
                    "contact_mode": ContactMode.VIDEO,
                    "self_bookable": True,
                    "location": "Video: lenken kommer på SMS",
                },
                ((ResourceKind.CLINICIAN, ""),),
            ),
            (
                {
                    "name": SENSITIVE,
                    "patient_facing_name": "Samtale",
                    "duration_minutes": 30,
                    "grid_minutes": 15,
                    "self_bookable": False,
                },
                consultation,
            ),
        )
        types = {}
        for fields, requirements in specs:
            appointment_type = AppointmentType(clinic=clinic, **{"location": LOCATION, **fields})
            appointment_type.full_clean()
            appointment_type.save()
            ResourceRequirement.objects.bulk_create(
                ResourceRequirement(appointment_type=appointment_type, kind=kind, tag=tag)
                for kind, tag in requirements
            )
            types[appointment_type.name] = appointment_type
        PreparationTemplate.objects.bulk_create(
            PreparationTemplate(
                appointment_type=types[COLONOSCOPY],
                title=title,
                timing=timing,
                days_before=days,
                instructions=instructions,
            )
            for title, timing, days, instructions in COLONOSCOPY_PREPARATIONS
        )
        return types

    def _create_patients(self) -> dict[str, Patient]:
        patients = {spec.key: self._create_patient(spec) for spec in PATIENTS}
        self._add_proxy(
            patients["kari"],
            patients["emil"],
            ProxyKind.PARENT,
            valid_from=patients["emil"].birth_date,
        )
        self._add_proxy(
            patients["anne"],
            patients["arne"],
            ProxyKind.POWER_OF_ATTORNEY,
            valid_from=self.today - timedelta(days=400),
        )
        AvailabilityWindow.objects.bulk_create(
            AvailabilityWindow(
                patient=patients["ola"],
                weekday=weekday,
                start_time=time(8, 0),
                end_time=time(12, 0),
            )
            for weekday in (1, 3)
        )
        UnavailablePeriod.objects.create(
            patient=patients["per"],
            start_date=self.today + timedelta(days=14),
            end_date=self.today + timedelta(days=20),
            reason="Ferie",
        )
        return patients

    def _create_patient(self, spec: PatientSpec) -> Patient:
        month, day = spec.birthday
        born = date(self.today.year - spec.age, month, day)
        user = (
            get_user_model().objects.create_user(
                username=spec.key,
                password=DEMO_PASSWORD,
                first_name=spec.given_name,
                last_name=spec.family_name,
                email=f"{spec.key}@example.no",
            )
            if spec.has_login
            else None
        )
        return patient_register(
            user=user,
            national_id=national_id(born, female=spec.female),
            given_name=spec.given_name,
            family_name=spec.family_name,
            phone=spec.phone,
            email=f"{spec.key}@example.no" if spec.has_login else "",
            preferred_language=spec.language,
            uses_digital_services=spec.uses_digital_services,
        )

    def _add_proxy(
        self, holder: Patient, subject: Patient, kind: ProxyKind, valid_from: date
    ) -> None:
        proxy = Proxy(holder=holder, subject=subject, kind=kind, valid_from=valid_from)
        proxy.full_clean()
        proxy.save()

    def _create_referrals(self, clinic: Clinic, patients: dict[str, Patient]) -> None:
        for spec in REFERRALS:
            received_on = self.today - timedelta(days=spec.received_days_ago)
            Referral.objects.create(
                patient=patients[spec.patient],
                clinic=clinic,
                received_on=received_on,
                care_deadline=received_on + timedelta(days=spec.deadline_days),
                priority=spec.priority,
                status=spec.status,
            )

    def _create_booking_tasks(
        self, patients: dict[str, Patient], types: dict[str, AppointmentType]
    ) -> list[BookingTask]:
        """Emil's first consultation waits for his mother's choice; Nils did not choose his
        control in time, so the clinic's batch plan (or the hourly job) assigns one."""
        emil = patients["emil"]
        return [
            booking_task_create(
                patient=emil,
                appointment_type=types[FIRST_CONSULTATION],
                referral=emil.referrals.get(),
                earliest_date=self.today + timedelta(days=3),
                latest_date=self.today + timedelta(days=42),
                respond_by=self.today + timedelta(days=10),
            ),
            booking_task_create(
                patient=patients["nils"],
                appointment_type=types[FOLLOW_UP],
                earliest_date=self.today + timedelta(days=7),
                latest_date=self.today + timedelta(days=35),
                respond_by=self.today - timedelta(days=1),
            ),
        ]

    def _book(
        self,
        spec: BookingSpec,
        patients: dict[str, Patient],
        types: dict[str, AppointmentType],
        *,
        booked: list[Appointment],
    ) -> Appointment:
        """Book at a random free start the patient can come to, as the clinic's system.

        Starts alongside an appointment already booked are preferred, so the demo shows parallel
        lists (the slot search would otherwise give everything to the first clinician and room).
        """
        patient, appointment_type = patients[spec.patient], types[spec.appointment_type]
        free = available_starts(
            appointment_type=appointment_type,
            patient=patient,
            start=at(self.today + timedelta(days=spec.first_day), 0, 0, self.tz),
            end=at(self.today + timedelta(days=spec.last_day + 1), 0, 0, self.tz),
        )
        starts = self._suitable(patient, free, appointment_type.duration)
        parallel = [s for s in starts if any(a.starts_at <= s < a.ends_at for a in booked)]
        starts = parallel or starts
        for starts_at in self.rng.sample(starts, min(len(starts), MAX_BOOKING_ATTEMPTS)):
            try:
                return appointment_book(
                    patient=patient,
                    appointment_type=appointment_type,
                    starts_at=starts_at,
                    actor=SYSTEM,
                )
            except BookingError:
                continue
        raise CommandError(
            f"No free time for {spec.appointment_type} for {patient} "
            f"between day {spec.first_day} and {spec.last_day}."
        )

    def _suitable(
        self, patient: Patient, starts: list[datetime], duration: timedelta
    ) -> list[datetime]:
        """The starts off the holidays that fit the patient's availability windows and dates."""
        windows = list(patient.availability.all())
        away = list(patient.unavailable.all())

        def fits(starts_at: datetime) -> bool:
            start = timezone.localtime(starts_at, self.tz)
            end = timezone.localtime(starts_at + duration, self.tz)
            return (
                not is_holiday(start.date())
                and not any(p.start_date <= start.date() <= p.end_date for p in away)
                and (
                    not windows
                    or any(
                        w.weekday == start.weekday()
                        and w.start_time <= start.time()
                        and end.time() <= w.end_time
                        for w in windows
                    )
                )
            )

        return [s for s in starts if fits(s)]

    def _tick_off_first_preparation(self, appointment: Appointment, patient: Patient) -> None:
        """The patient has already answered the MRSA form, so the attendance list shows 1/3."""
        task = appointment.preparation_tasks.order_by("due_date").first()
        if task is not None:
            preparation_task_mark(
                task=task, done=True, actor=Actor(user=patient.user, kind=ActorKind.PATIENT)
            )

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password «{DEMO_PASSWORD}» for every user):")
        rows = [(s.username, s.role.value, s.try_this) for s in STAFF]
        rows += [(key, "patient", hint) for key, hint in PATIENT_HINTS.items()]
        for username, role, hint in rows:
            self.stdout.write(f"  {username:<10} {DEMO_PASSWORD:<9} {role:<10} {hint}")
