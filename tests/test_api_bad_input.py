"""Bad input to every endpoint of /api/v1/, sent by a patient and by a clinic secretary.

The rule: every input from outside is validated; bad input gets a clear 4xx answer with a
message, never a 500 and never a half-written change. Each case sends one malformed request
and checks that

- the answer is below 500 (a 500 fails the case with the exception and where it was raised),
- where the request is clearly invalid, the status is one of the expected 4xx ones,
- a JSON error answer says what is wrong (a non-empty message somewhere in it),
- a refused write changed nothing.

`test_the_cases_cover_every_operation_of_the_schema` holds the tables to the OpenAPI schema:
every path and method, for both roles. `test_accepted_input_does_not_break_later_requests`
follows odd input that is accepted (or should not have been) into the requests that later
read it.

The clinics, people and calendars are built once for the module inside a transaction that is
rolled back at the end; every case runs in a savepoint of it (pytest-django's own), so a case's
writes vanish with it. The clock is the suite's: Monday 2027-01-04 07:00 Europe/Oslo.
"""

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from rest_framework.test import APIClient

from access.roles import StaffRole
from booking import services
from booking.api.idempotency import HEADER
from booking.models import (
    Absence,
    Appointment,
    PreparationTemplate,
    Resource,
    ResourceKind,
)
from planning import services as planning_services
from planning.models import PlanKind, PlanProposal
from tests import factories
from tests.conftest import oslo
from tests.whole_api import (
    TRACKED,
    crash,
    rolled_back_world,
    schema_operations,
    session_key,
    snapshot,
    where,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

API = "/api/v1"
HUGE = 2**63  # one more than the largest 64-bit integer
VERY_HUGE = 10**30
LONG = "x" * 10_000
WED_10 = "2027-01-06T10:00:00+01:00"  # a free, bookable time for the control type
THU_10 = "2027-01-14T10:00:00+01:00"  # a free time to move the booked appointment to

# Expected statuses of answers to clearly invalid requests.
BAD = (400,)
NOT_FOUND = (404,)
NOT_ALLOWED = (405,)
FORBIDDEN = (403,)
UNSUPPORTED = (415,)
NOT_ACCEPTABLE = (406,)
REFUSED = (400, 409, 422)  # invalid, or a booking rule refuses it
BAD_OR_NOT_FOUND = (400, 404)
ANY_BELOW_500 = ()  # odd but acceptable input: anything below 500 will do


# --- The world ---------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class World:
    ids: dict[str, int]
    sessions: dict[str, str]  # a logged-in session key per role


def _build_world() -> World:
    """Two clinics. Ours: a clinician and a room working weekdays 08-16, a self-bookable
    control type with a preparation, a patient with a booked appointment (Wed 13 January
    10:00), a booking task, a referral, an absence and a proposed plan; a secretary. The
    other clinic has the same kinds of rows, for a stranger patient."""
    clinic = factories.ClinicFactory.create(name="Medisinsk poliklinikk")
    other_clinic = factories.ClinicFactory.create(name="Kirurgisk poliklinikk")
    clinician = factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["endoscopist"])
    room = factories.weekday_resource(clinic, ResourceKind.ROOM, ["consultation"])
    other_resource = factories.weekday_resource(other_clinic, ResourceKind.CLINICIAN)

    control = factories.AppointmentTypeFactory.create(clinic=clinic)
    factories.requirement(control, ResourceKind.CLINICIAN)
    factories.requirement(control, ResourceKind.ROOM)
    PreparationTemplate.objects.create(
        appointment_type=control, title="Medisinliste", timing="deadline", days_before=5
    )
    other_type = factories.AppointmentTypeFactory.create(
        clinic=other_clinic, name="Intern", self_bookable=False
    )
    factories.requirement(other_type, ResourceKind.CLINICIAN)
    PreparationTemplate.objects.create(
        appointment_type=other_type, title="Faste", timing="start", days_before=1
    )

    secretary = factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user
    factories.StaffFactory.create(clinic=other_clinic, role=StaffRole.SECRETARY)
    leader = factories.StaffFactory.create(clinic=clinic, role=StaffRole.LEADER).user
    patient = factories.PatientFactory.create()
    stranger = factories.PatientFactory.create()
    factories.PatientFactory.create(national_id=NEWCOMER_NATIONAL_ID, user=None)

    appointment = services.appointment_book(
        patient=patient,
        appointment_type=control,
        starts_at=oslo(2027, 1, 13, 10, 0),
        actor=services.SYSTEM,
    )
    other_appointment = services.appointment_book(
        patient=stranger,
        appointment_type=other_type,
        starts_at=oslo(2027, 1, 13, 10, 0),
        actor=services.SYSTEM,
    )
    task = planning_services.booking_task_create(
        patient=patient,
        appointment_type=control,
        earliest_date=date(2027, 1, 5),
        latest_date=date(2027, 1, 29),
        respond_by=date(2027, 1, 11),
    )
    other_task = planning_services.booking_task_create(
        patient=stranger,
        appointment_type=other_type,
        earliest_date=date(2027, 1, 5),
        latest_date=date(2027, 1, 29),
        respond_by=date(2027, 1, 11),
    )
    referral = patient.referrals.create(
        clinic=clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )
    other_referral = stranger.referrals.create(
        clinic=other_clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 2, 1)
    )
    absence = Absence.objects.create(
        resource=clinician,
        starts_at=oslo(2027, 2, 5, 8),
        ends_at=oslo(2027, 2, 5, 16),
        reason="course",
    )
    other_absence = Absence.objects.create(
        resource=other_resource,
        starts_at=oslo(2027, 2, 5, 8),
        ends_at=oslo(2027, 2, 5, 16),
        reason="course",
    )
    plan = PlanProposal.objects.create(clinic=clinic, kind=PlanKind.BATCH)
    other_plan = PlanProposal.objects.create(clinic=other_clinic, kind=PlanKind.BATCH)

    def first_hours(resource: Resource) -> int:
        return resource.working_hours.order_by("pk").values_list("pk", flat=True)[0]

    def prep(of: Appointment) -> int:
        return of.preparation_tasks.values_list("pk", flat=True)[0]

    ids = {
        "clinic": clinic.pk,
        "other_clinic": other_clinic.pk,
        "resource": clinician.pk,
        "room": room.pk,
        "other_resource": other_resource.pk,
        "hours": first_hours(clinician),
        "other_hours": first_hours(other_resource),
        "type": control.pk,
        "other_type": other_type.pk,
        "patient": patient.pk,
        "stranger": stranger.pk,
        "appointment": appointment.pk,
        "other_appointment": other_appointment.pk,
        "prep": prep(appointment),
        "other_prep": prep(other_appointment),
        "task": task.pk,
        "other_task": other_task.pk,
        "referral": referral.pk,
        "other_referral": other_referral.pk,
        "absence": absence.pk,
        "other_absence": other_absence.pk,
        "plan": plan.pk,
        "other_plan": other_plan.pk,
        "missing": 987_654_321,
        "huge": HUGE,
    }
    assert patient.user is not None
    return World(
        ids=ids,
        sessions={
            "patient": session_key(patient.user),
            "staff": session_key(secretary),
            "leader": session_key(leader),
        },
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """Built once, in a transaction that is rolled back when the module is done."""
    yield from rolled_back_world(django_db_blocker, _build_world)


@pytest.fixture(autouse=True)
def fresh_throttles() -> Iterator[None]:
    """The login throttle counts per user; every case starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def quiet_500s(caplog: pytest.LogCaptureFixture) -> None:
    """A 500 fails its case with the exception and where it was raised (see `crash`); the
    full traceback Django logs for it would only repeat that, many times over."""
    caplog.set_level(logging.CRITICAL, logger="django.request")


def client_for(world: World, user: str) -> APIClient:
    """A client with the role's session (made once: a case that logs out deletes the session
    only in its own savepoint)."""
    api = APIClient(raise_request_exception=False)
    api.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[user]
    return api


# --- Cases -----------------------------------------------------------------------------------


class _Nothing:
    def __repr__(self) -> str:
        return "no body"


NOTHING = _Nothing()


@dataclass(frozen=True)
class Raw:
    """A body sent as it is, with its own Content-Type."""

    data: bytes | str
    content_type: str


@dataclass(frozen=True)
class Ref:
    """The id of a world row (plus `plus`), filled in when the case runs."""

    name: str
    plus: float = 0


@dataclass(frozen=True)
class Case:
    label: str
    user: str
    method: str
    path: str  # "{name}" is filled in with the id of a world row
    body: Any = NOTHING  # JSON (with Refs), Raw, or NOTHING
    headers: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = ANY_BELOW_500

    @property
    def id(self) -> str:
        return f"{self.user}:{self.method} {self.path} [{self.label}]"

    def __repr__(self) -> str:  # short in failure reports: bodies may be 100,000 characters
        return f"Case({self.id!r})"


def resolve(value: Any, ids: Mapping[str, int]) -> Any:
    if isinstance(value, Ref):
        return ids[value.name] + value.plus if value.plus else ids[value.name]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


def send(api: APIClient, case: Case, ids: Mapping[str, int]) -> HttpResponse:
    path = case.path.format(**ids)
    headers = {"Accept-Language": "en", **case.headers}
    if case.body is NOTHING:
        response = api.generic(case.method, path, headers=headers)
    elif isinstance(case.body, Raw):
        raw: Any = case.body.data  # bytes too: not every body is valid UTF-8
        response = api.generic(
            case.method,
            path,
            data=raw,
            content_type=case.body.content_type,
            headers=headers,
        )
    else:
        response = api.generic(
            case.method,
            path,
            data=json.dumps(resolve(case.body, ids)),
            content_type="application/json",
            headers=headers,
        )
    assert isinstance(response, HttpResponse)
    return response


def messages(data: Any) -> list[str]:
    """Every non-empty text in a JSON answer."""
    if isinstance(data, str):
        return [data] if data.strip() else []
    if isinstance(data, dict):
        return [m for v in data.values() for m in messages(v)]
    if isinstance(data, list):
        return [m for v in data for m in messages(v)]
    return []


def database_error(response: HttpResponse) -> bool:
    exc_info = getattr(response, "exc_info", None)
    return exc_info is not None and isinstance(exc_info[1], DatabaseError)


def problem(case: Case, response: HttpResponse) -> str | None:
    """What is wrong with the answer to a case, if anything."""
    status = response.status_code
    body = response.content[:300]
    if status >= 500:
        return f"{case.id}: {status} {crash(response)}"
    if case.expect and status not in case.expect:
        return f"{case.id}: {status}, expected {'/'.join(map(str, case.expect))}: {body!r}"
    is_json = response.get("Content-Type", "").startswith("application/json")
    if status >= 400 and is_json and not messages(json.loads(response.content)):
        return f"{case.id}: an error without a message: {body!r}"
    return None


def check(case: Case, response: HttpResponse) -> None:
    """Fail with just the problem: the answer and the exception behind a 500 say it all, and
    pytest's traceback of this long module would cost more than the case."""
    found = problem(case, response)
    if found:
        pytest.fail(found, pytrace=False)


