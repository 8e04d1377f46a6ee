"""The patient's journeys in a real headless Chromium (Debian's, driven by Playwright through
`executable_path`), at 375 px wide: log in, choose a time, see the receipt, tick a preparation,
change the time, cancel; the same as a parent for a child; a time taken meanwhile; choosing a
time with the keyboard alone. axe-core checks every page in bokmål, nynorsk and English.

The pages are served by pytest-django's live server on its own database; dates are relative to
today, since the server runs on the real clock. Screenshots of the main pages are written to
docs/screenshots/ for the README.
"""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page

from booking.models import ContactMode, PreparationTemplate, ResourceKind
from booking.services import SYSTEM, appointment_book
from patients.models import ProxyKind
from planning import services as planning_services
from tests import factories
from tests.browser import PASSWORD, PHONE, SCREENSHOTS
from tests.conftest import AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_weekday(days_ahead: int) -> date:
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def site(live_server) -> dict[str, Any]:
    clinic = factories.ClinicFactory.create(
        name="Medisinsk poliklinikk", phone="+4755000000", address="Sentralsjukehuset"
    )
    for kind in (ResourceKind.CLINICIAN, ResourceKind.ROOM):
        factories.weekday_resource(clinic, kind)
    control = factories.AppointmentTypeFactory.create(
        clinic=clinic,
        name="Kontroll",
        location="5. etasje",
        contact_mode=ContactMode.IN_PERSON,
        change_cutoff_hours=24,
    )
    factories.requirement(control, ResourceKind.CLINICIAN)
    factories.requirement(control, ResourceKind.ROOM)
    PreparationTemplate.objects.create(
        appointment_type=control, title="Medisinliste", timing="deadline", days_before=2
    )
    kari = factories.PatientFactory.create(
        given_name="Kari",
        family_name="Nordmann",
        user__first_name="Kari",
        user__last_name="Nordmann",
    )
    emil = factories.PatientFactory.create(
        user=None, given_name="Emil", family_name="Nordmann", born=date(2016, 3, 1)
    )
    factories.ProxyFactory.create(holder=kari, subject=emil, kind=ProxyKind.PARENT)
    first, last = next_weekday(2), next_weekday(20)
    tasks = {
        patient.given_name: planning_services.booking_task_create(
            patient=patient,
            appointment_type=control,
            earliest_date=first,
            latest_date=last,
            respond_by=first + timedelta(days=5),
        )
        for patient in (kari, emil)
    }
    return {"url": live_server.url, "kari": kari, "tasks": tasks, "type": control}


