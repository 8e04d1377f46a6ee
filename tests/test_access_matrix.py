"""Who may do what: every URL of the site, every operation of /api/v1/, by every kind of user,
against every object.

The rules the product promises:

1. A patient sees and changes only their own data and that of the people they hold a currently
   valid proxy for; an expired, not yet valid or revoked proxy gives nothing. Anyone else's
   object answers 404, in lists (it is simply absent) and in detail views alike; a write to it
   answers 404 and changes nothing.
2. Staff see only the clinics they are members of: another clinic's objects answer 404 (or are
   absent from lists); a role that may only read (clinician) cannot write (403 or 404) and
   changes nothing.
3. Every read of a patient's data by staff is logged (PatientAccessLog: staff user, patient,
   action); a refused read logs nothing.
4. Anonymous requests get 401/403 everywhere under /api/v1/ except the login and CSRF endpoints,
   and the SMS gateway's delivery reports, which prove themselves with a shared secret instead
   of a session (whoever sends it is the gateway; without it, 403: tests/notifications).
5. Staff see a patient only while the patient is in the care of one of their clinics (a
   referral, booking task or appointment there); any other patient id answers 404. Looking a
   patient up by national identity number, to register a referral, is the one way in, for a
   secretary or leader of the clinic, and it is logged with its purpose.
6. The Django admin is for clinic staff and Django's own staff users (a superuser here);
   patients and the anonymous are sent to its login page. There staff see and change their
   clinics' configuration as in the API (clinicians only see it), and Django's users and
   groups are the superuser's alone. A superuser sees no patient's data through the API, nor
   any clinic's configuration in the admin: staff rights come from clinic memberships.

The world: two clinics, A and B, each with a clinician and a room, a self-bookable type with a
preparation, an absence over booked appointments, a proposed batch plan, referrals and booking
tasks. Alice is a patient of clinic A; Bob of clinic B. A parent holds a valid proxy for a child
(an appointment in B, a booking task in A). Three more patients hold a proxy that gives nothing
today: one that expired yesterday (for Alice), one revoked (for Bob) and one that starts tomorrow
(for the child). While it was still valid, the revoked proxy's holder booked for Bob and chose
a time for one of his booking tasks, each with an Idempotency-Key; the clinic has since
cancelled both appointments. Staff: a secretary and a clinician of clinic A, a secretary of
clinic B.

Each table row is one operation of the OpenAPI schema with the objects it is tried on and the
rule that says who may; every row runs for every actor (anonymous too) against each object.
Each case checks

- the status: the row's success status for those the rule allows, 404 for someone else's
  object, 403/404 for a role that may not or a patient on a staff endpoint, 401/403 anonymous;
- what an allowed answer holds: the object asked for, or exactly the objects the actor may see;
- no answer carries a patient the actor may not see (patient summaries are looked for anywhere
  in the answer);
- the access log: an allowed staff request answering with a patient's data (or offers for their
  task) logs exactly those patients for that staff user; every other request logs nothing;
- a refused write changed no row of the tracked tables.

`test_every_url_has_a_policy_row` holds the tables to Django's URL resolver: a URL pattern (an
API endpoint, a page, the admin's) that no row names fails it, with the list of those URLs.
`test_the_tables_cover_every_operation_of_the_schema` holds them to drf-spectacular's schema,
method by method; `test_every_row_allows_someone_and_refuses_someone` keeps a row from passing
because nobody (or everybody) may use it.

Where the rules leave room, this module assumes:

- Patient lookup (GET /staff/patients/lookup/) and registering a referral by national
  identity number may reach any patient in the register; both need a secretary or leader of
  the named clinic. The `patient` of a staff booking must be in the care of the type's clinic,
  and a booking task needs a referral of that patient in the type's clinic.
- Creating a row whose body refers to another clinic's clinic, resource, type or referral may
  answer 400 ("does not exist") or 404: the 404 of the rules is for objects asked for by URL,
  and a 400 that treats the id as unknown tells no more.
- A patient on a staff endpoint gets 403 (or 404); staff have no patient record, so patient
  endpoints answer them 404, or an empty list.
- A staff answer to a write that shows a patient's data (book, move, cancel, booking task, plan)
  is a read of that data too and is logged; configuration answers carry no patient data.
- Logging out needs a session like every other endpoint but login and CSRF (401/403 anonymous).

The world is built once for the module inside a transaction rolled back at the end; every case
runs in a savepoint of it, so a case's writes vanish with it. The clock is the suite's: Monday
2027-01-04 07:00 Europe/Oslo.
"""

import enum
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import DatabaseError, models
from django.http import HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve
from rest_framework.test import APIClient

from access.roles import StaffRole
from audit.models import PatientAccessLog
from booking import services
from booking.api.idempotency import HEADER
from booking.models import (
    Absence,
    Appointment,
    AppointmentType,
    Clinic,
    PreparationTask,
    PreparationTemplate,
    Resource,
    ResourceKind,
    StaffMembership,
    WorkingHours,
)
from patients.models import Patient, Proxy, ProxyKind, Referral
from planning import services as planning_services
from planning.models import (
    BookingTask,
    BookingTaskStatus,
    PlanItem,
    PlanKind,
    PlanProposal,
)
from tests import factories
from tests.conftest import NOW, oslo
from tests.whole_api import (
    TRACKED,
    crash,
    rolled_back_world,
    schema_operations,
    session_key,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

API = "/api/v1"
PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's
WED_6_10 = "2027-01-06T10:00:00+01:00"  # free in both clinics
THU_14_10 = "2027-01-14T10:00:00+01:00"  # free in both clinics: where appointments move to
ATTENDANCE_DAY = "2027-01-13"  # the day of the booked appointments
REPLAYED_AT = "2027-01-20T10:00:00+01:00"
REPLAY_KEY = "booked-while-the-proxy-was-valid"
CHOOSE_KEY = "chosen-while-the-proxy-was-valid"
TASK_DATES = {
    "earliest_date": "2027-01-05",
    "latest_date": "2027-01-29",
    "respond_by": "2027-01-11",
}


# --- The world ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    user_id: int | None = None
    own: str | None = None  # the actor's own patient record
    patients: frozenset[str] = frozenset()  # own record and valid proxies
    reads: frozenset[str] = frozenset()  # clinics the actor is a member of
    writes: frozenset[str] = frozenset()  # clinics the actor may change
    leads: frozenset[str] = frozenset()  # clinics whose statistics the actor may view
    superuser: bool = False  # Django's own staff user: the admin, and nothing else

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    @property
    def staff(self) -> bool:
        return bool(self.reads)


@dataclass(frozen=True)
class Obj:
    pk: int
    patient: str | None = None  # whose data it is
    clinic: str | None = None  # "A" or "B"


@dataclass
class World:
    objs: dict[str, Obj]
    actors: dict[str, Actor]
    sessions: dict[str, str]
    groups: dict[tuple[str, str], frozenset[int]]  # (kind, clinic or patient) -> ids
    national_ids: dict[str, str]
    usernames: dict[str, str]
    offered: dict[str, str]  # an open task -> a time it offers
    patient_names: dict[int, str] = field(default_factory=dict)  # patient id -> name

    def pk(self, name: str) -> int:
        return self.objs[name].pk

    def patient_of(self, name: str, actor: Actor) -> str | None:
        return actor.own if name == "self" else self.objs[name].patient

    def union(self, kind: str, keys: frozenset[str]) -> set[int]:
        return {pk for key in keys for pk in self.groups.get((kind, key), frozenset())}


PATIENT_ACTORS = ("alice", "bob", "parent", "expired", "revoked", "future")
STAFF_ACTORS = ("sec_a", "clin_a", "sec_b", "lead_a", "lead_b")
ACTORS = (*PATIENT_ACTORS, *STAFF_ACTORS, "superuser", "anonymous")


def family_name(name: str) -> str:
    """Each world patient's own family name, which no other text of a page contains."""
    return f"Tilgang{name.capitalize()}"


def _patient(name: str, born: date = date(1980, 5, 17), *, user: bool = True) -> Patient:
    return factories.PatientFactory.create(
        born=born,
        given_name=name.capitalize(),
        family_name=family_name(name),
        **({} if user else {"user": None}),
    )


def _clinic(label: str) -> tuple[Clinic, Resource, Resource, AppointmentType]:
    clinic = factories.ClinicFactory.create(name=f"Poliklinikk {label}")
    clinician = factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["endoscopist"])
    room = factories.weekday_resource(clinic, ResourceKind.ROOM, ["consultation"])
    control = factories.AppointmentTypeFactory.create(clinic=clinic, name=f"Kontroll {label}")
    factories.requirement(control, ResourceKind.CLINICIAN)
    factories.requirement(control, ResourceKind.ROOM)
    PreparationTemplate.objects.create(
        appointment_type=control, title="Medisinliste", timing="deadline", days_before=5
    )
    return clinic, clinician, room, control