# --- Bad bodies and values ---------------------------------------------------------------------

# What every JSON endpoint must refuse with a clear 400 (415 for a body it cannot read).
CORE_SHAPES: list[tuple[str, Any]] = [
    ("JSON null", None),
    ("JSON list", []),
    ("malformed JSON", Raw("{not json", "application/json")),
    ("nested 100,000 deep", Raw("[" * 100_000, "application/json")),
    ("text/plain", Raw("hello", "text/plain")),
]
MORE_SHAPES: list[tuple[str, Any]] = [
    ("JSON list of objects", [{"a": 1}]),
    ("JSON string", "hello"),
    ("JSON number", 42),
    ("truncated JSON", Raw('{"starts_at": ', "application/json")),
    ("XML as JSON", Raw("<a>1</a>", "application/json")),
    ("bytes not UTF-8", Raw(b'{"a": "\xff\xfe"}', "application/json")),
    ("UTF-8 read as UTF-16", Raw('{"a": 1}', "application/json; charset=utf-16")),
    ("JSON NaN", Raw('{"a": NaN}', "application/json")),
    ("a 5,000-digit number", Raw('{"a": ' + "9" * 5000 + "}", "application/json")),
    ("application/xml", Raw("<a>1</a>", "application/xml")),
]
# Readable bodies that may or may not be complete: anything below 500.
ODD_SHAPES: list[tuple[str, Any]] = [
    ("form-encoded junk", Raw("a=1&b=%ZZ&c", "application/x-www-form-urlencoded")),
]
MORE_ODD_SHAPES: list[tuple[str, Any]] = [
    ("empty object", {}),
    ("empty body as JSON", Raw("", "application/json")),
]


def body_shapes(
    user: str, method: str, path: str, expect: tuple[int, ...] = BAD, *, every: bool = False
) -> list[Case]:
    """Malformed bodies; `every` adds the rarer shapes (the same parser reads them all)."""
    shapes = CORE_SHAPES + (MORE_SHAPES if every else [])
    cases = []
    for label, body in shapes:
        unreadable = isinstance(body, Raw) and not body.content_type.startswith("application/json")
        wanted = tuple(sorted({*expect, *UNSUPPORTED})) if unreadable and expect else expect
        cases.append(Case(label, user, method, path, body, expect=wanted))
    odd = ODD_SHAPES + (MORE_ODD_SHAPES if every else [])
    cases += [Case(label, user, method, path, body) for label, body in odd]
    return cases


def ignored_bodies(user: str, method: str, path: str, expect: tuple[int, ...]) -> list[Case]:
    """Endpoints that take no body: a malformed one must not matter."""
    return [
        Case("malformed JSON", user, method, path, Raw("{junk", "application/json"), {}, expect),
        Case("nested 100,000 deep", user, method, path, CORE_SHAPES[3][1], {}, expect),
    ]


@dataclass(frozen=True)
class Bad:
    label: str
    value: Any
    expect: tuple[int, ...] = BAD


TYPE_ERRORS = [
    Bad("string", "abc"),
    Bad("list", [1]),
    Bad("object", {"id": 1}),
    Bad("null", None),
    Bad("bool", True),
    Bad("float", 1.5),
    Bad("10,000 chars", LONG),
]


def not_mine(expect: tuple[int, ...] = NOT_FOUND, other: str | None = None) -> list[Bad]:
    """Ids that are not the caller's: too big, negative, missing, another clinic's."""
    no_id = (400, *expect)  # no table can hold it: refused as invalid, or not found
    bads = [
        Bad("2**63", HUGE, no_id),
        Bad("10**30", VERY_HUGE, no_id),
        Bad("negative", -1, no_id),
        Bad("zero", 0, no_id),
        Bad("does not exist", Ref("missing"), expect),
    ]
    if other is not None:
        bads.append(Bad(f"{other}'s id", Ref(other), expect))
    return bads


def foreign_key(mine: str, other: str) -> list[Bad]:
    """A related row given by id (a ModelSerializer field): what is not the caller's is a 400."""
    return [
        *TYPE_ERRORS[:4],
        *not_mine(BAD, other),
        Bad("the id plus 0.5", Ref(mine, plus=0.5)),
    ]


DATETIMES_SHORT = [
    Bad("words", "tomorrow"),
    Bad("null", None),
    Bad("February 30", "2027-02-30T10:00:00+01:00"),
    Bad("year 0001 naive", "0001-01-01T00:00:00", REFUSED),
    Bad("year 0001 UTC", "0001-01-01T00:00:00Z", REFUSED),
    Bad("year 9999 naive", "9999-12-31T23:30:00", REFUSED),
    Bad("year 9999 UTC", "9999-12-30T10:00:00Z", REFUSED),
    Bad("year 9999 -12:00", "9999-12-31T23:30:00-12:00", REFUSED),
]
DATETIMES = [
    *DATETIMES_SHORT,
    Bad("empty", ""),
    Bad("number", 1767225600),
    Bad("list", [WED_10]),
    Bad("object", {"date": WED_10}),
    Bad("hour 25", "2027-01-06T25:00:00+01:00"),
    Bad("offset +25:00", "2027-01-06T10:00:00+25:00"),
    Bad("10,000 chars", LONG),
    Bad("1970", "1970-01-01T00:00:00Z", REFUSED),
    Bad("off the grid", "2027-01-06T10:07:00+01:00", REFUSED),
    Bad("naive", "2027-01-06T10:00:00"),
    Bad("date only", "2027-01-06"),
    Bad("naive, a time spring skips", "2027-03-28T02:30:00"),
    Bad("naive, a time autumn repeats", "2027-10-31T02:30:00"),
    Bad("with nanoseconds", "2027-01-06T10:00:00.123456789+01:00", ANY_BELOW_500),
]
DATES = [
    Bad("words", "tomorrow"),
    Bad("number", 20270106),
    Bad("null", None),
    Bad("February 30", "2027-02-30"),
    Bad("a datetime", WED_10),
    Bad("year 0001", "0001-01-01", ANY_BELOW_500),
    Bad("year 9999", "9999-12-31", ANY_BELOW_500),
]
TEXTS = [
    Bad("10,000 chars", LONG),
    Bad("list", ["a"]),
    Bad("object", {"a": 1}),
    Bad("NUL character", "a\x00b"),
    Bad("lone surrogate", "a\ud800b"),
    Bad("a number", 12, ANY_BELOW_500),
]
BOOLEANS = [
    Bad("words", "maybe"),
    Bad("number 2", 2),
    Bad("list", [True]),
    Bad("null", None),
]
CHOICES = [
    Bad("unknown", "nonsense"),
    Bad("empty", ""),
    Bad("list", ["a"]),
    Bad("null", None),
    Bad("10,000 chars", LONG),
    Bad("lone surrogate", "\ud800"),
]
NUMBERS = [
    Bad("string", "abc"),
    Bad("null", None),
    Bad("negative", -1),
    Bad("2**63", HUGE),
    Bad("2**62", 2**62),
    Bad("70000", 70_000),
]