def logged_in(chromium: Browser, site: dict[str, Any], language: str = "nb") -> Page:
    context = chromium.new_context(viewport=PHONE, locale=language)
    page = context.new_page()
    page.goto(site["url"] + "/logg-inn/")
    page.fill("#id_username", site["kari"].user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(site["url"] + "/")
    return page


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def choose_first_time(page: Page) -> None:
    page.click("ul.days a >> nth=0")
    page.wait_for_selector("#times-legend")
    page.check("#times input[name=tid] >> nth=0")
    page.click("#times button[type=submit]")
    page.wait_for_url("**/bekreft/**")


def test_a_patient_chooses_ticks_off_changes_and_cancels(chromium, site):
    page = logged_in(chromium, site)
    screenshot(page, "overview")
    fits_the_screen(page)

    page.click(f"a[href='/timeoppgaver/{site['tasks']['Kari'].pk}/']")
    screenshot(page, "choose-a-day")
    choose_first_time(page)
    assert page.locator("h1").inner_text() == "Er dette riktig tid?"
    page.click("main form button[type=submit]")
    page.wait_for_url("**/timer/*/?ny=1")
    assert page.locator("h1").inner_text() == "Timen er bestilt"
    screenshot(page, "receipt")
    fits_the_screen(page)

    page.click("text=Merk «Medisinliste» som gjort")
    page.wait_for_selector("text=Gjort")
    page.goto(site["url"] + "/forberedelser/")
    assert page.locator(".done").count() == 1
    screenshot(page, "preparations")

    page.go_back()
    page.click("text=Endre timen")
    page.click("ul.days a >> nth=1")
    page.wait_for_selector("#times-legend")
    page.check("#times input[name=tid] >> nth=0")
    page.click("#times button[type=submit]")
    page.click("main form button[type=submit]")
    assert "Timen din er flyttet." in page.locator(".messages").inner_text()

    page.click("text=Avbestill timen")
    page.click("main button.danger")
    assert "Timen din er avbestilt." in page.locator(".messages").inner_text()


def test_a_parent_chooses_a_time_for_the_child(chromium, site):
    page = logged_in(chromium, site)
    page.click("text=Handle på vegne av Emil Nordmann")
    assert "Du handler på vegne av Emil Nordmann" in page.locator(".acting").inner_text()
    screenshot(page, "acting-for-a-child")
    page.click(f"a[href='/timeoppgaver/{site['tasks']['Emil'].pk}/']")
    choose_first_time(page)
    page.click("main form button[type=submit]")
    assert page.locator("h1").inner_text() == "Timen er bestilt"
    assert "Emil Nordmann" in page.locator(".acting").inner_text()
    page.click("text=Tilbake til meg selv")
    assert page.locator(".acting").count() == 0


def test_a_time_taken_meanwhile_shows_other_times(chromium, site):
    page = logged_in(chromium, site)
    page.goto(site["url"] + f"/timeoppgaver/{site['tasks']['Kari'].pk}/")
    choose_first_time(page)
    taken = page.locator("input[name=tid]").get_attribute("value")
    appointment_book(
        patient=factories.PatientFactory.create(),
        appointment_type=site["type"],
        starts_at=datetime.fromisoformat(taken or ""),
        actor=SYSTEM,
    )
    page.click("main form button[type=submit]")
    assert (
        "Denne tiden ble akkurat tatt. Her er andre tider."
        in page.locator(".messages").inner_text()
    )
    assert page.locator("ul.days a").count() > 0


def test_choosing_a_time_with_the_keyboard_alone(chromium, site):
    page = logged_in(chromium, site)
    page.goto(site["url"] + f"/timeoppgaver/{site['tasks']['Kari'].pk}/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    day_link = page.locator("ul.days a >> nth=0")
    for _ in range(60):  # tab on until the first day's link has the focus
        if day_link.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#times-legend")
    first_time = page.locator("#times input[name=tid] >> nth=0")
    first_time.focus()
    page.keyboard.press("Space")
    assert first_time.is_checked()
    page.keyboard.press("Tab")  # to the next radio group member is arrows; Tab leaves it
    while not page.evaluate("document.activeElement.type === 'submit'"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bekreft/**")
    page.locator("main form button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/timer/*/?ny=1")
    screenshot(page, "choose-a-time")


PAGES = [
    "/logg-inn/",
    "/",
    "/timeoppgaver/{task}/",
    "/timeoppgaver/{task}/?dag={day}",
    "/timeoppgaver/{task}/bekreft/?tid={time}",
    "/timer/{appointment}/",
    "/timer/{appointment}/endre/",
    "/timer/{appointment}/avbestill/",
    "/timer/{appointment}/tidligere-time/",
    "/forberedelser/",
    "/tilgjengelighet/",
    "/varsler/",
    "/innsyn/",
    "/timer/999999/",
]


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
def test_every_page_has_no_serious_accessibility_problems(chromium, site, language, capsys):
    task = site["tasks"]["Kari"]
    offer = planning_services.booking_task_offers(task=task, count=1).offers[0]
    appointment = appointment_book(
        patient=site["kari"],
        appointment_type=site["type"],
        starts_at=offer.starts_at + timedelta(days=7),
        actor=SYSTEM,
    )
    page = logged_in(chromium, site, language)
    page.goto(site["url"] + "/")
    page.select_option("#language-choice", language)
    page.click("form.language button")
    values = {
        "task": task.pk,
        "day": timezone.localtime(offer.starts_at).date().isoformat(),
        "time": offer.starts_at.isoformat().replace("+", "%2B"),
        "appointment": appointment.pk,
    }
    problems = {}
    for path in PAGES:
        page.goto(site["url"] + path.format(**values))
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("h1").count() == 1, path
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
        found = result["serious"]
        problems[path] = found
        with capsys.disabled():
            print(f"axe [{language}] {path}: {len(found)} serious or critical")
    assert {path: found for path, found in problems.items() if found} == {}
