"""Shared fixtures. The test clock is Monday 2027-01-04 07:00 in Oslo unless a test moves it."""

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from booking.models import ResourceKind
from tests import factories

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2027, 1, 4, 7, 0, tzinfo=OSLO)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def headless_chromium() -> str | None:
    """Debian's headless Chromium, which the browser tests drive (Playwright downloads none)."""
    return shutil.which("chromium-headless-shell") or shutil.which("chromium")


def _browser_missing() -> str:
    if headless_chromium() is None:
        return "no headless Chromium (Debian's chromium-headless-shell)"
    if not AXE.exists():
        return "no axe-core (npm ci)"
    return ""


def pytest_report_header(config: pytest.Config) -> str | None:
    missing = _browser_missing()
    return f"Browser tests left out: {missing}." if missing else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Real-server tests run when DATABASE_URL points at PostgreSQL. A newcomer on SQLite does
    not have one, so there they are left out (and said so); in CI, REQUIRE_REAL_SERVICES=1 makes
    a missing server an error instead. The browser tests likewise need a headless Chromium and
    axe-core."""
    if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
        missing = [
            name
            for name, present in (
                ("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql"),
                ("Redis (REDIS_URL)", bool(os.environ.get("REDIS_URL"))),
                ("a headless Chromium and axe-core", not _browser_missing()),
            )
            if not present
        ]
        if missing:
            raise pytest.UsageError(f"REQUIRE_REAL_SERVICES=1 but missing: {', '.join(missing)}")
        return
    absent: set[str] = set()
    if connection.vendor != "postgresql":
        absent.add("postgres")
    if not os.environ.get("REDIS_URL"):
        absent.add("redis")
    if _browser_missing():
        absent.add("browser")
    selected = [item for item in items if not absent & set(item.keywords)]
    deselected = [item for item in items if absent & set(item.keywords)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def celery_in_process(request: pytest.FixtureRequest):
    """Tasks run in the test's own process, except in tests marked `redis`, which send them to a
    real worker through Redis."""
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = "redis" not in request.keywords
    yield
    app.conf.task_always_eager = eager


@pytest.fixture(autouse=True)
def no_kept_appointment_types():
    """Each test starts with no appointment types kept from another test's database rows."""
    from booking.rows import forget_kept_types

    forget_kept_types()
    yield
    forget_kept_types()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic():
    return factories.ClinicFactory.create(name="Medisinsk poliklinikk")


@pytest.fixture
def clinician(clinic):
    return factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["endoscopist"])


@pytest.fixture
def room(clinic):
    return factories.weekday_resource(clinic, ResourceKind.ROOM, ["consultation"])


@pytest.fixture
def control_type(clinic, clinician, room):
    """Kontroll, 30 minutes on a 15-minute grid, needing one clinician and one room."""
    appointment_type = factories.AppointmentTypeFactory.create(clinic=clinic)
    factories.requirement(appointment_type, ResourceKind.CLINICIAN)
    factories.requirement(appointment_type, ResourceKind.ROOM)
    return appointment_type


@pytest.fixture
def patient():
    return factories.PatientFactory.create()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (no browser download), one per module."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS

    # Playwright's sync API keeps an event loop in this thread, and Django refuses database
    # work next to a running loop unless told it is safe (it is: the loop never runs Django).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=headless_chromium(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