def field_cases(
    user: str,
    method: str,
    path: str,
    base: dict[str, Any],
    fields: Mapping[str, list[Bad]],
    *,
    required: tuple[str, ...] = (),
) -> list[Case]:
    """One case per bad value of each field, the rest of the body valid; one per missing
    required field."""
    cases = [
        Case(f"{name}: {bad.label}", user, method, path, {**base, name: bad.value}, {}, bad.expect)
        for name, bads in fields.items()
        for bad in bads
    ]
    for name in required:
        body = {k: v for k, v in base.items() if k != name}
        cases.append(Case(f"{name} missing", user, method, path, body, expect=BAD))
    return cases


Query = tuple[str, Mapping[str, Any], tuple[int, ...]]


def queries(user: str, path: str, bads: list[Query]) -> list[Case]:
    return [
        Case(label, user, "GET", f"{path}?{urlencode(params, doseq=True, safe='{}')}", expect=exp)
        for label, params, exp in bads
    ]


def methods(user: str, path: str, verbs: str, expect: tuple[int, ...] = NOT_ALLOWED) -> list[Case]:
    return [
        Case("method not allowed", user, verb, path, {"a": 1}, expect=expect)
        for verb in verbs.split()
    ]


def path_ids(
    user: str, method: str, template: str, other: str | None = None, body: Any = NOTHING
) -> list[Case]:
    """The path's id replaced by ids that are not the caller's."""
    odd = [("id 2**63", HUGE), ("id -1", -1), ("id abc", "abc"), ("missing id", "{missing}")]
    if other is not None:
        odd.append((f"{other}'s id", "{" + other + "}"))
    return [
        Case(label, user, method, template.format(id=value), body, expect=NOT_FOUND)
        for label, value in odd
    ]


PAGINATION: list[Query] = [
    ("limit 10**30", {"limit": VERY_HUGE}, ANY_BELOW_500),
    ("limit 2**63", {"limit": HUGE}, ANY_BELOW_500),
    ("offset 2**63", {"offset": HUGE}, ANY_BELOW_500),
    ("limit -1 offset -1", {"limit": -1, "offset": -1}, ANY_BELOW_500),
    ("limit abc offset abc", {"limit": "abc", "offset": "abc"}, ANY_BELOW_500),
    ("unknown parameter", {"colour": "blue", "x" * 100: LONG}, ANY_BELOW_500),
]
UNKNOWN_QUERY: list[Query] = [("unknown parameter", {"colour": "blue"}, ANY_BELOW_500)]


def idempotency_cases(user: str, path: str, body: Any) -> list[Case]:
    """Bad keys; and a good key on a bad body, which must not be remembered."""
    keys = [
        ("empty", ""),
        ("blank", "   "),
        ("1,000 chars", "k" * 1000),
        ("201 chars", "k" * 201),
        ("a tab", "a\tb"),
    ]
    return [
        *(
            Case(f"Idempotency-Key {label}", user, "POST", path, body, {HEADER: key}, BAD)
            for label, key in keys
        ),
        Case(
            "a good Idempotency-Key on a bad body",
            user,
            "POST",
            path,
            {**body, "starts_at": "tomorrow"},
            {HEADER: "key-1"},
            BAD,
        ),
    ]


# --- Patient endpoints -------------------------------------------------------------------------

BOOK = {"appointment_type": Ref("type"), "starts_at": WED_10}
SLOTS = API + "/appointment-types/{type}/slots/"
OFFERS = API + "/booking-tasks/{task}/offers/"
OFFER_QUERIES: list[Query] = [
    ("offset -1", {"offset": -1}, BAD),
    ("offset 2**63", {"offset": HUGE}, BAD),
    ("offset abc", {"offset": "abc"}, BAD),
    ("count 100000", {"count": 100_000}, BAD),
    ("count 0", {"count": 0}, BAD),
    ("count abc", {"count": "abc"}, BAD),
    ("count 10**30", {"count": VERY_HUGE}, BAD),
    ("weekday 9", {"weekday": 9}, BAD),
    ("weekday -1", {"weekday": -1}, BAD),
    ("weekday abc", {"weekday": "abc"}, BAD),
    ("weekdays 1 and 9", {"weekday": [1, 9]}, BAD),
    ("part_of_day xyz", {"part_of_day": "xyz"}, BAD),
    ("part_of_day 10,000 chars", {"part_of_day": LONG}, BAD),
]
CHOOSE = API + "/booking-tasks/{task}/choose/"
STATISTICS = API + "/statistics/"
STATISTICS_QUERIES: list[Query] = [
    ("from February 30", {"from": "2027-02-30"}, BAD),
    ("from words", {"from": "tomorrow"}, BAD),
    ("from 10,000 chars", {"from": LONG}, BAD),
    ("from year 0001", {"from": "0001-01-01", "to": "0001-01-31"}, BAD),
    ("to year 9999", {"from": "2027-01-01", "to": "9999-12-31"}, BAD),
    ("to before from", {"from": "2027-01-20", "to": "2027-01-10"}, BAD),
    ("a 70-year range", {"from": "2027-01-04", "to": "2097-01-01"}, BAD),
    ("days over a year", {"from": "2026-01-01", "to": "2026-12-31", "resolution": "day"}, BAD),
    ("resolution year", {"resolution": "year"}, BAD),
    ("resolution 10,000 chars", {"resolution": LONG}, BAD),
    ("clinic abc", {"clinic": "abc"}, BAD),
    ("clinic 2**63", {"clinic": HUGE}, BAD_OR_NOT_FOUND),
    ("clinic 10**30", {"clinic": VERY_HUGE}, BAD_OR_NOT_FOUND),
    ("clinic -1", {"clinic": -1}, BAD_OR_NOT_FOUND),
    ("another clinic", {"clinic": "{other_clinic}"}, NOT_FOUND),
    ("another clinic's type", {"appointment_type": "{other_type}"}, NOT_FOUND),
    ("another clinic's clinician", {"clinician": "{other_resource}"}, NOT_FOUND),
    ("a room as clinician", {"clinician": "{room}"}, NOT_FOUND),
    ("a missing type", {"appointment_type": "{missing}"}, NOT_FOUND),
    ("from empty", {"from": ""}, ANY_BELOW_500),
    ("a month of days", {"from": "2027-01-01", "to": "2027-01-31", "resolution": "day"}, (200,)),
    ("unknown parameter", {"colour": "blue"}, (200,)),
]

