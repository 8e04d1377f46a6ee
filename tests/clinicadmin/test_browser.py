"""The admin's configuration pages in a real headless Chromium (Debian's, as the patient
pages' browser tests drive it), in bokmål at a desktop's width: a secretary logs in and opens
an appointment type and a resource. Screenshots of both go to docs/screenshots/ for the README.
"""

import pytest
from playwright.sync_api import Browser, ViewportSize

from access.roles import StaffRole
from booking.models import Absence, ContactMode, PreparationTemplate, ResourceKind
from tests import factories
from tests.browser import PASSWORD
from tests.conftest import oslo
from tests.portal.test_browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP: ViewportSize = {"width": 1280, "height": 900}


def test_a_secretary_opens_a_type_and_a_resource(chromium: Browser, live_server):
    clinic = factories.ClinicFactory.create(name="Medisinsk poliklinikk", phone="+4755000000")
    endoscopist = factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["endoskopør"])
    endoscopist.name = "Dr. Hansen"
    endoscopist.save()
    factories.weekday_resource(clinic, ResourceKind.ROOM, ["endoskopi"])
    Absence.objects.create(
        resource=endoscopist,
        starts_at=oslo(2030, 3, 4, 8),
        ends_at=oslo(2030, 3, 8, 16),
        reason="course",
        note="Endoskopikurs i Bergen",
    )
    colonoscopy = factories.AppointmentTypeFactory.create(
        clinic=clinic,
        name="Koloskopi",
        location="Sentralsjukehuset, 5. etasje, medisinsk poliklinikk",
        contact_mode=ContactMode.IN_PERSON,
        duration_minutes=60,
        buffer_after_minutes=15,
    )
    factories.requirement(colonoscopy, ResourceKind.CLINICIAN, "endoskopør")
    factories.requirement(colonoscopy, ResourceKind.ROOM, "endoskopi")
    for title, timing, days in (
        ("Svar på MRSA-skjemaet", "deadline", 14),
        ("Tøm tarmen", "start", 7),
        ("Fyll ut medisinlisten", "deadline", 5),
    ):
        PreparationTemplate.objects.create(
            appointment_type=colonoscopy, title=title, timing=timing, days_before=days
        )
    user = factories.StaffFactory.create(
        clinic=clinic, role=StaffRole.SECRETARY, user__username="sekretaer", user__first_name="Siri"
    ).user

    page = chromium.new_context(viewport=DESKTOP, locale="nb").new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/booking/appointmenttype/{colonoscopy.pk}/change/")
    assert page.locator("#id_name").input_value() == "Koloskopi"
    assert page.locator("html").get_attribute("lang") == "nb"
    screenshot(page, "admin-appointment-type")

    page.goto(f"{live_server.url}/admin/booking/resource/{endoscopist.pk}/change/")
    assert page.locator("#id_tags").input_value() == "endoskopør"
    assert (
        page.get_by_text("Endoskopikurs i Bergen").count()
        or page.locator("input[value='Endoskopikurs i Bergen']").count()
    )
    screenshot(page, "admin-resource")
