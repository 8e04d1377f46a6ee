"""The leaders' dashboard in a real headless Chromium (Debian's, driven by Playwright through
`executable_path`), as tests/portal/test_browser.py drives the patient pages: a leader logs in
and lands on the statistics; axe-core checks the dashboard in bokmål and English at 375 px and
at 1280 px wide, with figures and with a period that has none.

The pages are served by pytest-django's live server on its own database, on the real clock: the
history is made by the booking services at moments in the past months (the clock moved there
while each is made), so the default period of twelve months holds it. Screenshots are written
to docs/screenshots/ for the README.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from playwright.sync_api import Browser, Page, ViewportSize

from access.roles import StaffRole
from booking.models import EventCause, ResourceKind
from booking.services import (
    SYSTEM,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    patient_actor,
    staff_actor,
)
from tests import factories
from tests.browser import DESKTOP, PASSWORD, PHONE, SCREENSHOTS
from tests.conftest import AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OSLO = ZoneInfo("Europe/Oslo")


def weekdays_from(day: date, count: int) -> list[date]:
    found: list[date] = []
    while len(found) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            found.append(day)
    return found


def month_of_history(control: Any, secretary: Any, month_start: date, size: int) -> None:
    """`size` appointments in the month, booked at its start: some online, some by the clinic;
    some moved by the patient or the clinic, some cancelled."""
    with time_machine.travel(datetime.combine(month_start, time(7), tzinfo=OSLO), tick=False):
        days = weekdays_from(month_start, size)
        for i, day in enumerate(days):
            patient = factories.PatientFactory.create()
            assert patient.user is not None
            online = patient_actor(user=patient.user, patient=patient)
            actor = online if i % 3 else staff_actor(secretary)
            when = datetime.combine(day, time(9 + i % 6), tzinfo=OSLO)
            appointment = appointment_book(
                patient=patient, appointment_type=control, starts_at=when, actor=actor
            )
            next_day = datetime.combine(weekdays_from(day, 1)[0], when.time(), tzinfo=OSLO)
            later = when + timedelta(days=7) if day.day < 20 else next_day
            if i % 5 == 1:
                appointment_reschedule(appointment=appointment, starts_at=later, actor=online)
            elif i % 7 == 2:
                appointment_reschedule(
                    appointment=appointment,
                    starts_at=later,
                    actor=SYSTEM,
                    cause=EventCause.CLINIC_REPLANNING,
                )
            elif i % 6 == 3:
                appointment_cancel(appointment=appointment, actor=online)
            elif i % 9 == 4:
                appointment_cancel(
                    appointment=appointment,
                    actor=staff_actor(secretary),
                    cause=EventCause.CLINIC_CANCELLATION,
                )


@pytest.fixture
def site(live_server) -> dict[str, Any]:
    clinic = factories.ClinicFactory.create(name="Medisinsk poliklinikk")
    for kind in (ResourceKind.CLINICIAN, ResourceKind.ROOM):
        factories.weekday_resource(clinic, kind)
    control = factories.AppointmentTypeFactory.create(
        clinic=clinic, name="Kontroll", min_notice_hours=0, booking_horizon_days=120
    )
    factories.requirement(control, ResourceKind.CLINICIAN)
    factories.requirement(control, ResourceKind.ROOM)
    secretary = factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user
    leader = factories.StaffFactory.create(
        clinic=clinic,
        role=StaffRole.LEADER,
        user__first_name="Lise",
        user__last_name="Leder",
    ).user
    this_month = timezone.localdate().replace(day=1)
    for months_back, size in ((5, 8), (4, 12), (3, 10), (2, 14), (1, 11)):
        month_of_history(control, secretary, this_month - relativedelta(months=months_back), size)
    return {"url": live_server.url, "leader": leader}


def logged_in(
    chromium: Browser, site: dict[str, Any], viewport: ViewportSize, language: str
) -> Page:
    context = chromium.new_context(viewport=viewport, locale=language)
    page = context.new_page()
    page.goto(site["url"] + "/logg-inn/")
    page.fill("#id_username", site["leader"].username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(site["url"] + "/statistikk/")
    return page


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def serious_problems(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',
                'wcag21aa', 'best-practice']});
            return {passes: r.passes.length, serious: r.violations
                .filter(v => ['serious', 'critical'].includes(v.impact))
                .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))};
        }"""
    )
    assert result["passes"] > 10, "axe-core did not run its checks"
    return list(result["serious"])


def test_a_leader_logs_in_and_sees_the_statistics(chromium, site):
    for viewport, name in ((PHONE, "statistics"), (DESKTOP, "statistics-wide")):
        page = logged_in(chromium, site, viewport, "nb")
        assert page.locator("svg.chart[role=img]").count() == 3
        page.click("details.definition summary >> nth=0")
        screenshot(page, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.context.close()


PAGES = [
    "/statistikk/",
    "/statistikk/?inndeling=week",
    "/statistikk/?fra=2000-01-01&til=2000-01-31",  # no appointments
    "/statistikk/?fra=junk",  # the error summary
]


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375px", "1280px"])
def test_the_dashboard_has_no_serious_accessibility_problems(
    chromium, site, language, viewport, capsys
):
    page = logged_in(chromium, site, viewport, language)
    page.select_option("#language-choice", language)
    page.click("form.language button")
    problems = {}
    for path in PAGES:
        page.goto(site["url"] + path)
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("h1").count() == 1, path
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        found = serious_problems(page)
        problems[path] = found
        with capsys.disabled():
            print(
                f"axe [{language} {viewport['width']}px] {path}: {len(found)} serious or critical"
            )
    assert {path: found for path, found in problems.items() if found} == {}