PATIENT_CASES: list[Case] = [
    # auth
    *queries("patient", API + "/auth/csrf/", UNKNOWN_QUERY),
    *methods("patient", API + "/auth/csrf/", "POST DELETE"),
    *body_shapes("patient", "POST", API + "/auth/login/"),
    *field_cases(
        "patient",
        "POST",
        API + "/auth/login/",
        {"username": "nobody", "password": "wrong"},
        {"username": [*TEXTS, Bad("null", None)], "password": [*TEXTS[:3], Bad("null", None)]},
        required=("username", "password"),
    ),
    *methods("patient", API + "/auth/login/", "GET PUT"),
    *ignored_bodies("patient", "POST", API + "/auth/logout/", (204,)),
    *methods("patient", API + "/auth/logout/", "GET PUT"),
    # who I am
    *queries("patient", API + "/me/", UNKNOWN_QUERY),
    *methods("patient", API + "/me/", "POST DELETE"),
    *queries("patient", API + "/patients/", UNKNOWN_QUERY),
    *methods("patient", API + "/patients/", "POST DELETE"),
    # appointment types and free times
    *queries("patient", API + "/appointment-types/", PAGINATION),
    *methods("patient", API + "/appointment-types/", "POST DELETE"),
    *queries(
        "patient",
        SLOTS,
        [
            ("date_from February 30", {"date_from": "2027-02-30"}, BAD),
            ("date_from words", {"date_from": "tomorrow"}, BAD),
            ("date_from empty", {"date_from": ""}, ANY_BELOW_500),
            ("date_from 10,000 chars", {"date_from": LONG}, BAD),
            ("date_from a datetime", {"date_from": WED_10}, BAD),
            ("date_to month 13", {"date_to": "2027-13-01"}, BAD),
            ("date_from after date_to", {"date_from": "2027-01-20", "date_to": "2027-01-10"}, BAD),
            ("a 70-year range", {"date_from": "2027-01-04", "date_to": "2099-01-01"}, BAD),
            ("years 0001 to 9999", {"date_from": "0001-01-01", "date_to": "9999-12-31"}, BAD),
            ("date_from year 0001", {"date_from": "0001-01-01"}, ANY_BELOW_500),
            ("year 0001 both", {"date_from": "0001-01-01", "date_to": "0001-01-02"}, ANY_BELOW_500),
            ("date_from year 9999", {"date_from": "9999-12-31"}, ANY_BELOW_500),
            ("date_from 9999-12-20", {"date_from": "9999-12-20"}, ANY_BELOW_500),
            (
                "9999-12-31 both",
                {"date_from": "9999-12-31", "date_to": "9999-12-31"},
                ANY_BELOW_500,
            ),
            ("patient abc", {"patient": "abc"}, BAD),
            ("patient 2**63", {"patient": HUGE}, BAD_OR_NOT_FOUND),
            ("patient 10**30", {"patient": VERY_HUGE}, BAD_OR_NOT_FOUND),
            ("patient -1", {"patient": -1}, BAD_OR_NOT_FOUND),
            ("a stranger", {"patient": "{stranger}"}, NOT_FOUND),
            ("unknown parameter", {"colour": "blue"}, (200,)),
        ],
    ),
    *path_ids("patient", "GET", API + "/appointment-types/{id}/slots/", other="other_type"),
    *methods("patient", SLOTS, "POST DELETE"),
    # appointments
    *queries("patient", API + "/appointments/", UNKNOWN_QUERY),
    *body_shapes("patient", "POST", API + "/appointments/", every=True),
    *field_cases(
        "patient",
        "POST",
        API + "/appointments/",
        BOOK,
        {
            "appointment_type": [*TYPE_ERRORS, *not_mine((403, 404), "other_type")],
            "starts_at": DATETIMES,
            "patient": [*TYPE_ERRORS, *not_mine(NOT_FOUND, "stranger")],
        },
        required=("appointment_type", "starts_at"),
    ),
    Case(
        "fields that are not the patient's to set",
        "patient",
        "POST",
        API + "/appointments/",
        {**BOOK, "status": "fulfilled", "clinic": Ref("other_clinic"), "ends_at": LONG},
    ),
    *idempotency_cases("patient", API + "/appointments/", BOOK),
    *methods("patient", API + "/appointments/", "PUT DELETE"),
    *path_ids("patient", "GET", API + "/appointments/{id}/", other="other_appointment"),
    *methods("patient", API + "/appointments/{appointment}/", "POST DELETE"),
    *body_shapes("patient", "POST", API + "/appointments/{appointment}/reschedule/"),
    *field_cases(
        "patient",
        "POST",
        API + "/appointments/{appointment}/reschedule/",
        {"starts_at": THU_10},
        {
            "starts_at": [
                *DATETIMES_SHORT,
                Bad("the same time", "2027-01-13T10:00:00+01:00", REFUSED),
            ]
        },
        required=("starts_at",),
    ),
    *path_ids(
        "patient",
        "POST",
        API + "/appointments/{id}/reschedule/",
        "other_appointment",
        {"starts_at": THU_10},
    ),
    *methods("patient", API + "/appointments/{appointment}/reschedule/", "GET PUT"),
    *body_shapes("patient", "POST", API + "/appointments/{appointment}/cancel/"),
    *field_cases(
        "patient",
        "POST",
        API + "/appointments/{appointment}/cancel/",
        {"reason": "Syk"},
        {"reason": [*TEXTS, Bad("null", None)]},
    ),
    *path_ids(
        "patient", "POST", API + "/appointments/{id}/cancel/", "other_appointment", {"reason": "x"}
    ),
    *methods("patient", API + "/appointments/{appointment}/cancel/", "GET PUT"),
    # preparations
    *queries("patient", API + "/preparation-tasks/", PAGINATION),
    *methods("patient", API + "/preparation-tasks/", "POST DELETE"),
    *body_shapes("patient", "PATCH", API + "/preparation-tasks/{prep}/"),
    *field_cases(
        "patient",
        "PATCH",
        API + "/preparation-tasks/{prep}/",
        {"done": True},
        {"done": BOOLEANS},
        required=("done",),
    ),
    *path_ids("patient", "PATCH", API + "/preparation-tasks/{id}/", "other_prep", {"done": True}),
    *methods("patient", API + "/preparation-tasks/{prep}/", "GET PUT"),
    # booking tasks
    *queries("patient", API + "/booking-tasks/", UNKNOWN_QUERY),
    *methods("patient", API + "/booking-tasks/", "POST DELETE"),
    *path_ids("patient", "GET", API + "/booking-tasks/{id}/", other="other_task"),
    *methods("patient", API + "/booking-tasks/{task}/", "POST DELETE"),
    *queries(
        "patient",
        OFFERS,
        [
            *OFFER_QUERIES,
            ("count empty", {"count": ""}, ANY_BELOW_500),
            (
                "unknown parameter and a filter",
                {"colour": "blue", "part_of_day": "morning"},
                (200,),
            ),
        ],
    ),
    *path_ids("patient", "GET", API + "/booking-tasks/{id}/offers/", other="other_task"),
    *methods("patient", OFFERS, "POST DELETE"),
    *body_shapes("patient", "POST", CHOOSE),
    *field_cases(
        "patient",
        "POST",
        CHOOSE,
        {"starts_at": WED_10},
        {
            "starts_at": [
                *DATETIMES_SHORT,
                Bad("outside the task's days", "2027-03-03T10:00:00Z", REFUSED),
            ]
        },
        required=("starts_at",),
    ),
    *idempotency_cases("patient", CHOOSE, {"starts_at": WED_10}),
    *path_ids(
        "patient", "POST", API + "/booking-tasks/{id}/choose/", "other_task", {"starts_at": WED_10}
    ),
    *methods("patient", CHOOSE, "GET PUT"),
    *ignored_bodies("patient", "POST", API + "/booking-tasks/{task}/accept/", (409,)),
    *path_ids("patient", "POST", API + "/booking-tasks/{id}/accept/", other="other_task"),
    *methods("patient", API + "/booking-tasks/{task}/accept/", "GET PUT"),
]

# --- Staff endpoints ---------------------------------------------------------------------------

STAFF_BOOK = {
    "patient": Ref("patient"),
    "appointment_type": Ref("type"),
    "starts_at": WED_10,
    "cause": "clinic_booking",
}
TASK = {
    "patient": Ref("patient"),
    "appointment_type": Ref("type"),
    "referral": Ref("referral"),
    "earliest_date": "2027-01-05",
    "latest_date": "2027-01-29",
    "respond_by": "2027-01-11",
}
LOOKUP = {"clinic": "{clinic}", "purpose": "register_referral"}
# A patient in the register whom no clinic has a referral for yet (see _build_world).
NEWCOMER_NATIONAL_ID = factories.national_id(date(1975, 6, 15))
REFERRAL = {
    "national_id": NEWCOMER_NATIONAL_ID,
    "clinic": Ref("clinic"),
    "received_on": "2027-01-04",
    "care_deadline": "2027-02-15",
    "priority": 2,
}
CLINIC = {"name": "Poliklinikk", "address": "Gata 1", "time_zone": "Europe/Oslo"}
RESOURCE = {
    "clinic": Ref("clinic"),
    "kind": "room",
    "name": "Rom 2",
    "tags": ["gastro"],
    "is_active": True,
}
HOURS = {
    "resource": Ref("resource"),
    "weekday": 5,
    "start_time": "08:00",
    "end_time": "12:00",
    "valid_from": "2027-01-01",
    "valid_until": None,
    "interval_weeks": 1,
}
ABSENCE = {
    "resource": Ref("resource"),
    "starts_at": "2027-03-01T08:00:00+01:00",
    "ends_at": "2027-03-01T16:00:00+01:00",
    "reason": "sick",
    "note": "",
}
TYPE = {
    "clinic": Ref("clinic"),
    "name": "Gastroskopi",
    "patient_facing_name": "",
    "location": "",
    "contact_mode": "in_person",
    "duration_minutes": 30,
    "grid_minutes": 15,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 0,
    "self_bookable": True,
    "requires_confirmation": False,
    "min_notice_hours": 24,
    "booking_horizon_days": 90,
    "change_cutoff_hours": 48,
    "max_patient_changes": 2,
    "offers_count": 6,
    "is_active": True,
    "requirements": [{"kind": "clinician", "tag": "", "count": 1}],
    "preparations": [{"title": "Faste", "instructions": "", "timing": "start", "days_before": 1}],
}
BEYOND_SMALLINT = [Bad("negative", -1), Bad("2**62", 2**62), Bad("70000", 70_000)]
TYPE_NUMBERS: dict[str, list[Bad]] = {
    "duration_minutes": [*NUMBERS, Bad("0", 0), Bad("601", 601)],
    "grid_minutes": [Bad("0", 0), Bad("121", 121), Bad("2**63", HUGE)],
    "buffer_before_minutes": BEYOND_SMALLINT,
    "buffer_after_minutes": BEYOND_SMALLINT,
    "min_notice_hours": BEYOND_SMALLINT,
    "booking_horizon_days": [Bad("0", 0), Bad("731", 731), Bad("2**62", 2**62)],
    "change_cutoff_hours": BEYOND_SMALLINT,
    "max_patient_changes": BEYOND_SMALLINT,
    "offers_count": [Bad("0", 0), Bad("51", 51), Bad("string", "abc")],
    "reminder_hours": [
        Bad("a number", 24),
        Bad("null", None),
        Bad("0 hours", [0]),
        Bad("61 days", [24 * 61]),
        Bad("twice the same", [24, 24]),
        Bad("six of them", [1, 2, 3, 4, 5, 6]),
        Bad("a string", ["24"], ANY_BELOW_500),
        Bad("2**63", [HUGE]),
    ],
}
TYPE_CHILDREN: dict[str, list[Bad]] = {
    "requirements": [
        Bad("empty list", []),
        Bad("null", None),
        Bad("an object", {"kind": "clinician"}),
        Bad("a string", "clinician"),
        Bad("list of numbers", [1, 2]),
        Bad("an empty object", [{}]),
        Bad("unknown kind", [{"kind": "robot"}]),
        Bad("count 2**63", [{"kind": "clinician", "count": HUGE}]),
        Bad("count 0", [{"kind": "clinician", "count": 0}]),
        Bad("count abc", [{"kind": "clinician", "count": "abc"}]),
        Bad("tag 10,000 chars", [{"kind": "clinician", "tag": LONG}]),
        Bad("kind missing", [{"tag": "endoscopist"}]),
        Bad("11 requirements", [{"kind": "clinician"}] * 11),
    ],
    "preparations": [
        Bad("null", None),
        Bad("an object", {"title": "x"}),
        Bad("unknown timing", [{"title": "x", "timing": "later", "days_before": 1}]),
        Bad("days_before -1", [{"title": "x", "timing": "start", "days_before": -1}]),
        Bad("days_before 2**63", [{"title": "x", "timing": "start", "days_before": HUGE}]),
        Bad("title 10,000 chars", [{"title": LONG, "timing": "start", "days_before": 1}]),
        Bad("title missing", [{"timing": "start", "days_before": 1}]),
        Bad("only a title", [{"title": "Faste"}]),
    ],
}
TYPE_FIELDS: dict[str, list[Bad]] = {
    "clinic": foreign_key("clinic", "other_clinic"),
    "name": [*TEXTS, Bad("empty", ""), Bad("null", None)],
    "patient_facing_name": [TEXTS[0], TEXTS[4]],
    "contact_mode": [CHOICES[0], CHOICES[3], CHOICES[5]],
    "self_bookable": BOOLEANS[:2],
    **TYPE_NUMBERS,
    **TYPE_CHILDREN,
}
TASK_DATES = [b for b in DATES if b.expect == BAD]
PLAN_QUERIES: list[Query] = [
    ("clinic abc", {"clinic": "abc"}, BAD),
    ("clinic 2**63", {"clinic": HUGE}, (200, 400)),
    ("clinic 10**30", {"clinic": VERY_HUGE}, (200, 400)),
    ("absence 2**63", {"absence": HUGE}, (200, 400)),
    ("absence -1", {"absence": -1}, (200, 400)),
    ("absence abc", {"absence": "abc"}, BAD),
    ("kind xyz", {"kind": "xyz"}, BAD),
    ("status xyz", {"status": "xyz"}, BAD),
    ("another clinic", {"clinic": "{other_clinic}"}, (200,)),
    ("unknown parameter", {"colour": "blue"}, (200,)),
]

