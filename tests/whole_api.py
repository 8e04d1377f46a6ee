"""What the tests of the whole API share (test_access_matrix, test_api_bad_input): a world of
rows built once per module and rolled back after it, logged-in sessions, the schema's
operations, and a one-line account of a 500."""

import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.http import HttpResponse
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from booking.models import (
    Absence,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentType,
    Clinic,
    IdempotencyRecord,
    PreparationTask,
    PreparationTemplate,
    Resource,
    ResourceRequirement,
    WorkingHours,
)
from patients.models import Patient, Referral
from planning.models import BookingTask, PlanItem, PlanProposal
from tests.conftest import NOW

T = TypeVar("T")
ROOT = str(Path(__file__).resolve().parent.parent) + "/"
# The tables a refused write must leave as they were.
TRACKED: list[type[models.Model]] = [
    Clinic,
    Resource,
    WorkingHours,
    Absence,
    AppointmentType,
    ResourceRequirement,
    PreparationTemplate,
    Appointment,
    Allocation,
    AppointmentEvent,
    PreparationTask,
    IdempotencyRecord,
    Patient,
    Referral,
    BookingTask,
    PlanProposal,
    PlanItem,
]


def rolled_back_world(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """For a module-scoped fixture: `build()` at the suite's clock, inside a transaction that is
    rolled back when the module is done. Each test runs in a savepoint of it (pytest-django's
    own), so a test's writes vanish with it."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        built = build()
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def session_key(user: User) -> str:
    """A logged-in session for the user, to set as a client's cookie."""
    api = APIClient()
    api.force_login(user)
    return api.cookies[settings.SESSION_COOKIE_NAME].value


def schema_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def where(exc: BaseException) -> str:
    """Where the exception was raised, then the deepest frames of the project's own code and
    of Django REST framework that led there."""
    frames = traceback.extract_tb(exc.__traceback__)
    venv = ROOT + ".venv/"

    def own(f: traceback.FrameSummary) -> bool:
        return f.filename.startswith(ROOT) and not f.filename.startswith((venv, ROOT + "tests/"))

    def drf(f: traceback.FrameSummary) -> bool:
        return "/rest_framework/" in f.filename

    mine = [f for f in frames if own(f)][-1:]
    picks = [frames[-1], *(mine or [f for f in frames if drf(f)][-1:])]
    places = [f"{f.filename.removeprefix(venv).removeprefix(ROOT)}:{f.lineno}" for f in picks]
    return " <- ".join(dict.fromkeys(places))


def crash(response: HttpResponse) -> str:
    """The exception behind a 500: its type, message and where it was raised."""
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return repr(response.content[:300])
    exc = exc_info[1]
    message = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {message} at {where(exc)}"


def snapshot(tables: list[type[models.Model]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables (plain SQL: the ORM would cost more than a case)."""
    rows = {}
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            rows[model.__name__] = sorted(cursor.fetchall(), key=lambda row: str(row[0]))
    return rows