def _book(patient: Patient, appointment_type: AppointmentType, starts_at: datetime) -> Appointment:
    return services.appointment_book(
        patient=patient,
        appointment_type=appointment_type,
        starts_at=starts_at,
        actor=services.SYSTEM,
    )


def _moved_task(appointment: Appointment) -> BookingTask:
    """What a re-plan leaves: the clinic moved the appointment; the patient may accept it."""
    return BookingTask.objects.create(
        clinic=appointment.clinic,
        patient=appointment.patient,
        appointment_type=appointment.appointment_type,
        earliest_date=date(2027, 1, 4),
        latest_date=date(2027, 1, 27),
        deadline=date(2027, 1, 27),
        respond_by=date(2027, 1, 11),
        status=BookingTaskStatus.MOVED,
        appointment=appointment,
    )


def _plan(clinic: Clinic, tasks: list[BookingTask]) -> PlanProposal:
    """A proposed batch plan with an item (unplaced, so applying it books nothing) per task."""
    plan = PlanProposal.objects.create(clinic=clinic, kind=PlanKind.BATCH)
    for task in tasks:
        PlanItem.objects.create(
            proposal=plan, patient=task.patient, booking_task=task, unplaced_reason="not_planned"
        )
    return plan


def _build_world() -> World:
    clinic_a, clinician_a, _, type_a = _clinic("A")
    clinic_b, clinician_b, _, type_b = _clinic("B")
    internal_b = factories.AppointmentTypeFactory.create(
        clinic=clinic_b, name="Intern B", self_bookable=False
    )
    factories.requirement(internal_b, ResourceKind.CLINICIAN)

    sec_a = factories.StaffFactory.create(clinic=clinic_a, role=StaffRole.SECRETARY).user
    clin_a = factories.StaffFactory.create(clinic=clinic_a, role=StaffRole.CLINICIAN).user
    sec_b = factories.StaffFactory.create(clinic=clinic_b, role=StaffRole.SECRETARY).user
    lead_a = factories.StaffFactory.create(clinic=clinic_a, role=StaffRole.LEADER).user
    lead_b = factories.StaffFactory.create(clinic=clinic_b, role=StaffRole.LEADER).user
    superuser = User.objects.create_superuser("admin", password=PASSWORD)

    alice, bob, parent = _patient("alice"), _patient("bob"), _patient("parent")
    child = _patient("child", date(2016, 3, 1), user=False)
    expired, revoked, future = _patient("expired"), _patient("revoked"), _patient("future")
    factories.ProxyFactory.create(holder=parent, subject=child, kind=ProxyKind.PARENT)
    factories.ProxyFactory.create(
        holder=expired,
        subject=alice,
        kind=ProxyKind.POWER_OF_ATTORNEY,
        valid_from=date(2025, 1, 1),
        valid_until=date(2027, 1, 3),  # yesterday
    )
    revoked_proxy = factories.ProxyFactory.create(
        holder=revoked, subject=bob, kind=ProxyKind.POWER_OF_ATTORNEY
    )
    factories.ProxyFactory.create(
        holder=future, subject=child, kind=ProxyKind.PARENT, valid_from=date(2027, 1, 5)
    )

    appt_alice = _book(alice, type_a, oslo(2027, 1, 13, 10))
    appt_bob = _book(bob, type_b, oslo(2027, 1, 13, 10))
    appt_child = _book(child, type_b, oslo(2027, 1, 13, 11))

    referral_alice = alice.referrals.create(
        clinic=clinic_a, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )
    referral_bob = bob.referrals.create(
        clinic=clinic_b, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )

    def open_task(
        patient: Patient, kind: AppointmentType, referral: Referral | None
    ) -> BookingTask:
        return planning_services.booking_task_create(
            patient=patient,
            appointment_type=kind,
            earliest_date=date(2027, 1, 5),
            latest_date=date(2027, 1, 29),
            respond_by=date(2027, 1, 11),
            referral=referral,
        )

    task_alice = open_task(alice, type_a, referral_alice)
    task_child = open_task(child, type_a, None)
    task_bob = open_task(bob, type_b, referral_bob)
    task_bob_again = open_task(bob, type_b, None)
    # While the proxy was valid, its holder booked for Bob and chose a time for one of his
    # booking tasks, each with an Idempotency-Key. The clinic has since cancelled both
    # appointments (the task is open again), and the proxy was revoked.
    assert revoked.user is not None
    assert alice.user is not None
    holder_api = APIClient()
    holder_api.force_login(revoked.user)
    booked = holder_api.post(
        f"{API}/appointments/",
        {"appointment_type": type_b.pk, "starts_at": REPLAYED_AT, "patient": bob.pk},
        format="json",
        headers={HEADER: REPLAY_KEY},
    )
    assert booked.status_code == 201, booked.content
    first_time = planning_services.booking_task_offers(task=task_bob_again, count=1).offers[0]
    chose_at = first_time.starts_at.isoformat()
    chosen = holder_api.post(
        f"{API}/booking-tasks/{task_bob_again.pk}/choose/",
        {"starts_at": chose_at},
        format="json",
        headers={HEADER: CHOOSE_KEY},
    )
    assert chosen.status_code == 201, chosen.content
    for answer in (booked, chosen):
        cancelled = Appointment.objects.get(pk=answer.json()["id"])
        services.appointment_cancel(appointment=cancelled, actor=services.SYSTEM)
    BookingTask.objects.filter(pk=task_bob_again.pk).update(
        status=BookingTaskStatus.OPEN, appointment=None
    )
    revoked_proxy.revoked_at = NOW - timedelta(days=2)
    revoked_proxy.save()

    moved_alice, moved_child, moved_bob = map(_moved_task, (appt_alice, appt_child, appt_bob))

    absence_a = Absence.objects.create(
        resource=clinician_a,
        starts_at=oslo(2027, 1, 13, 9),
        ends_at=oslo(2027, 1, 13, 11),
        reason="sick",
    )
    absence_b = Absence.objects.create(
        resource=clinician_b,
        starts_at=oslo(2027, 1, 13, 9),
        ends_at=oslo(2027, 1, 13, 12),
        reason="sick",
    )
    plan_a = _plan(clinic_a, [task_alice, task_child])
    plan_b = _plan(clinic_b, [task_bob])

    offered = {}
    for name, task in (
        ("task_alice", task_alice),
        ("task_child", task_child),
        ("task_bob", task_bob),
    ):
        offers = planning_services.booking_task_offers(task=task, count=1).offers
        assert offers, f"{name} offers no time"
        offered[name] = offers[0].starts_at.isoformat()
    offered["task_bob_again"] = chose_at

    def prep(appointment: Appointment) -> PreparationTask:
        return appointment.preparation_tasks.get()

    patients = {
        "alice": alice, "bob": bob, "parent": parent, "child": child,
        "expired": expired, "revoked": revoked, "future": future,
    }  # fmt: skip
    objs: dict[str, Obj] = {name: Obj(p.pk, patient=name) for name, p in patients.items()}
    for label, clinic in (("a", clinic_a), ("b", clinic_b)):
        objs[f"clinic_{label}"] = Obj(clinic.pk, clinic=label.upper())
    mine: dict[str, tuple[models.Model, str | None, str]] = {
        "clinician_a": (clinician_a, None, "A"),
        "clinician_b": (clinician_b, None, "B"),
        "hours_a": (clinician_a.working_hours.order_by("pk")[0], None, "A"),
        "hours_b": (clinician_b.working_hours.order_by("pk")[0], None, "B"),
        "absence_a": (absence_a, None, "A"),
        "absence_b": (absence_b, None, "B"),
        "type_a": (type_a, None, "A"),
        "type_b": (type_b, None, "B"),
        "appt_alice": (appt_alice, "alice", "A"),
        "appt_bob": (appt_bob, "bob", "B"),
        "appt_child": (appt_child, "child", "B"),
        "prep_alice": (prep(appt_alice), "alice", "A"),
        "prep_bob": (prep(appt_bob), "bob", "B"),
        "prep_child": (prep(appt_child), "child", "B"),
        "task_alice": (task_alice, "alice", "A"),
        "task_child": (task_child, "child", "A"),
        "task_bob": (task_bob, "bob", "B"),
        "task_bob_again": (task_bob_again, "bob", "B"),
        "moved_alice": (moved_alice, "alice", "A"),
        "moved_child": (moved_child, "child", "B"),
        "moved_bob": (moved_bob, "bob", "B"),
        "referral_alice": (referral_alice, "alice", "A"),
        "referral_bob": (referral_bob, "bob", "B"),
        "plan_a": (plan_a, None, "A"),
        "plan_b": (plan_b, None, "B"),
    }
    objs["user_alice"] = Obj(alice.user.pk, patient="alice")
    objs["group"] = Obj(Group.objects.create(name="Sekretærer").pk)
    for name, (row, whose, clinic_label) in mine.items():
        objs[name] = Obj(row.pk, patient=whose, clinic=clinic_label)

    groups: dict[tuple[str, str], frozenset[int]] = {}
    for label, clinic in (("A", clinic_a), ("B", clinic_b)):
        groups["clinics", label] = frozenset([clinic.pk])
        groups["resources", label] = frozenset(clinic.resources.values_list("pk", flat=True))
        groups["hours", label] = frozenset(
            WorkingHours.objects.filter(resource__clinic=clinic).values_list("pk", flat=True)
        )
        groups["absences", label] = frozenset(
            Absence.objects.filter(resource__clinic=clinic).values_list("pk", flat=True)
        )
        groups["types", label] = frozenset(clinic.appointment_types.values_list("pk", flat=True))
        groups["tasks", label] = frozenset(clinic.booking_tasks.values_list("pk", flat=True))
        groups["plans", label] = frozenset(clinic.plan_proposals.values_list("pk", flat=True))
        groups["referrals", label] = frozenset(clinic.referrals.values_list("pk", flat=True))
    for name, patient in patients.items():
        groups["appointments", name] = frozenset(patient.appointments.values_list("pk", flat=True))
        groups["preparations", name] = frozenset(
            PreparationTask.objects.filter(
                appointment__patient=patient, appointment__status="booked"
            ).values_list("pk", flat=True)
        )
        groups["tasks", name] = frozenset(patient.booking_tasks.values_list("pk", flat=True))
    assert len(groups["appointments", "bob"]) == 3  # one booked, two cancelled
    day = Appointment.objects.filter(starts_at__date=date(2027, 1, 13))
    assert {(a.clinic.name[-1], a.pk) for a in day} == {
        ("A", appt_alice.pk),
        ("B", appt_bob.pk),
        ("B", appt_child.pk),
    }, "ATTENDANCE no longer describes the world"
    assert groups["tasks", "A"] == {task_alice.pk, task_child.pk, moved_alice.pk}

    def patient_actor(name: str, *proxies: str) -> Actor:
        user = patients[name].user
        assert user is not None
        return Actor(name, user.pk, own=name, patients=frozenset([name, *proxies]))

    def staff_actor(
        name: str, user: User, clinic: str, *, writes: bool, leads: bool = False
    ) -> Actor:
        return Actor(
            name,
            user.pk,
            reads=frozenset([clinic]),
            writes=frozenset([clinic] if writes else []),
            leads=frozenset([clinic] if leads else []),
        )

    actors = {
        "alice": patient_actor("alice"),
        "bob": patient_actor("bob"),
        "parent": patient_actor("parent", "child"),
        "expired": patient_actor("expired"),
        "revoked": patient_actor("revoked"),
        "future": patient_actor("future"),
        "sec_a": staff_actor("sec_a", sec_a, "A", writes=True),
        "clin_a": staff_actor("clin_a", clin_a, "A", writes=False),
        "sec_b": staff_actor("sec_b", sec_b, "B", writes=True),
        "lead_a": staff_actor("lead_a", lead_a, "A", writes=True, leads=True),
        "lead_b": staff_actor("lead_b", lead_b, "B", writes=True, leads=True),
        "superuser": Actor("superuser", superuser.pk, superuser=True),
        "anonymous": Actor("anonymous"),
    }
    users = {a.name: User.objects.get(pk=a.user_id) for a in actors.values() if a.user_id}
    return World(
        objs=objs,
        actors=actors,
        sessions={name: session_key(user) for name, user in users.items()},
        groups=groups,
        national_ids={name: p.national_id for name, p in patients.items()},
        usernames={name: user.username for name, user in users.items()},
        offered=offered,
        patient_names={p.pk: name for name, p in patients.items()},
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Built once, in a transaction that is rolled back when the module is done."""
    yield from rolled_back_world(django_db_blocker, _build_world)


# Also the proxies, memberships and sessions: no request of the API may change them.
TABLES: list[type[models.Model]] = [*TRACKED, Proxy, StaffMembership, Session]


@pytest.fixture(scope="module")
def untouched(world: World, django_db_blocker) -> dict[str, list[tuple[Any, ...]]]:
    """The world's rows before any case: every case starts from them."""
    with django_db_blocker.unblock():
        return snapshot(TABLES)


@pytest.fixture(autouse=True)
def gateway_secret(settings: Any) -> None:
    settings.NOTIFICATIONS_DELIVERY_REPORT_SECRET = GATEWAY_SECRET


@pytest.fixture(autouse=True)
def fresh_throttles() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


# --- Who may ------------------------------------------------------------------------------------


class Access(enum.Enum):
    ALLOW = "allowed"
    ANONYMOUS = "anonymous"
    NOT_STAFF = "not staff"
    ROLE = "role may not"
    OTHER = "not theirs"
    NOT_ADMIN = "not a Django staff user"
    NOT_PATIENT = "no patient record of their own"
    LEADER_HOME = "a leader with no patient record: sent on to the statistics"


Rule = Callable[[World, Actor, str], Access]


def anyone(world: World, actor: Actor, obj: str) -> Access:
    return Access.ALLOW


def signed_in(world: World, actor: Actor, obj: str) -> Access:
    return Access.ANONYMOUS if actor.anonymous else Access.ALLOW


def own_data(world: World, actor: Actor, obj: str) -> Access:
    """The object is the actor's own or a valid proxy's."""
    if actor.anonymous:
        return Access.ANONYMOUS
    patient = world.patient_of(obj, actor)
    return Access.ALLOW if patient is not None and patient in actor.patients else Access.OTHER


def a_patient(world: World, actor: Actor, obj: str) -> Access:
    """Any user with a patient record of their own (the pages act for it, or a proxy's)."""
    if actor.anonymous:
        return Access.ANONYMOUS
    return Access.ALLOW if actor.own is not None else Access.NOT_PATIENT


def front_page(world: World, actor: Actor, obj: str) -> Access:
    """A patient's overview; a leader with no patient record goes on to the statistics."""
    access = a_patient(world, actor, obj)
    return Access.LEADER_HOME if access is Access.NOT_PATIENT and actor.leads else access


def views_statistics(world: World, actor: Actor, obj: str) -> Access:
    """A leader; with a clinic or type asked for, a leader of its clinic."""
    if actor.anonymous:
        return Access.ANONYMOUS
    if not actor.staff:
        return Access.NOT_STAFF
    if not actor.leads:
        return Access.ROLE
    clinic = world.objs[obj].clinic if obj else None
    return Access.ALLOW if clinic is None or clinic in actor.leads else Access.OTHER


def statistics_query(names: Mapping[str, str]) -> Callable[["World", str], dict[str, Any]]:
    """The query asking for the object (a clinic or a type), by the parameter of its kind."""

    def query(world: World, obj: str) -> dict[str, Any]:
        if not obj:
            return {}
        return {names[obj.split("_")[0]]: world.pk(obj)}

    return query


STATISTICS_OBJECTS = ("", "clinic_a", "clinic_b", "type_a", "type_b")
PAGE_QUERY = statistics_query({"clinic": "klinikk", "type": "timetype"})
API_QUERY = statistics_query({"clinic": "clinic", "type": "appointment_type"})


def own_page_data(world: World, actor: Actor, obj: str) -> Access:
    """A patient page about the actor's own object or a valid proxy's."""
    access = a_patient(world, actor, obj)
    return own_data(world, actor, obj) if access is Access.ALLOW else access


def writes_in(clinic: str) -> "Rule":
    """A secretary or leader of this clinic, whatever the object."""

    def rule(world: World, actor: Actor, obj: str) -> Access:
        if actor.anonymous:
            return Access.ANONYMOUS
        if not actor.staff:
            return Access.NOT_STAFF
        if clinic in actor.writes:
            return Access.ALLOW
        return Access.OTHER if actor.writes else Access.ROLE

    return rule


def admin_user(world: World, actor: Actor, obj: str) -> Access:
    """Who may be in the admin at all: clinic staff, and Django's staff users."""
    if actor.anonymous:
        return Access.ANONYMOUS
    return Access.ALLOW if actor.superuser or actor.staff else Access.NOT_ADMIN


def django_admin(world: World, actor: Actor, obj: str) -> Access:
    """Django's own users and groups: the superuser's alone."""
    access = admin_user(world, actor, obj)
    if access is Access.ALLOW and not actor.superuser:
        return Access.ROLE
    return access


def a_writer(world: World, actor: Actor, obj: str) -> Access:
    """A secretary or leader of some clinic."""
    if actor.anonymous:
        return Access.ANONYMOUS
    if not actor.staff:
        return Access.NOT_STAFF
    return Access.ALLOW if actor.writes else Access.ROLE


def no_one(world: World, actor: Actor, obj: str) -> Access:
    """What the admin lets nobody do (add a clinic, delete a resource)."""
    if actor.anonymous:
        return Access.ANONYMOUS
    return Access.ROLE if actor.staff else Access.NOT_STAFF


def staff_reads(world: World, actor: Actor, obj: str) -> Access:
    """Any member of the object's clinic (a list: any staff member)."""
    if actor.anonymous:
        return Access.ANONYMOUS
    if not actor.staff:
        return Access.NOT_STAFF
    clinic = world.objs[obj].clinic if obj else None
    return Access.ALLOW if clinic is None or clinic in actor.reads else Access.OTHER


def staff_writes(world: World, actor: Actor, obj: str) -> Access:
    """A secretary or leader of the object's clinic."""
    if actor.anonymous:
        return Access.ANONYMOUS
    if not actor.staff:
        return Access.NOT_STAFF
    clinic = world.objs[obj].clinic if obj in world.objs else None
    if clinic in actor.writes:
        return Access.ALLOW
    return Access.OTHER if actor.writes else Access.ROLE


EXPECTED: dict[Access, tuple[int, ...]] = {
    Access.ANONYMOUS: (401, 403),
    Access.NOT_STAFF: (403, 404),
    Access.ROLE: (403, 404),
    Access.OTHER: (404,),
}
# The patient pages send the anonymous to the login page, and tell a user with no patient
# record (staff) that these pages are not theirs.
TO_LOGIN: Mapping[Access, tuple[int, ...]] = {Access.ANONYMOUS: (302,), Access.NOT_PATIENT: (403,)}
# The admin sends everyone who may not be there to its login page.
TO_ADMIN_LOGIN: Mapping[Access, tuple[int, ...]] = {
    Access.ANONYMOUS: (302,),
    Access.NOT_ADMIN: (302,),
}
# The clinic's configuration in the admin: patients and the anonymous to the login page; the
# superuser, who is no clinic's staff, is refused (403), or told of no such row (the index, or
# the history of a row not in the user's clinics) as clinic staff are.
CONFIGURATION_REFUSED: Mapping[Access, tuple[int, ...]] = {
    Access.ANONYMOUS: (302,),
    Access.NOT_STAFF: (302, 403, 404),
}


# --- What an allowed answer must hold -------------------------------------------------------------

Check = Callable[[World, Actor, str, Any], list[str]]


def listed_ids(data: Any) -> list[Any] | None:
    items = data.get("results") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    return [item.get("id") for item in items if isinstance(item, dict)]


def is_the_object(world: World, actor: Actor, obj: str, data: Any) -> list[str]:
    got = data.get("id") if isinstance(data, dict) else None
    return [] if got == world.pk(obj) else [f"answered with id {got}, not {obj}'s"]


def exactly(expected: Callable[[World, Actor], set[int]]) -> Check:
    """A list of exactly the objects the actor may see."""

    def check(world: World, actor: Actor, obj: str, data: Any) -> list[str]:
        ids = listed_ids(data)
        if ids is None:
            return [f"not a list: {str(data)[:200]}"]
        want = expected(world, actor)
        found = []
        if len(ids) != len(set(ids)):
            found.append(f"ids listed twice: {sorted(ids)}")
        if set(ids) - want:
            found.append(f"lists {sorted(set(ids) - want)} it may not see")
        if want - set(ids):
            found.append(f"leaves out {sorted(want - set(ids))} it may see")
        return found

    return check


def of_patients(kind: str) -> Callable[[World, Actor], set[int]]:
    return lambda world, actor: world.union(kind, actor.patients)


def of_clinics(kind: str) -> Callable[[World, Actor], set[int]]:
    return lambda world, actor: world.union(kind, actor.reads)


def me_check(world: World, actor: Actor, obj: str, data: Any) -> list[str]:
    own = None if actor.own is None else world.pk(actor.own)
    got_own = (data.get("patient") or {}).get("id")
    acts_for = {p["id"] for p in data.get("acts_for", [])}
    want_acts_for = {world.pk(p) for p in actor.patients - {actor.own}}
    clinics = {c["id"] for c in data.get("staff_clinics", [])}
    want_clinics = world.union("clinics", actor.reads)
    found = []
    if got_own != own:
        found.append(f"patient {got_own}, expected {own}")
    if acts_for != want_acts_for:
        found.append(f"acts_for {sorted(acts_for)}, expected {sorted(want_acts_for)}")
    if clinics != want_clinics:
        found.append(f"staff_clinics {sorted(clinics)}, expected {sorted(want_clinics)}")
    return found


def patients_check(world: World, actor: Actor, obj: str, data: Any) -> list[str]:
    return exactly(lambda w, a: {w.pk(p) for p in a.patients})(world, actor, obj, data)


def types_check(world: World, actor: Actor, obj: str, data: Any) -> list[str]:
    return exactly(lambda w, a: {w.pk("type_a"), w.pk("type_b")})(world, actor, obj, data)


def attendance_check(world: World, actor: Actor, obj: str, data: Any) -> list[str]:
    """The clinic's appointments on the day, every one of them."""
    day = {world.pk(name) for name in ATTENDANCE_APPOINTMENTS[obj]}
    return exactly(lambda w, a: day)(world, actor, obj, data)


# --- Rows ---------------------------------------------------------------------------------------

Body = Callable[[World, str, Actor], Any]
Logs = Callable[[World, str, Actor], set[str]]


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # "{id}" is the object's id; "{name}" any world object's
    rule: Rule
    ok: int | tuple[int, ...] = 200
    objects: tuple[str, ...] = ("",)
    body: Body | None = None
    query: Callable[[World, str], dict[str, Any]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    check: Check | None = None
    logs: Logs | None = None  # the patients an allowed staff request reads
    other: tuple[int, ...] = (404,)  # the answer for someone else's object
    label: str = ""
    refused: Mapping[Access, tuple[int, ...]] = field(default_factory=dict)  # not EXPECTED's
    page: bool = False  # a page of the site (form bodies, HTML answers), not the API

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


def the_objects_patient(world: World, obj: str, actor: Actor) -> set[str]:
    patient = world.objs[obj].patient
    return {patient} if patient else set()


def fixed(mapping: Mapping[str, set[str]]) -> Logs:
    return lambda world, obj, actor: set(mapping.get(obj, set()))


def listed_patients(by_clinic: Mapping[str, set[str]]) -> Logs:
    return lambda world, obj, actor: {p for c in actor.reads for p in by_clinic[c]}


# Whose data each clinic's lists and plans show (see _build_world).
TASK_PATIENTS = {"A": {"alice", "child"}, "B": {"bob", "child"}}
PLAN_PATIENTS = {"plan_a": {"alice", "child"}, "plan_b": {"bob"}}
ATTENDANCE = {"clinic_a": {"alice"}, "clinic_b": {"bob", "child"}}
ATTENDANCE_APPOINTMENTS = {"clinic_a": ("appt_alice",), "clinic_b": ("appt_bob", "appt_child")}
HIT_BY_ABSENCE = {"absence_a": {"alice"}, "absence_b": {"bob", "child"}}
REFERRAL_PATIENTS = {"A": {"alice"}, "B": {"bob"}}
# A patient in each clinic's care, and one who is in neither's.
STAFF_BOOKS_FOR = {"clinic_a": "alice", "clinic_b": "bob", "clinic_a_for_bob": "bob"}
CLINIC_OF = {"clinic_a": "A", "clinic_b": "B", "clinic_a_for_bob": "A"}
NOT_IN_CARE = "clinic_a_for_bob"  # Bob has no referral, task or appointment in clinic A
# A booking task body with clinic B's type and clinic A's referral, and one whose referral is
# another patient's: no one may create them.
MIXED = "type_b_with_referral_alice"
SOMEONE_ELSES = "bob_with_referral_alice"
# Referrals registered by national id, for a patient in no clinic's care yet.
REFERRAL_FOR = "expired"
# Configuration in the admin: the model's URL name and clinic A's row of it.
ADMIN_CONFIGURATION = {
    "clinic": "clinic_a",
    "resource": "clinician_a",
    "absence": "absence_a",
    "appointmenttype": "type_a",
}
NO_NEW_CLINIC = "a_new_clinic"  # clinics come with the product, as in the API
NEVER_DELETED = "a_clinic_resource_or_type"  # deactivated, never deleted
NOBODYS = {MIXED, SOMEONE_ELSES, NOT_IN_CARE, NO_NEW_CLINIC, NEVER_DELETED}

PATIENT_ROWS: list[Row] = [
    # sign in and out
    Row("GET", "/auth/csrf/", anyone, ok=204),
    Row(
        "POST",
        "/auth/login/",
        anyone,
        ok=204,
        body=lambda w, o, a: {"username": w.usernames["alice"], "password": PASSWORD},
    ),
    Row("POST", "/auth/logout/", signed_in, ok=204),
    # who I am and may act for
    Row("GET", "/me/", signed_in, check=me_check),
    Row("GET", "/patients/", signed_in, check=patients_check),
    # types and free times
    Row("GET", "/appointment-types/", signed_in, check=types_check),
    Row(
        "GET",
        "/appointment-types/{type_a}/slots/",
        own_data,
        objects=("self", "alice", "child", "bob"),
        query=lambda w, o: (
            {"date_from": "2027-01-05", "date_to": "2027-01-08"}
            | ({} if o == "self" else {"patient": w.pk(o)})
        ),
    ),
    # appointments
    Row("GET", "/appointments/", signed_in, check=exactly(of_patients("appointments"))),
    Row(
        "POST",
        "/appointments/",
        own_data,
        ok=201,
        objects=("self", "alice", "child", "bob"),
        body=lambda w, o, a: (
            {"appointment_type": w.pk("type_a"), "starts_at": WED_6_10}
            | ({} if o == "self" else {"patient": w.pk(o)})
        ),
    ),
    Row(
        "POST",
        "/appointments/",
        own_data,
        ok=201,
        objects=("bob",),
        body=lambda w, o, a: {
            "appointment_type": w.pk("type_b"),
            "starts_at": REPLAYED_AT,
            "patient": w.pk("bob"),
        },
        headers={HEADER: REPLAY_KEY},
        label="the Idempotency-Key of a booking made under a proxy since revoked",
    ),
    Row(
        "GET",
        "/appointments/{id}/",
        own_data,
        objects=("appt_alice", "appt_child", "appt_bob"),
        check=is_the_object,
    ),
    Row(
        "POST",
        "/appointments/{id}/reschedule/",
        own_data,
        objects=("appt_alice", "appt_child", "appt_bob"),
        body=lambda w, o, a: {"starts_at": THU_14_10},
        check=is_the_object,
    ),
    Row(
        "POST",
        "/appointments/{id}/cancel/",
        own_data,
        objects=("appt_alice", "appt_child", "appt_bob"),
        body=lambda w, o, a: {"reason": "kan ikke"},
        check=is_the_object,
    ),
    # preparations
    Row("GET", "/preparation-tasks/", signed_in, check=exactly(of_patients("preparations"))),
    Row(
        "PATCH",
        "/preparation-tasks/{id}/",
        own_data,
        objects=("prep_alice", "prep_child", "prep_bob"),
        body=lambda w, o, a: {"done": True},
        check=is_the_object,
    ),
    # booking tasks
    Row("GET", "/booking-tasks/", signed_in, check=exactly(of_patients("tasks"))),
    Row(
        "GET",
        "/booking-tasks/{id}/",
        own_data,
        objects=("task_alice", "task_child", "task_bob", "moved_alice", "moved_child", "moved_bob"),
        check=is_the_object,
    ),
    Row(
        "GET",
        "/booking-tasks/{id}/offers/",
        own_data,
        objects=("task_alice", "task_child", "task_bob"),
        query=lambda w, o: {"count": 2},
    ),
    Row(
        "POST",
        "/booking-tasks/{id}/choose/",
        own_data,
        ok=201,
        objects=("task_alice", "task_child", "task_bob"),
        body=lambda w, o, a: {"starts_at": w.offered[o]},
    ),
    Row(
        "POST",
        "/booking-tasks/{id}/choose/",
        own_data,
        ok=201,
        objects=("task_bob_again",),
        body=lambda w, o, a: {"starts_at": w.offered[o]},
        headers={HEADER: CHOOSE_KEY},
        label="the Idempotency-Key of a choice made under a proxy since revoked",
    ),
    Row(
        "POST",
        "/booking-tasks/{id}/accept/",
        own_data,
        objects=("moved_alice", "moved_child", "moved_bob"),
        check=is_the_object,
    ),
]


def _config_rows(
    path: str,
    kind: str,
    objects: tuple[str, str],
    create: Callable[[World, str], dict[str, Any]] | None,
    replace: Callable[[World, str], dict[str, Any]],
    change: dict[str, Any],
    *,
    delete: bool = False,
) -> list[Row]:
    """A staff configuration viewset: list, create, read, replace, change (and delete)."""
    rows = [
        Row("GET", path, staff_reads, check=exactly(of_clinics(kind))),
        Row("GET", path + "{id}/", staff_reads, objects=objects, check=is_the_object),
        Row(
            "PUT",
            path + "{id}/",
            staff_writes,
            objects=objects,
            body=lambda w, o, a: replace(w, o),
            check=is_the_object,
        ),
        Row(
            "PATCH",
            path + "{id}/",
            staff_writes,
            objects=objects,
            body=lambda w, o, a: change,
            check=is_the_object,
        ),
    ]
    if create is not None:
        rows.append(
            Row(
                "POST",
                path,
                staff_writes,
                ok=201,
                objects=("clinic_a", "clinic_b"),
                body=lambda w, o, a: create(w, CLINIC_OF[o].lower()),
                other=(400, 404),
            )
        )
    if delete:
        rows.append(Row("DELETE", path + "{id}/", staff_writes, ok=204, objects=objects))
    return rows


def _clinic_of(obj: str) -> str:
    return obj[-1]  # "clinician_a" -> "a"


def _type_body(w: World, c: str) -> dict[str, Any]:
    return {
        "clinic": w.pk(f"clinic_{c}"),
        "name": "Ny kontroll",
        "duration_minutes": 30,
        "requirements": [{"kind": "clinician"}],
    }


def _resource_body(w: World, c: str) -> dict[str, Any]:
    return {"clinic": w.pk(f"clinic_{c}"), "kind": "equipment", "name": "Skop 2", "tags": []}


def _hours_body(w: World, c: str) -> dict[str, Any]:
    return {
        "resource": w.pk(f"clinician_{c}"),
        "weekday": 5,
        "start_time": "09:00",
        "end_time": "12:00",
        "valid_from": "2027-01-01",
    }


def _absence_body(w: World, c: str) -> dict[str, Any]:
    return {
        "resource": w.pk(f"clinician_{c}"),
        "starts_at": "2027-03-01T08:00:00+01:00",
        "ends_at": "2027-03-01T16:00:00+01:00",
        "reason": "course",
    }


def _lookup_in(clinic: str) -> Callable[[World, str], dict[str, Any]]:
    """The query that looks the object (a patient) up to register a referral in the clinic."""

    def query(w: World, o: str) -> dict[str, Any]:
        return {
            "national_id": w.national_ids[o],
            "clinic": w.pk(f"clinic_{clinic.lower()}"),
            "purpose": "register_referral",
        }

    return query


def _task_body(w: World, o: str) -> dict[str, Any]:
    if o in (MIXED, SOMEONE_ELSES):
        return {
            "patient": w.pk("alice" if o == MIXED else "bob"),
            "appointment_type": w.pk("type_b" if o == MIXED else "type_a"),
            "referral": w.pk("referral_alice"),
            **TASK_DATES,
        }
    patient = STAFF_BOOKS_FOR[o]
    c = CLINIC_OF[o].lower()
    return {
        "patient": w.pk(patient),
        "appointment_type": w.pk(f"type_{c}"),
        "referral": w.pk(f"referral_{patient}"),
        **TASK_DATES,
    }


STAFF_ROWS: list[Row] = [
    # configuration
    Row("GET", "/staff/clinics/", staff_reads, check=exactly(of_clinics("clinics"))),
    Row(
        "GET",
        "/staff/clinics/{id}/",
        staff_reads,
        objects=("clinic_a", "clinic_b"),
        check=is_the_object,
    ),
    Row(
        "PUT",
        "/staff/clinics/{id}/",
        staff_writes,
        objects=("clinic_a", "clinic_b"),
        body=lambda w, o, a: {"name": "Omdøpt", "address": "Gate 1", "time_zone": "Europe/Oslo"},
        check=is_the_object,
    ),
    Row(
        "PATCH",
        "/staff/clinics/{id}/",
        staff_writes,
        objects=("clinic_a", "clinic_b"),
        body=lambda w, o, a: {"name": "Omdøpt"},
        check=is_the_object,
    ),
    *_config_rows(
        "/staff/resources/",
        "resources",
        ("clinician_a", "clinician_b"),
        _resource_body,
        lambda w, o: {**_resource_body(w, _clinic_of(o)), "kind": "clinician"},
        {"name": "Dr. Omdøpt"},
    ),
    *_config_rows(
        "/staff/working-hours/",
        "hours",
        ("hours_a", "hours_b"),
        _hours_body,
        lambda w, o: _hours_body(w, _clinic_of(o)),
        {"end_time": "15:00"},
        delete=True,
    ),
    *_config_rows(
        "/staff/absences/",
        "absences",
        ("absence_a", "absence_b"),
        _absence_body,
        lambda w, o: _absence_body(w, _clinic_of(o)),
        {"note": "kurs"},
        delete=True,
    ),
    *_config_rows(
        "/staff/appointment-types/",
        "types",
        ("type_a", "type_b"),
        _type_body,
        lambda w, o: _type_body(w, _clinic_of(o)),
        {"name": "Omdøpt kontroll"},
    ),
    # acting for patients
    *(
        Row(
            "GET",
            "/staff/patients/lookup/",
            writes_in(clinic),
            objects=("alice", "child", "bob", "expired"),
            query=_lookup_in(clinic),
            check=is_the_object,
            logs=the_objects_patient,
            label=f"to register a referral in clinic {clinic}",
        )
        for clinic in "AB"
    ),
    Row(
        "GET",
        "/staff/appointments/",
        staff_reads,
        objects=("clinic_a", "clinic_b"),
        query=lambda w, o: {"clinic": w.pk(o), "date": ATTENDANCE_DAY},
        check=attendance_check,
        logs=fixed(ATTENDANCE),
    ),
    Row(
        "POST",
        "/staff/appointments/",
        staff_writes,
        ok=201,
        objects=("clinic_a", "clinic_b", NOT_IN_CARE),
        body=lambda w, o, a: {
            "patient": w.pk(STAFF_BOOKS_FOR[o]),
            "appointment_type": w.pk(f"type_{CLINIC_OF[o].lower()}"),
            "starts_at": WED_6_10,
        },
        logs=lambda w, o, a: {STAFF_BOOKS_FOR[o]},
    ),
    Row(
        "POST",
        "/staff/appointments/{id}/reschedule/",
        staff_writes,
        objects=("appt_alice", "appt_bob"),
        body=lambda w, o, a: {"starts_at": THU_14_10, "cause": "clinic_replanning"},
        check=is_the_object,
        logs=the_objects_patient,
    ),
    Row(
        "POST",
        "/staff/appointments/{id}/cancel/",
        staff_writes,
        objects=("appt_alice", "appt_bob"),
        body=lambda w, o, a: {"cause": "clinic_cancellation"},
        check=is_the_object,
        logs=the_objects_patient,
    ),
    # referrals
    Row(
        "GET",
        "/staff/referrals/",
        staff_reads,
        check=exactly(of_clinics("referrals")),
        logs=listed_patients(REFERRAL_PATIENTS),
    ),
    Row(
        "POST",
        "/staff/referrals/",
        staff_writes,
        ok=201,
        objects=("clinic_a", "clinic_b"),
        body=lambda w, o, a: {
            "national_id": w.national_ids[REFERRAL_FOR],
            "clinic": w.pk(o),
            "received_on": "2027-01-04",
            "care_deadline": "2027-02-15",
        },
        logs=lambda w, o, a: {REFERRAL_FOR},
        other=(400, 404),
    ),
    Row(
        "GET",
        "/staff/referrals/{id}/",
        staff_reads,
        objects=("referral_alice", "referral_bob"),
        check=is_the_object,
        logs=the_objects_patient,
    ),
    # booking tasks
    Row(
        "GET",
        "/staff/booking-tasks/",
        staff_reads,
        check=exactly(of_clinics("tasks")),
        logs=listed_patients(TASK_PATIENTS),
    ),
    Row(
        "POST",
        "/staff/booking-tasks/",
        staff_writes,
        ok=201,
        objects=("clinic_a", "clinic_b", MIXED, SOMEONE_ELSES),
        body=lambda w, o, a: _task_body(w, o),
        logs=lambda w, o, a: {STAFF_BOOKS_FOR[o]},
        other=(400, 404),
    ),
    Row(
        "GET",
        "/staff/booking-tasks/{id}/",
        staff_reads,
        objects=("task_alice", "task_bob"),
        check=is_the_object,
        logs=the_objects_patient,
    ),
    Row(
        "GET",
        "/staff/booking-tasks/{id}/offers/",
        staff_reads,
        objects=("task_alice", "task_bob"),
        query=lambda w, o: {"count": 2},
        logs=the_objects_patient,
    ),
    Row(
        "POST",
        "/staff/booking-tasks/{id}/cancel/",
        staff_writes,
        objects=("task_alice", "task_bob"),
        check=is_the_object,
        logs=the_objects_patient,
    ),
    # planning
    Row(
        "POST",
        "/staff/clinics/{id}/batch-plans/",
        staff_writes,
        ok=202,
        objects=("clinic_a", "clinic_b"),
        body=lambda w, o, a: {},
    ),
    Row(
        "POST",
        "/staff/absences/{id}/replan/",
        staff_writes,
        ok=201,
        objects=("absence_a", "absence_b"),
        logs=fixed(HIT_BY_ABSENCE),
    ),
    Row(
        "GET",
        "/staff/plans/",
        staff_reads,
        check=exactly(of_clinics("plans")),
        logs=listed_patients({"A": PLAN_PATIENTS["plan_a"], "B": PLAN_PATIENTS["plan_b"]}),
    ),
    Row(
        "GET",
        "/staff/plans/{id}/",
        staff_reads,
        objects=("plan_a", "plan_b"),
        check=is_the_object,
        logs=fixed(PLAN_PATIENTS),
    ),
    Row(
        "POST",
        "/staff/plans/{id}/apply/",
        staff_writes,
        objects=("plan_a", "plan_b"),
        check=is_the_object,
        logs=fixed(PLAN_PATIENTS),
    ),
    Row(
        "POST",
        "/staff/plans/{id}/discard/",
        staff_writes,
        objects=("plan_a", "plan_b"),
        check=is_the_object,
        logs=fixed(PLAN_PATIENTS),
    ),
    # the leaders' statistics
    Row("GET", "/statistics/", views_statistics, objects=STATISTICS_OBJECTS, query=API_QUERY),
]

# Beside the API: its documentation, DRF's login pages, and the Django admin (by Django's own
# rules: its staff users only; nobody in the world but the superuser is one).
SITE_ROWS: list[Row] = [
    Row("GET", "/api/schema/", anyone),
    Row("GET", "/api/docs/", anyone),
    Row("GET", "/api/redoc/", anyone),
    Row("GET", "/api-auth/login/", anyone),
    Row("POST", "/api-auth/logout/", anyone),
    Row("GET", "/admin/login/", anyone, ok=(200, 302)),  # a logged-in admin goes on in
    # The admin's own pages: for clinic staff and Django's staff users (the superuser).
    *(
        Row("GET", path, admin_user, refused=TO_ADMIN_LOGIN)
        for path in ("/admin/", "/admin/password_change/", "/admin/password_change/done/")
    ),
    Row("GET", "/admin/jsi18n/", admin_user, refused=TO_ADMIN_LOGIN),
    Row("POST", "/admin/logout/", admin_user, refused=TO_ADMIN_LOGIN),
    Row("GET", "/admin/autocomplete/", admin_user, ok=403, refused=TO_ADMIN_LOGIN),
    # Django's users and groups: the superuser's; clinic staff are refused (403, or 404 for
    # the app's index, which lists nothing for them).
    *(
        Row("GET", path, django_admin, refused=TO_ADMIN_LOGIN)
        for path in (
            "/admin/auth/",
            "/admin/auth/group/",
            "/admin/auth/group/add/",
            "/admin/auth/user/",
            "/admin/auth/user/add/",
        )
    ),
    *(
        Row(
            "GET",
            f"/admin/auth/{model}/{{id}}/{page}/",
            django_admin,
            objects=(obj,),
            refused=TO_ADMIN_LOGIN,
        )
        for model, obj in (("user", "user_alice"), ("group", "group"))
        for page in ("change", "history", "delete")
    ),
    Row(
        "GET",
        "/admin/auth/user/{id}/password/",
        django_admin,
        objects=("user_alice",),
        refused=TO_ADMIN_LOGIN,
    ),
    *(
        Row(
            "GET",
            f"/admin/{model}/{{id}}/",
            admin_user,
            ok=302,  # on to its change page, which decides
            objects=(obj,),
            refused=TO_ADMIN_LOGIN,
        )
        for model, obj in (
            ("auth/user", "user_alice"),
            ("auth/group", "group"),
            *((f"booking/{m}", o) for m, o in ADMIN_CONFIGURATION.items()),
        )
    ),
    *(
        Row("GET", path, admin_user, ok=404, refused=TO_ADMIN_LOGIN, label=label)
        for path, label in (
            ("/admin/r/4/987654/", "no such object to view on the site"),
            ("/admin/no-such-page/", "the admin's catch-all"),
        )
    ),
    # The clinic's configuration (clinicadmin): staff see their clinics' rows, secretaries
    # change them, nobody deletes a clinic, resource or type; another clinic's row sends
    # them to the index as a row that does not exist would.
    Row("GET", "/admin/booking/", staff_reads, refused=CONFIGURATION_REFUSED),
    *(
        Row("GET", f"/admin/booking/{model}/", staff_reads, refused=CONFIGURATION_REFUSED)
        for model in ADMIN_CONFIGURATION
    ),
    *(
        Row(
            "GET",
            f"/admin/booking/{model}/add/",
            a_writer,
            refused=CONFIGURATION_REFUSED,
        )
        for model in ADMIN_CONFIGURATION
        if model != "clinic"
    ),
    Row(
        "GET",
        "/admin/booking/clinic/add/",
        no_one,
        objects=(NO_NEW_CLINIC,),
        refused=CONFIGURATION_REFUSED,
    ),
    *(
        Row(
            "GET",
            f"/admin/booking/{model}/{{id}}/{page}/",
            staff_reads,
            objects=(obj, obj.replace("_a", "_b")),
            other=(302,),
            refused=CONFIGURATION_REFUSED,
        )
        for model, obj in ADMIN_CONFIGURATION.items()
        for page in ("change", "history")
    ),
    *(
        Row(
            "POST",
            f"/admin/booking/{model}/{{id}}/change/",
            staff_writes,
            objects=(obj, obj.replace("_a", "_b")),
            body=lambda w, o, a: {},  # the form again with its errors, for those who may
            other=(302,),
            refused=CONFIGURATION_REFUSED,
        )
        for model, obj in ADMIN_CONFIGURATION.items()
    ),
    Row(
        "GET",
        "/admin/booking/absence/{id}/delete/",
        staff_writes,
        objects=("absence_a", "absence_b"),
        other=(302,),
        refused=CONFIGURATION_REFUSED,
    ),
    *(
        Row(
            "GET",
            f"/admin/booking/{model}/{{{obj}}}/delete/",
            no_one,
            objects=(NEVER_DELETED,),
            refused=CONFIGURATION_REFUSED,
        )
        for model, obj in ADMIN_CONFIGURATION.items()
        if model != "absence"
    ),
]

APPOINTMENTS = ("appt_alice", "appt_child", "appt_bob")
OPEN_TASKS = ("task_alice", "task_child", "task_bob")
MOVED_TASKS = ("moved_alice", "moved_child", "moved_bob")
PREPARATIONS = ("prep_alice", "prep_child", "prep_bob")
REDIRECTED = 302  # a page that did what it was asked answers with the next page


def _page(method: str, path: str, rule: Rule, ok: int | tuple[int, ...] = 200, **more: Any) -> Row:
    refused = {**TO_LOGIN, **more.pop("refused", {})}
    return Row(method, path, rule, ok=ok, page=True, refused=refused, **more)


# The patients' pages (portal). A page about someone else's object is a 404, as in the API;
# anonymous users go to the login page; staff, who have no patient record, get a 403 page.
PAGE_ROWS: list[Row] = [
    _page("GET", "/logg-inn/", anyone, ok=(200, 302)),  # a logged-in user goes on to /
    _page("POST", "/logg-ut/", anyone, ok=REDIRECTED),
    _page("POST", "/sprak/", anyone, ok=REDIRECTED, body=lambda w, o, a: {"language": "nn"}),
    _page("GET", "/", front_page, refused={Access.LEADER_HOME: (REDIRECTED,)}),
    _page(
        "POST",
        "/for/{id}/",
        own_data,
        ok=REDIRECTED,
        objects=("alice", "child", "bob"),
        body=lambda w, o, a: {},
    ),
    _page("POST", "/for/meg/", signed_in, ok=REDIRECTED, body=lambda w, o, a: {}),
    _page("GET", "/timeoppgaver/{id}/", own_page_data, objects=OPEN_TASKS),
    _page(
        "GET",
        "/timeoppgaver/{id}/bekreft/",
        own_page_data,
        objects=OPEN_TASKS,
        query=lambda w, o: {"tid": w.offered[o]},
    ),
    _page(
        "POST",
        "/timeoppgaver/{id}/bekreft/",
        own_page_data,
        ok=REDIRECTED,
        objects=OPEN_TASKS,
        body=lambda w, o, a: {"tid": w.offered[o]},
    ),
    _page(
        "POST",
        "/timeoppgaver/{id}/behold/",
        own_page_data,
        ok=REDIRECTED,
        objects=MOVED_TASKS,
        body=lambda w, o, a: {},
    ),
    _page("GET", "/timer/{id}/", own_page_data, objects=APPOINTMENTS),
    _page("GET", "/timer/{id}/kalender.ics", own_page_data, objects=APPOINTMENTS),
    _page("GET", "/timer/{id}/endre/", own_page_data, objects=APPOINTMENTS),
    _page(
        "GET",
        "/timer/{id}/endre/bekreft/",
        own_page_data,
        objects=APPOINTMENTS,
        query=lambda w, o: {"tid": THU_14_10},
    ),
    _page(
        "POST",
        "/timer/{id}/endre/bekreft/",
        own_page_data,
        ok=REDIRECTED,
        objects=APPOINTMENTS,
        body=lambda w, o, a: {"tid": THU_14_10},
    ),
    _page("GET", "/timer/{id}/avbestill/", own_page_data, objects=APPOINTMENTS),
    _page(
        "POST",
        "/timer/{id}/avbestill/",
        own_page_data,
        ok=REDIRECTED,
        objects=APPOINTMENTS,
        body=lambda w, o, a: {"reason": "kan ikke"},
    ),
    _page("GET", "/timer/{id}/tidligere-time/", own_page_data, objects=APPOINTMENTS),
    _page(
        "POST",
        "/timer/{id}/tidligere-time/",
        own_page_data,
        ok=REDIRECTED,
        objects=APPOINTMENTS,
        body=lambda w, o, a: {"handling": "bli-med"},
    ),
    _page("GET", "/forberedelser/", a_patient),
    _page(
        "POST",
        "/forberedelser/{id}/",
        own_page_data,
        ok=REDIRECTED,
        objects=PREPARATIONS,
        body=lambda w, o, a: {"gjort": "ja"},
    ),
    _page("GET", "/tilgjengelighet/", a_patient),
    _page(
        "POST",
        "/tilgjengelighet/",
        a_patient,
        ok=REDIRECTED,
        body=lambda w, o, a: {
            "handling": "vindu",
            "vindu-weekday": "1",
            "vindu-start_time": "08:00",
            "vindu-end_time": "12:00",
        },
    ),
    _page("GET", "/varsler/", a_patient),
    _page(
        "POST",
        "/varsler/",
        a_patient,
        ok=REDIRECTED,
        body=lambda w, o, a: {"notify_by_sms": "on", "preferred_language": "nn"},
    ),
    _page("GET", "/innsyn/", a_patient),
    # the leaders' statistics: anonymous to the login page, anyone but a leader a 403 page
    _page("GET", "/statistikk/", views_statistics, objects=STATISTICS_OBJECTS, query=PAGE_QUERY),
    _page(
        "GET",
        "/statistikk/eksport.csv",
        views_statistics,
        objects=STATISTICS_OBJECTS,
        query=PAGE_QUERY,
    ),
]

# The SMS gateway is no user: its delivery reports carry the shared secret of the settings.
GATEWAY_SECRET = "the-gateways-shared-secret"
GATEWAY_ROWS: list[Row] = [
    Row(
        "POST",
        "/notifications/delivery-reports/",
        anyone,
        ok=204,
        body=lambda w, o, a: {"reference": "1", "status": "delivered"},
        headers={"X-Delivery-Report-Secret": GATEWAY_SECRET},
    ),
]

API_ROWS = PATIENT_ROWS + STAFF_ROWS + GATEWAY_ROWS
ROWS = API_ROWS + SITE_ROWS + PAGE_ROWS


@dataclass(frozen=True)
class Case:
    row: Row
    obj: str
    actor: str

    @property
    def id(self) -> str:
        label = f" ({self.row.label})" if self.row.label else ""
        target = f" {self.obj}" if self.obj else ""
        return f"{self.row.method} {self.row.path}{target}{label} as {self.actor}"


CASES = [Case(row, obj, actor) for row in ROWS for obj in row.objects for actor in ACTORS]


# --- Running a case -------------------------------------------------------------------------------


def client_for(world: World, actor: Actor) -> APIClient:
    api = APIClient(raise_request_exception=False)
    if not actor.anonymous:
        api.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor.name]
    return api


def full_path(path: str, page: bool = False) -> str:
    """A row's path as requested: the API's under /api/v1, the rest as they are."""
    return path if page or path.startswith(("/admin/", "/api/", "/api-auth/")) else API + path


def send(world: World, case: Case, actor: Actor) -> HttpResponse:
    row = case.row
    ids = {name: obj.pk for name, obj in world.objs.items()}
    path = full_path(row.path.format(id=ids.get(case.obj, 0), **ids), row.page)
    if row.query is not None:
        path += "?" + urlencode(row.query(world, case.obj), doseq=True)
    headers = {"Accept-Language": "en", **row.headers}
    if row.body is None:
        response = client_for(world, actor).generic(row.method, path, headers=headers)
    elif row.page:
        response = client_for(world, actor).generic(
            row.method,
            path,
            data=urlencode(row.body(world, case.obj, actor), doseq=True),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    else:
        response = client_for(world, actor).generic(
            row.method,
            path,
            data=json.dumps(row.body(world, case.obj, actor)),
            content_type="application/json",
            headers=headers,
        )
    assert isinstance(response, HttpResponse)
    return response


def patient_summaries(data: Any) -> set[int]:
    """The ids of every patient summary ({id, name, birth_date, ...}) anywhere in an answer."""
    found: set[int] = set()
    if isinstance(data, dict):
        if {"id", "name", "birth_date"} <= data.keys() and isinstance(data["id"], int):
            found.add(data["id"])
        for value in data.values():
            found |= patient_summaries(value)
    elif isinstance(data, list):
        for value in data:
            found |= patient_summaries(value)
    return found


def body_of(response: HttpResponse) -> Any:
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    return json.loads(response.content) if response.content else None


def _last_log_id() -> int:
    return PatientAccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_access(world: World, untouched: dict[str, Any], case: Case) -> None:
    row, actor = case.row, world.actors[case.actor]
    access = row.rule(world, actor, case.obj)
    if access is Access.ALLOW:
        expected = row.ok if isinstance(row.ok, tuple) else (row.ok,)
    elif access is Access.OTHER:
        expected = row.other
    else:
        expected = row.refused.get(access, EXPECTED.get(access, ()))
    last_log = _last_log_id()

    response = send(world, case, actor)

    status = response.status_code
    data = body_of(response)
    problems = []
    if status >= 500:
        problems.append(f"{status}: {crash(response)}")
    elif status not in expected:
        problems.append(
            f"{status} ({access.value}), expected {'/'.join(map(str, expected))}: "
            f"{response.content[:300]!r}"
        )
    elif access is Access.ALLOW and row.check is not None:
        problems += row.check(world, actor, case.obj, data)

    # No answer shows a patient the actor may not see; staff only those the request logged.
    logged_rows = list(
        PatientAccessLog.objects.filter(pk__gt=last_log).values_list(
            "staff_user_id", "patient_id", "action"
        )
    )
    logged = {world.patient_names.get(p, str(p)) for _, p, _ in logged_rows}
    shown = {world.patient_names.get(p, str(p)) for p in patient_summaries(data)}
    if row.page:  # pages: the family names in the text (every world patient has their own)
        text = response.content.decode(errors="replace")
        shown = {name for name in world.patient_names.values() if family_name(name) in text}
    if status >= 300 and shown:
        problems.append(f"the refusal shows patients {sorted(shown)}")
    elif actor.staff and shown - logged:
        problems.append(f"shows patients {sorted(shown - logged)} without logging the read")
    elif not actor.staff and shown - actor.patients:
        problems.append(f"shows patients {sorted(shown - actor.patients)} it may not see")

    # The access log: exactly the patients an allowed staff request read, for that staff user.
    want_logged: set[str] = set()
    if access is Access.ALLOW and actor.staff and row.logs is not None and status < 300:
        want_logged = row.logs(world, case.obj, actor)
    if any(user != actor.user_id or not action for user, _, action in logged_rows):
        problems.append(f"logged for another user or without an action: {logged_rows}")
    if logged != want_logged:
        problems.append(
            f"access log for {sorted(logged) or 'nobody'}, "
            f"expected {sorted(want_logged) or 'nobody'}"
        )

    # A refused write changed nothing.
    exc_info = getattr(response, "exc_info", None)
    database_error = exc_info is not None and isinstance(exc_info[1], DatabaseError)
    # (A page view may touch its own session: when it was last seen, a message for the next.)
    if row.writes and access is not Access.ALLOW and not database_error:
        changed = [
            name
            for name, rows in snapshot(TABLES).items()
            if rows != untouched[name] and not (row.page and name == "Session")
        ]
        if changed:
            problems.append(f"the refused write changed {', '.join(changed)}")

    if problems:
        pytest.fail(f"{case.id}: " + "; ".join(problems), pytrace=False)


# --- The tables against the schema -----------------------------------------------------------


def _template(path: str) -> str:
    """/staff/clinics/{id}/ and /appointment-types/{type_a}/slots/ -> the schema's {id} form."""
    return API + "/".join("{id}" if part.startswith("{") else part for part in path.split("/"))


def url_routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    """The full route of every URL pattern, joined as the resolver joins them for
    ResolverMatch.route (an inner regex loses its leading ^)."""
    for pattern in patterns:
        route = str(pattern.pattern)
        route = prefix + (route.removeprefix("^") if prefix else route)
        if isinstance(pattern, URLResolver):
            yield from url_routes(pattern.url_patterns, route)
        else:
            yield route


def routes_without_a_row() -> list[str]:
    """Every URL pattern of the site that no row's path resolves to."""
    any_ids: defaultdict[str, int] = defaultdict(lambda: 1)
    named = {resolve(full_path(row.path.format_map(any_ids), row.page)).route for row in ROWS}
    return sorted(set(url_routes(get_resolver().url_patterns)) - named)


def test_every_url_has_a_policy_row() -> None:
    missing = routes_without_a_row()
    assert not missing, "URLs that no row of the access matrix names:\n" + "\n".join(missing)


def _unmatrixed(request: Any) -> HttpResponse:
    return HttpResponse("a page added without a policy row")


urlpatterns = [path("klinikk/ny-side/", _unmatrixed), *get_resolver().url_patterns]


def test_a_url_added_without_a_row_is_named_by_the_check() -> None:
    with override_settings(ROOT_URLCONF=__name__):
        assert routes_without_a_row() == ["klinikk/ny-side/"]


def test_the_tables_cover_every_operation_of_the_schema() -> None:
    operations = schema_operations()
    covered = {(row.method, _template(row.path)) for row in API_ROWS}
    assert sorted(operations - covered) == []
    assert sorted(covered - operations) == []


def test_every_row_allows_someone_and_refuses_someone(world: World) -> None:
    """A row nobody may use would pass by refusing everyone, one everybody may use by allowing
    everyone: each object of a row is allowed to somebody (except the one no one may create),
    each row that is not public refuses a signed-in actor, and the tables hold every kind of
    refusal the rules know."""
    public = (anyone, signed_in)
    kinds = set()
    for row in ROWS:
        refused_someone = False
        for obj in row.objects:
            access = {name: row.rule(world, world.actors[name], obj) for name in ACTORS}
            kinds |= set(access.values())
            allowed = [name for name, a in access.items() if a is Access.ALLOW]
            assert bool(allowed) != (obj in NOBODYS), (row.method, row.path, obj)
            refused_someone |= any(
                a not in (Access.ALLOW, Access.ANONYMOUS) for a in access.values()
            )
        assert refused_someone or row.rule in public, (row.method, row.path)
    assert kinds == set(Access)
    assert (
        len({c.id for c in CASES}) == len(CASES) == len(ACTORS) * sum(len(r.objects) for r in ROWS)
    )