STAFF_CASES: list[Case] = [
    # patient lookup, to register a referral
    *queries(
        "staff",
        API + "/staff/patients/lookup/",
        [
            ("nothing", {}, BAD),
            ("no national_id", LOOKUP, BAD),
            ("too short", {**LOOKUP, "national_id": "123"}, BAD),
            ("letters", {**LOOKUP, "national_id": "abcdefghijk"}, BAD),
            ("10,000 digits", {**LOOKUP, "national_id": "1" * 10_000}, BAD),
            ("empty", {**LOOKUP, "national_id": ""}, BAD),
            ("unknown", {**LOOKUP, "national_id": "01010112345"}, NOT_FOUND),
            ("Arabic-Indic digits", {**LOOKUP, "national_id": "١٢٣٤٥٦٧٨٩٠١"}, BAD),
            ("superscript digits", {**LOOKUP, "national_id": "²⁸⁰³⁵⁴⁰⁰¹⁰⁰"}, BAD),
            ("twice", {**LOOKUP, "national_id": ["123", "01010112345"]}, BAD_OR_NOT_FOUND),
            ("no purpose", {"national_id": "01010112345", "clinic": "{clinic}"}, BAD),
            ("purpose xyz", {**LOOKUP, "national_id": "01010112345", "purpose": "xyz"}, BAD),
            ("no clinic", {"national_id": "01010112345", "purpose": "register_referral"}, BAD),
            ("clinic abc", {**LOOKUP, "national_id": "01010112345", "clinic": "abc"}, BAD),
            (
                "another clinic",
                {**LOOKUP, "national_id": "01010112345", "clinic": "{other_clinic}"},
                NOT_FOUND,
            ),
        ],
    ),
    *methods("staff", API + "/staff/patients/lookup/", "POST DELETE"),
    # attendance list and bookings on the patient's behalf
    *queries(
        "staff",
        API + "/staff/appointments/",
        [
            ("nothing", {}, BAD),
            ("clinic missing", {"date": "2027-01-13"}, BAD),
            ("date missing", {"clinic": "{clinic}"}, BAD),
            ("clinic abc", {"clinic": "abc", "date": "2027-01-13"}, BAD),
            ("clinic 2**63", {"clinic": HUGE, "date": "2027-01-13"}, BAD_OR_NOT_FOUND),
            ("clinic 10**30", {"clinic": VERY_HUGE, "date": "2027-01-13"}, BAD_OR_NOT_FOUND),
            ("clinic -1", {"clinic": -1, "date": "2027-01-13"}, BAD_OR_NOT_FOUND),
            ("another clinic", {"clinic": "{other_clinic}", "date": "2027-01-13"}, NOT_FOUND),
            ("date February 30", {"clinic": "{clinic}", "date": "2027-02-30"}, BAD),
            ("date 10,000 chars", {"clinic": "{clinic}", "date": LONG}, BAD),
            ("date year 0001", {"clinic": "{clinic}", "date": "0001-01-01"}, ANY_BELOW_500),
            ("date year 9999", {"clinic": "{clinic}", "date": "9999-12-31"}, ANY_BELOW_500),
        ],
    ),
    *body_shapes("staff", "POST", API + "/staff/appointments/", every=True),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/appointments/",
        STAFF_BOOK,
        {
            "patient": [*TYPE_ERRORS[:4], *not_mine(NOT_FOUND, "stranger")],
            "appointment_type": [*TYPE_ERRORS[:4], *not_mine(NOT_FOUND, "other_type")],
            "starts_at": DATETIMES,
            "cause": [*CHOICES, Bad("attendance", "attendance")],
        },
        required=("patient", "appointment_type", "starts_at"),
    ),
    *methods("staff", API + "/staff/appointments/", "PUT DELETE"),
    *body_shapes("staff", "POST", API + "/staff/appointments/{appointment}/reschedule/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/appointments/{appointment}/reschedule/",
        {"starts_at": THU_10, "cause": "clinic_replanning"},
        {"starts_at": DATETIMES_SHORT, "cause": CHOICES},
        required=("starts_at",),
    ),
    *path_ids(
        "staff",
        "POST",
        API + "/staff/appointments/{id}/reschedule/",
        "other_appointment",
        {"starts_at": THU_10},
    ),
    *methods("staff", API + "/staff/appointments/{appointment}/reschedule/", "GET PUT"),
    *body_shapes("staff", "POST", API + "/staff/appointments/{appointment}/cancel/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/appointments/{appointment}/cancel/",
        {"reason": "Lege syk", "cause": "clinic_cancellation"},
        {
            "reason": [*TEXTS, Bad("null", None)],
            "cause": [*CHOICES, Bad("booking", "clinic_booking")],
        },
    ),
    *path_ids(
        "staff",
        "POST",
        API + "/staff/appointments/{id}/cancel/",
        "other_appointment",
        {"reason": "x"},
    ),
    *methods("staff", API + "/staff/appointments/{appointment}/cancel/", "GET PUT"),
    # referrals
    *queries(
        "staff",
        API + "/staff/referrals/",
        [
            ("clinic abc", {"clinic": "abc"}, BAD),
            ("clinic 2**63", {"clinic": HUGE}, (200, 400)),
            ("patient abc", {"patient": "abc"}, BAD),
            ("status xyz", {"status": "xyz"}, BAD),
            ("another clinic", {"clinic": "{other_clinic}"}, (200,)),
            ("unknown parameter", {"colour": "blue"}, (200,)),
        ],
    ),
    *body_shapes("staff", "POST", API + "/staff/referrals/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/referrals/",
        REFERRAL,
        {
            "national_id": [
                *TYPE_ERRORS[:3],
                Bad("10 digits", "0101011234"),
                Bad("superscript digits", "²⁸⁰³⁵⁴⁰⁰¹⁰⁰"),
                Bad("unknown", "01010112345", NOT_FOUND),
            ],
            "clinic": [*TYPE_ERRORS[:4], *not_mine(NOT_FOUND, "other_clinic")],
            "received_on": DATES,
            "care_deadline": [*DATES, Bad("before received_on", "2027-01-01")],
            "priority": [*NUMBERS, Bad("0", 0), Bad("4", 4)],
        },
        required=("national_id", "clinic", "received_on", "care_deadline"),
    ),
    *methods("staff", API + "/staff/referrals/", "PUT DELETE"),
    *path_ids("staff", "GET", API + "/staff/referrals/{id}/", other="other_referral"),
    *methods("staff", API + "/staff/referrals/{referral}/", "POST PUT DELETE"),
    # booking tasks
    *queries(
        "staff",
        API + "/staff/booking-tasks/",
        [
            ("clinic abc", {"clinic": "abc"}, BAD),
            ("clinic 2**63", {"clinic": HUGE}, (200, 400)),
            ("clinic 10**30", {"clinic": VERY_HUGE}, (200, 400)),
            ("clinic -1", {"clinic": -1}, (200, 400)),
            ("patient 2**63", {"patient": HUGE}, (200, 400)),
            ("patient abc", {"patient": "abc"}, BAD),
            ("status xyz", {"status": "xyz"}, BAD),
            ("status 10,000 chars", {"status": LONG}, BAD),
            ("another clinic", {"clinic": "{other_clinic}"}, (200,)),
            ("unknown parameter", {"colour": "blue"}, (200,)),
        ],
    ),
    *body_shapes("staff", "POST", API + "/staff/booking-tasks/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/booking-tasks/",
        TASK,
        {
            "patient": [*TYPE_ERRORS[:4], *not_mine(NOT_FOUND, "stranger")],
            "appointment_type": [*TYPE_ERRORS[:4], *not_mine(NOT_FOUND, "other_type")],
            "referral": [*TYPE_ERRORS[:4], *not_mine(NOT_FOUND, "other_referral")],
            "earliest_date": DATES,
            "latest_date": DATES,
            "respond_by": [*TASK_DATES, Bad("year 0001", "0001-01-01", ANY_BELOW_500)],
            "deadline": DATES,
            "priority": [*NUMBERS, Bad("0", 0), Bad("4", 4)],
            "note": TEXTS,
        },
        required=(
            "patient",
            "appointment_type",
            "referral",
            "earliest_date",
            "latest_date",
            "respond_by",
        ),
    ),
    Case(
        "latest before earliest",
        "staff",
        "POST",
        API + "/staff/booking-tasks/",
        {**TASK, "latest_date": "2027-01-01", "respond_by": "2027-01-01"},
        expect=BAD,
    ),
    Case(
        "respond_by after latest",
        "staff",
        "POST",
        API + "/staff/booking-tasks/",
        {**TASK, "respond_by": "2027-03-01"},
        expect=BAD,
    ),
    Case(
        "our patient's referral for the stranger",
        "staff",
        "POST",
        API + "/staff/booking-tasks/",
        {**TASK, "referral": Ref("referral"), "patient": Ref("stranger")},
        expect=NOT_FOUND,
    ),
    *methods("staff", API + "/staff/booking-tasks/", "PUT DELETE"),
    *path_ids("staff", "GET", API + "/staff/booking-tasks/{id}/", other="other_task"),
    *methods("staff", API + "/staff/booking-tasks/{task}/", "POST DELETE"),
    *path_ids("staff", "POST", API + "/staff/booking-tasks/{id}/cancel/", other="other_task"),
    *ignored_bodies("staff", "POST", API + "/staff/booking-tasks/{task}/cancel/", (200,)),
    *methods("staff", API + "/staff/booking-tasks/{task}/cancel/", "GET PUT"),
    *queries("staff", API + "/staff/booking-tasks/{task}/offers/", OFFER_QUERIES),
    *path_ids("staff", "GET", API + "/staff/booking-tasks/{id}/offers/", other="other_task"),
    *methods("staff", API + "/staff/booking-tasks/{task}/offers/", "POST DELETE"),
    # planning
    *body_shapes("staff", "POST", API + "/staff/clinics/{clinic}/batch-plans/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/clinics/{clinic}/batch-plans/",
        {"task_ids": [Ref("task")], "overdue_only": False},
        {
            "task_ids": [
                Bad("a string", "1,2"),
                Bad("an object", {"id": 1}),
                Bad("null", None),
                Bad("empty list", []),
                Bad("list of strings", ["abc"]),
                Bad("list of lists", [[1]]),
                Bad("list with null", [None]),
                Bad("5,001 ids", list(range(1, 5002))),
                Bad("2**63", [HUGE], (400, 422)),
                Bad("10**30", [VERY_HUGE], (400, 422)),
                Bad("negative", [-1], (400, 422)),
                Bad("another clinic's task", [Ref("other_task")], (422,)),
            ],
            "overdue_only": BOOLEANS,
        },
    ),
    *path_ids("staff", "POST", API + "/staff/clinics/{id}/batch-plans/", "other_clinic", {}),
    *methods("staff", API + "/staff/clinics/{clinic}/batch-plans/", "GET PUT"),
    *ignored_bodies("staff", "POST", API + "/staff/absences/{absence}/replan/", (422,)),
    *path_ids("staff", "POST", API + "/staff/absences/{id}/replan/", other="other_absence"),
    *methods("staff", API + "/staff/absences/{absence}/replan/", "GET PUT"),
    *queries("staff", API + "/staff/plans/", PLAN_QUERIES),
    *methods("staff", API + "/staff/plans/", "POST DELETE"),
    *path_ids("staff", "GET", API + "/staff/plans/{id}/", other="other_plan"),
    *methods("staff", API + "/staff/plans/{plan}/", "POST DELETE"),
    *path_ids("staff", "POST", API + "/staff/plans/{id}/apply/", other="other_plan"),
    *ignored_bodies("staff", "POST", API + "/staff/plans/{plan}/apply/", (200,)),
    *methods("staff", API + "/staff/plans/{plan}/apply/", "GET PUT"),
    *path_ids("staff", "POST", API + "/staff/plans/{id}/discard/", other="other_plan"),
    *ignored_bodies("staff", "POST", API + "/staff/plans/{plan}/discard/", (200,)),
    *methods("staff", API + "/staff/plans/{plan}/discard/", "GET PUT"),
    # the leaders' statistics: a secretary may not; a leader's bad input is a 400 by field
    Case("a secretary", "staff", "GET", STATISTICS, expect=FORBIDDEN),
    *methods("staff", STATISTICS, "POST DELETE", expect=FORBIDDEN),
    *queries("leader", STATISTICS, STATISTICS_QUERIES),
    *methods("leader", STATISTICS, "POST DELETE"),
    # configuration: clinics
    *queries("staff", API + "/staff/clinics/", PAGINATION),
    *methods("staff", API + "/staff/clinics/", "POST DELETE"),
    *path_ids("staff", "GET", API + "/staff/clinics/{id}/", other="other_clinic"),
    *path_ids("staff", "PATCH", API + "/staff/clinics/{id}/", "other_clinic", CLINIC),
    *body_shapes("staff", "PUT", API + "/staff/clinics/{clinic}/"),
    *field_cases(
        "staff",
        "PUT",
        API + "/staff/clinics/{clinic}/",
        CLINIC,
        {
            "name": [*TEXTS, Bad("empty", ""), Bad("null", None)],
            "address": TEXTS[:5],
            "time_zone": [
                *CHOICES,
                Bad("Mars", "Mars/Olympus_Mons"),
                Bad("a path", "../../etc/passwd"),
                Bad("NUL", "Europe/Oslo\x00"),
            ],
        },
        required=("name",),
    ),
    *methods("staff", API + "/staff/clinics/{clinic}/", "POST DELETE"),
    # configuration: resources
    *queries("staff", API + "/staff/resources/", PAGINATION),
    *body_shapes("staff", "POST", API + "/staff/resources/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/resources/",
        RESOURCE,
        {
            "clinic": foreign_key("clinic", "other_clinic"),
            "kind": CHOICES,
            "name": [*TEXTS, Bad("empty", ""), Bad("null", None)],
            "tags": [
                Bad("a string", "endoscopist"),
                Bad("an object", {"a": 1}),
                Bad("a number", 5),
                Bad("list of numbers", [1, 2]),
                Bad("list with null", [None]),
                Bad("nested list", [["a"]]),
                Bad("empty tag", [""]),
                Bad("tag of 10,000 chars", [LONG]),
                Bad("21 tags", [f"t{n}" for n in range(21)]),
                Bad("NUL in a tag", ["endo\x00scopist"]),
                Bad("lone surrogate in a tag", ["endo\ud800scopist"]),
            ],
            "is_active": BOOLEANS,
        },
        required=("clinic", "kind", "name"),
    ),
    *methods("staff", API + "/staff/resources/", "PUT DELETE"),
    *path_ids("staff", "GET", API + "/staff/resources/{id}/", other="other_resource"),
    *path_ids("staff", "PATCH", API + "/staff/resources/{id}/", "other_resource", RESOURCE),
    *body_shapes("staff", "PUT", API + "/staff/resources/{resource}/"),
    *field_cases(
        "staff",
        "PATCH",
        API + "/staff/resources/{resource}/",
        {},
        {
            "clinic": [Bad("another clinic", Ref("other_clinic")), Bad("2**63", HUGE)],
            "tags": [Bad("NUL in a tag", ["a\x00"]), Bad("lone surrogate", ["\udfff"])],
        },
    ),
    *methods("staff", API + "/staff/resources/{resource}/", "POST DELETE"),
    # configuration: working hours
    *queries("staff", API + "/staff/working-hours/", PAGINATION),
    *body_shapes("staff", "POST", API + "/staff/working-hours/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/working-hours/",
        HOURS,
        {
            "resource": foreign_key("resource", "other_resource"),
            "weekday": [*NUMBERS, Bad("7", 7), Bad("9", 9)],
            "start_time": [
                Bad("25:00", "25:00"),
                Bad("words", "morning"),
                Bad("number", 800),
                Bad("null", None),
                Bad("after the end", "13:00"),
                Bad("equal to the end", "12:00"),
                Bad("10,000 chars", LONG),
            ],
            "end_time": [Bad("24:00", "24:00"), Bad("before the start", "07:00")],
            "valid_from": DATES,
            "valid_until": [
                Bad("before valid_from", "2026-12-31"),
                Bad("February 30", "2027-02-30"),
                Bad("year 9999", "9999-12-31", ANY_BELOW_500),
            ],
            "interval_weeks": [*NUMBERS, Bad("0", 0), Bad("9", 9)],
        },
        required=("resource", "weekday", "start_time", "end_time", "valid_from"),
    ),
    *path_ids("staff", "GET", API + "/staff/working-hours/{id}/", other="other_hours"),
    *path_ids("staff", "DELETE", API + "/staff/working-hours/{id}/", other="other_hours"),
    *path_ids("staff", "PATCH", API + "/staff/working-hours/{id}/", "other_hours", {}),
    *body_shapes("staff", "PUT", API + "/staff/working-hours/{hours}/"),
    *field_cases(
        "staff",
        "PATCH",
        API + "/staff/working-hours/{hours}/",
        {},
        {
            "start_time": [Bad("after the end", "17:00")],
            "end_time": [Bad("before the start", "07:00")],
            "valid_until": [Bad("before valid_from", "2019-01-01")],
            "weekday": [Bad("null", None), Bad("9", 9)],
            "resource": [Bad("another clinic's", Ref("other_resource"))],
        },
    ),
    *methods("staff", API + "/staff/working-hours/{hours}/", "POST"),
    # configuration: absences
    *queries("staff", API + "/staff/absences/", PAGINATION),
    *body_shapes("staff", "POST", API + "/staff/absences/"),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/absences/",
        ABSENCE,
        {
            "resource": foreign_key("resource", "other_resource"),
            "starts_at": [
                *(b for b in DATETIMES_SHORT if b.label != "year 0001 UTC"),
                Bad("year 0001 UTC", "0001-01-01T00:00:00Z", ANY_BELOW_500),
            ],
            "ends_at": [
                Bad("before the start", "2027-03-01T07:00:00+01:00"),
                Bad("equal to the start", "2027-03-01T08:00:00+01:00"),
                Bad("year 0001 naive", "0001-01-01T00:00:00"),
                Bad("year 9999 naive", "9999-12-31T23:30:00"),
                Bad("naive", "2027-03-01T16:00:00"),
            ],
            "reason": CHOICES,
            "note": TEXTS,
        },
        required=("resource", "starts_at", "ends_at", "reason"),
    ),
    *path_ids("staff", "GET", API + "/staff/absences/{id}/", other="other_absence"),
    *path_ids("staff", "DELETE", API + "/staff/absences/{id}/", other="other_absence"),
    *path_ids("staff", "PATCH", API + "/staff/absences/{id}/", "other_absence", {}),
    *body_shapes("staff", "PUT", API + "/staff/absences/{absence}/"),
    *field_cases(
        "staff",
        "PATCH",
        API + "/staff/absences/{absence}/",
        {},
        {
            "ends_at": [Bad("before the start", "2027-02-05T07:00:00+01:00")],
            "starts_at": [Bad("after the end", "2027-02-06T07:00:00+01:00")],
            "resource": [Bad("another clinic's", Ref("other_resource"))],
        },
    ),
    *methods("staff", API + "/staff/absences/{absence}/", "POST"),
    # configuration: appointment types
    *queries("staff", API + "/staff/appointment-types/", PAGINATION),
    *body_shapes("staff", "POST", API + "/staff/appointment-types/", every=True),
    *field_cases(
        "staff",
        "POST",
        API + "/staff/appointment-types/",
        TYPE,
        TYPE_FIELDS,
        required=("clinic", "name", "duration_minutes", "requirements"),
    ),
    *methods("staff", API + "/staff/appointment-types/", "PUT DELETE"),
    *path_ids("staff", "GET", API + "/staff/appointment-types/{id}/", other="other_type"),
    *path_ids("staff", "PATCH", API + "/staff/appointment-types/{id}/", "other_type", {}),
    *body_shapes("staff", "PUT", API + "/staff/appointment-types/{type}/"),
    *body_shapes("staff", "PATCH", API + "/staff/appointment-types/{type}/"),
    *field_cases(
        "staff",
        "PATCH",
        API + "/staff/appointment-types/{type}/",
        {},
        {
            "clinic": [Bad("another clinic", Ref("other_clinic"))],
            **{
                name: [b for b in bads if b.label in ("2**62", "70000")]
                for name, bads in TYPE_NUMBERS.items()
            },
            **TYPE_CHILDREN,
        },
    ),
    *methods("staff", API + "/staff/appointment-types/{type}/", "POST DELETE"),
    # content negotiation
    Case(
        "Accept: text/csv",
        "staff",
        "GET",
        API + "/staff/clinics/",
        headers={"Accept": "text/csv"},
        expect=NOT_ACCEPTABLE,
    ),
]


def _is_template(path: str) -> bool:
    """A path with world placeholders only, not one of path_ids' odd ids."""
    return "?" not in path and not any(
        part.lstrip("-").isdigit() or part == "abc" for part in path.split("/")
    )


def _cross_role() -> list[Case]:
    """Every endpoint again with the other role's login: a patient on staff endpoints is
    refused; staff have no patient record of their own."""
    staff_paths = sorted(
        {(c.method, c.path.split("?")[0]) for c in STAFF_CASES if c.expect != NOT_ALLOWED}
    )
    cases = [
        Case("a patient", "patient", method, path, {"junk": [1]}, expect=FORBIDDEN)
        for method, path in staff_paths
        if _is_template(path)
    ]
    for method, path in [
        ("POST", API + "/appointments/"),
        ("POST", API + "/appointments/{appointment}/reschedule/"),
        ("POST", API + "/appointments/{appointment}/cancel/"),
        ("PATCH", API + "/preparation-tasks/{prep}/"),
        ("POST", CHOOSE),
    ]:
        cases += [
            Case(f"staff, {label}", "staff", method, path, body, expect=BAD_OR_NOT_FOUND)
            for label, body in CORE_SHAPES[1:4]
        ]
    cases += [
        Case(
            "staff, a valid body", "staff", "POST", API + "/appointments/", BOOK, expect=NOT_FOUND
        ),
        Case(
            "staff, a patient id",
            "staff",
            "POST",
            API + "/appointments/",
            {**BOOK, "patient": Ref("patient")},
            expect=NOT_FOUND,
        ),
        Case("staff", "staff", "GET", SLOTS + "?date_from=2027-01-06", expect=NOT_FOUND),
        Case("staff", "staff", "GET", OFFERS, expect=NOT_FOUND),
        Case("staff", "staff", "GET", API + "/appointments/{appointment}/", expect=NOT_FOUND),
        Case("staff", "staff", "POST", API + "/booking-tasks/{task}/accept/", expect=NOT_FOUND),
        *queries("staff", API + "/preparation-tasks/", PAGINATION[:1]),
        *queries("staff", API + "/appointment-types/", PAGINATION[:1]),
        *queries("staff", API + "/appointments/", UNKNOWN_QUERY),
        *queries("staff", API + "/booking-tasks/", UNKNOWN_QUERY),
        *path_ids("staff", "GET", API + "/booking-tasks/{id}/", other="task"),
        *queries("staff", API + "/auth/csrf/", UNKNOWN_QUERY),
        *queries("staff", API + "/me/", UNKNOWN_QUERY),
        *queries("staff", API + "/patients/", UNKNOWN_QUERY),
        *body_shapes("staff", "POST", API + "/auth/login/")[:4],
        *ignored_bodies("staff", "POST", API + "/auth/logout/", (204,)),
    ]
    return cases


# The SMS gateway's delivery reports carry the shared secret, not a session: every user's
# request with it is the gateway's, and without it is refused.
REPORTS = API + "/notifications/delivery-reports/"
GATEWAY_SECRET = "the-gateways-shared-secret"
GATEWAY = {"X-Delivery-Report-Secret": GATEWAY_SECRET}


@pytest.fixture(autouse=True)
def gateway_secret(settings):
    settings.NOTIFICATIONS_DELIVERY_REPORT_SECRET = GATEWAY_SECRET


def _gateway_cases(user: str) -> list[Case]:
    report = {"reference": "1", "status": "delivered"}
    cases = body_shapes(user, "POST", REPORTS) + field_cases(
        user,
        "POST",
        REPORTS,
        report,
        {"reference": [*TEXTS[:5], Bad("null", None)], "status": CHOICES, "detail": TEXTS[:5]},
        required=("reference", "status"),
    )
    return [
        *(dataclasses.replace(case, headers=GATEWAY) for case in cases),
        Case("without the secret", user, "POST", REPORTS, report, expect=(403,)),
        *methods(user, REPORTS, "GET PUT", expect=(403, 405)),
    ]


GATEWAY_CASES = _gateway_cases("patient") + _gateway_cases("staff")
CROSS_ROLE_CASES = _cross_role()
ALL_CASES = PATIENT_CASES + STAFF_CASES + CROSS_ROLE_CASES + GATEWAY_CASES


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(world: World, case: Case) -> None:
    writes = case.method not in ("GET", "HEAD", "OPTIONS")
    before = snapshot(TRACKED) if writes else None
    response = send(client_for(world, case.user), case, world.ids)
    found = [problem(case, response)]
    # A refused request changes nothing; after a database error the transaction cannot be
    # read any more (the case has failed already).
    refused = writes and response.status_code >= 400 and not database_error(response)
    if refused and snapshot(TRACKED) != before:
        found.append(f"{case.id}: the refused request changed the data")
    if any(found):
        pytest.fail("\n".join(f for f in found if f), pytrace=False)


def _template(path: str) -> str:
    """/api/v1/appointments/{appointment}/cancel/?x=1 -> /api/v1/appointments/{id}/cancel/"""
    return "/".join(
        "{id}" if part.startswith("{") or part.lstrip("-").isdigit() or part == "abc" else part
        for part in path.split("?")[0].split("/")
    )


def test_the_cases_cover_every_operation_of_the_schema() -> None:
    covered = {(user, c.method, _template(c.path)) for c in ALL_CASES for user in [c.user]}
    missing = [
        (user, method, path)
        for method, path in schema_operations()
        for user in ("patient", "staff")
        if (user, method, path) not in covered
    ]
    assert missing == []


# --- Accepted input must not break what comes after --------------------------------------------


@dataclass(frozen=True)
class Chain:
    """A staff change (`first`, accepted or refused), then requests by patients and staff that
    must all answer below 500. "{created}" in a later path is the id of what `first` created.
    With `background` the jobs a request leaves for after its commit run, as the in-process
    Celery of a development setup runs them."""

    label: str
    first: Case
    then: tuple[Case, ...]
    background: bool = False


PATIENT_READS = (
    Case("slots", "patient", "GET", SLOTS + "?date_from=2027-01-05&date_to=2027-01-18"),
    Case("appointments", "patient", "GET", API + "/appointments/"),
    Case("appointment", "patient", "GET", API + "/appointments/{appointment}/"),
    Case("preparations", "patient", "GET", API + "/preparation-tasks/"),
    Case("offers", "patient", "GET", OFFERS + "?count=2"),
    Case("book", "patient", "POST", API + "/appointments/", BOOK),
    Case(
        "reschedule",
        "patient",
        "POST",
        API + "/appointments/{appointment}/reschedule/",
        {"starts_at": THU_10},
    ),
)
STAFF_READS = (
    Case("types", "staff", "GET", API + "/staff/appointment-types/"),
    Case("resources", "staff", "GET", API + "/staff/resources/"),
    Case("booking tasks", "staff", "GET", API + "/staff/booking-tasks/"),
    Case("the task's offers", "staff", "GET", API + "/staff/booking-tasks/{created}/offers/"),
    Case(
        "attendance", "staff", "GET", API + "/staff/appointments/?clinic={clinic}&date=9999-12-30"
    ),
)


def _type_patch(field_name: str, value: int) -> Case:
    return Case(
        f"{field_name} {value}",
        "staff",
        "PATCH",
        API + "/staff/appointment-types/{type}/",
        {field_name: value},
        expect=BAD,
    )


def _new_task(**dates: str) -> Case:
    label = ", ".join(f"{k} {v}" for k, v in dates.items())
    return Case(label, "staff", "POST", API + "/staff/booking-tasks/", {**TASK, **dates})


CHAINS = [
    # PositiveSmallIntegerField: PostgreSQL's smallint stops at 32767, SQLite does not.
    Chain("min_notice_hours 2**62", _type_patch("min_notice_hours", 2**62), PATIENT_READS),
    Chain("change_cutoff_hours 2**62", _type_patch("change_cutoff_hours", 2**62), PATIENT_READS),
    Chain("buffer_after_minutes 70000", _type_patch("buffer_after_minutes", 70_000), PATIENT_READS),
    Chain(
        "requirements without a kind",
        Case(
            "requirements [{}]",
            "staff",
            "PATCH",
            API + "/staff/appointment-types/{type}/",
            {"requirements": [{}]},
            expect=BAD,
        ),
        PATIENT_READS,
    ),
    Chain(
        "11 requirements",
        Case(
            "11 requirements",
            "staff",
            "PATCH",
            API + "/staff/appointment-types/{type}/",
            {"requirements": [{"kind": "clinician"}] * 11},
            expect=BAD,
        ),
        PATIENT_READS[:1] + PATIENT_READS[4:6],
    ),
    Chain(
        "a task whose last day is in year 9999",
        _new_task(latest_date="9999-12-31"),
        PATIENT_READS[4:5] + STAFF_READS[2:4],
    ),
    Chain(
        "a task whose deadline is in year 9999",
        _new_task(deadline="9999-12-31"),
        PATIENT_READS[4:5] + STAFF_READS[2:4],
    ),
    Chain(
        "a task from year 0001",
        _new_task(earliest_date="0001-01-01", deadline="0001-01-01"),
        PATIENT_READS[4:5] + STAFF_READS[2:4],
    ),
    Chain(
        "a batch plan over a task whose last day is in year 9999",
        _new_task(latest_date="9999-12-31"),
        (
            Case(
                "batch plan",
                "staff",
                "POST",
                API + "/staff/clinics/{clinic}/batch-plans/",
                {"task_ids": [Ref("created")]},
            ),
            Case("plans", "staff", "GET", API + "/staff/plans/"),
        ),
        background=True,
    ),
    Chain(
        "working hours from year 0001 to 9999",
        Case(
            "hours",
            "staff",
            "POST",
            API + "/staff/working-hours/",
            {**HOURS, "weekday": 2, "valid_from": "0001-01-01", "valid_until": "9999-12-31"},
        ),
        PATIENT_READS[:1] + PATIENT_READS[4:6],
    ),
    Chain(
        "an absence from year 0001 to 9999",
        Case(
            "absence",
            "staff",
            "POST",
            API + "/staff/absences/",
            {**ABSENCE, "starts_at": "0001-01-01T00:00:00Z", "ends_at": "9999-12-30T00:00:00Z"},
        ),
        (
            *PATIENT_READS[:1],
            Case("re-plan", "staff", "POST", API + "/staff/absences/{created}/replan/"),
            Case("absences", "staff", "GET", API + "/staff/absences/"),
        ),
        background=True,
    ),
    Chain(
        "an appointment on 30 December 9999 booked by staff",
        Case(
            "book",
            "staff",
            "POST",
            API + "/staff/appointments/",
            {**STAFF_BOOK, "starts_at": "9999-12-30T10:00:00+01:00"},
        ),
        (*PATIENT_READS[1:4], STAFF_READS[4]),
    ),
    Chain(
        "a lone surrogate in a resource tag",
        Case(
            "tags",
            "staff",
            "PATCH",
            API + "/staff/resources/{resource}/",
            {"tags": ["endo\ud800"]},
            expect=BAD,
        ),
        (PATIENT_READS[0], STAFF_READS[1]),
    ),
]


@pytest.mark.parametrize("chain", CHAINS, ids=[c.label for c in CHAINS])
def test_accepted_input_does_not_break_later_requests(
    world: World, chain: Chain, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """Every step runs (in its own savepoint, so that one step's database error does not
    hide the next); the failures of all steps are reported together."""
    failures: list[str] = []
    ids = {**world.ids, "created": world.ids["missing"]}
    for step, case in enumerate((chain.first, *chain.then)):
        try:
            with (
                transaction.atomic(),
                django_capture_on_commit_callbacks(execute=chain.background),
            ):
                response = send(client_for(world, case.user), case, ids)
                # Without ATOMIC_REQUESTS what a failed request wrote stays written, as here;
                # only a database error, which would spoil the test's transaction, is undone.
                if database_error(response):
                    transaction.set_rollback(True)
        except Exception as exc:  # a background job's error, raised after the answer
            failures.append(
                f"{case.id}: background job: {type(exc).__name__}: {exc} at {where(exc)}"
            )
            continue
        found = problem(case, response)
        if found:
            failures.append(found)
        if step == 0 and response.status_code < 300:
            ids["created"] = json.loads(response.content).get("id", ids["created"])
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
