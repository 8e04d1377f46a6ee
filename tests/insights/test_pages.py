"""The leaders' dashboard, its CSV export and the statistics API, through Django's test client,
on a history made by the booking and planning services (the test clock: Monday 4 January 2027).

Clinic A, January 2027: five appointments. Kari booked hers online and moved it herself; one
the system booked, the clinic cancelled; one the secretary booked on the phone; Ola booked his
online and cancelled it in good time; Siri chose hers from the first times offered for her
referral. Clinic B has one appointment, moved by the clinic, which no leader of A may count."""

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

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
from insights import figures
from planning import services as planning_services
from tests import factories
from tests.conftest import oslo
from tests.planning.conftest import make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

JANUARY = {"fra": "2027-01-01", "til": "2027-01-31"}
API_JANUARY = {"from": "2027-01-01", "to": "2027-01-31"}


@pytest.fixture
def world(clinic, control_type):
    secretary = factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user
    kari, ola, siri = (
        factories.PatientFactory.create(given_name=n) for n in ["Kari", "Ola", "Siri"]
    )

    def online(patient):
        return patient_actor(user=patient.user, patient=patient)

    def book(patient, when, actor):
        return appointment_book(
            patient=patient, appointment_type=control_type, starts_at=when, actor=actor
        )

    moved = book(kari, oslo(2027, 1, 13, 10), online(kari))
    appointment_reschedule(appointment=moved, starts_at=oslo(2027, 1, 14, 10), actor=online(kari))
    cancelled = book(factories.PatientFactory.create(), oslo(2027, 1, 13, 11), SYSTEM)
    appointment_cancel(
        appointment=cancelled,
        actor=staff_actor(secretary),
        cause=EventCause.CLINIC_CANCELLATION,
    )
    book(factories.PatientFactory.create(), oslo(2027, 1, 20, 10), staff_actor(secretary))
    own_cancel = book(ola, oslo(2027, 1, 21, 10), online(ola))
    appointment_cancel(appointment=own_cancel, actor=online(ola))
    referral = siri.referrals.create(
        clinic=clinic, received_on=date(2026, 12, 1), care_deadline=date(2027, 1, 8)
    )
    task = make_task(control_type, patient=siri, latest_date=date(2027, 1, 15))
    task.referral = referral
    task.save(update_fields=["referral"])
    first = planning_services.booking_task_offers(task=task, count=1).offers[0]
    planning_services.booking_task_choose(task=task, starts_at=first.starts_at, actor=online(siri))

    other = factories.ClinicFactory.create(name="Kirurgisk poliklinikk")
    other_clinician = factories.weekday_resource(other, ResourceKind.CLINICIAN)
    other_type = factories.AppointmentTypeFactory.create(clinic=other, name="Operasjon")
    factories.requirement(other_type, ResourceKind.CLINICIAN)
    theirs = appointment_book(
        patient=factories.PatientFactory.create(),
        appointment_type=other_type,
        starts_at=oslo(2027, 1, 13, 10),
        actor=SYSTEM,
    )
    appointment_reschedule(
        appointment=theirs,
        starts_at=oslo(2027, 1, 15, 10),
        actor=SYSTEM,
        cause=EventCause.CLINIC_REPLANNING,
    )
    return {
        "clinic": clinic,
        "type": control_type,
        "secretary": secretary,
        "patient": kari,
        "other": other,
        "other_type": other_type,
        "other_clinician": other_clinician,
    }


@pytest.fixture
def leader(clinic):
    return factories.StaffFactory.create(clinic=clinic, role=StaffRole.LEADER).user


def client_for(user, language="en"):
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


@pytest.fixture
def as_leader(world, leader):
    return client_for(leader)


def text(response):
    return response.content.decode()


def page_cells(html):
    """(figure, bucket) -> every text the page shows for it (a figure may be in two tables)."""
    found: dict[tuple[str, str], list[str]] = {}
    pattern = r'<td data-figure="([^"]*)" data-bucket="([^"]*)">(.*?)</td>'
    for key, bucket, inner in re.findall(pattern, html, re.S):
        shown = " ".join(unescape(re.sub(r"<[^>]+>", " ", inner)).split())
        found.setdefault((key, bucket), []).append(shown)
    return found


def csv_table(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


# --- Who may see it ---------------------------------------------------------------------------


def test_a_leader_sees_the_figures_of_their_clinic(as_leader):
    response = as_leader.get("/statistikk/", JANUARY)

    assert response.status_code == 200
    page = text(response)
    assert "<h1>Re-planning statistics</h1>" in page
    assert page.count('role="img"') == 3
    assert "<title id=" in page
    assert "<desc id=" in page
    assert 'scope="col"' in page
    assert 'scope="row"' in page
    assert "<caption" in page
    cells = page_cells(page)
    assert cells["appointments", ""] == ["5"]  # clinic B's appointment is not counted
    assert cells["replanned_share", ""][0] == "60.0% 3 of 5"
    assert cells["booked_by_patient", ""] == ["60.0% 3 of 5"]
    assert cells["replannings_patient_change", "2027-01-01"] == ["1"]
    assert cells["replannings_clinic_cancellation", ""] == ["1"]
    assert cells["replannings_patient_cancellation", ""] == ["1"]
    assert cells["replannings_clinic_replanning", ""] == ["0"]
    assert cells["offers_first", ""] == ["100.0% 1 of 1"]
    assert "Download CSV" in page
    assert 'href="/statistikk/eksport.csv?' in page


def test_without_a_query_the_page_shows_twelve_months_up_to_today(as_leader):
    response = as_leader.get("/statistikk/")

    assert response.status_code == 200
    page = text(response)
    assert 'value="2026-02-01"' in page
    assert 'value="2027-01-04"' in page
    assert "January 2027" in page
    assert "February 2026" in page


def test_a_leader_logging_in_goes_on_to_the_statistics(world, leader):
    client = client_for(leader)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/statistikk/"
    page = text(client.get("/statistikk/"))
    assert 'href="/statistikk/" aria-current="page">Statistics</a>' in page
    assert "My appointments" not in page  # a leader with no patient record has none


def test_a_secretary_still_gets_the_page_saying_these_pages_are_not_theirs(world):
    response = client_for(world["secretary"]).get("/")
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["secretary", "clinician", "patient"])
@pytest.mark.parametrize("url", ["/statistikk/", "/statistikk/eksport.csv", "/api/v1/statistics/"])
def test_no_one_but_a_leader_may_see_the_statistics(world, who, url):
    if who == "clinician":
        user = factories.StaffFactory.create(clinic=world["clinic"], role=StaffRole.CLINICIAN).user
    else:
        user = world["secretary"] if who == "secretary" else world["patient"].user
    response = client_for(user).get(url)
    assert response.status_code == 403
    if not url.startswith("/api/"):
        assert "You cannot do this here" in text(response)


@pytest.mark.parametrize("url", ["/statistikk/", "/statistikk/eksport.csv"])
def test_the_anonymous_are_sent_to_log_in(world, client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/logg-inn/")


def test_the_api_refuses_the_anonymous(world, client):
    assert client.get("/api/v1/statistics/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("page_filter", "api_filter", "target"),
    [
        ("klinikk", "clinic", "other"),
        ("timetype", "appointment_type", "other_type"),
        ("behandler", "clinician", "other_clinician"),
    ],
)
def test_another_clinics_clinic_type_or_clinician_is_not_found(
    world, as_leader, page_filter, api_filter, target
):
    pk = world[target].pk
    page = as_leader.get("/statistikk/", {**JANUARY, page_filter: pk})
    export = as_leader.get("/statistikk/eksport.csv", {**JANUARY, page_filter: pk})
    api = as_leader.get("/api/v1/statistics/", {**API_JANUARY, api_filter: pk})
    assert (page.status_code, export.status_code, api.status_code) == (404, 404, 404)
    assert "We cannot find this page" in text(page)
    assert "Kirurgisk" not in text(page)


def test_filters_narrow_to_one_clinic_type_and_clinician(world, as_leader):
    clinician = world["clinic"].resources.filter(kind=ResourceKind.CLINICIAN).get()
    query = {
        **JANUARY,
        "klinikk": world["clinic"].pk,
        "timetype": world["type"].pk,
        "behandler": clinician.pk,
    }
    response = as_leader.get("/statistikk/", query)
    assert response.status_code == 200
    assert page_cells(text(response))["appointments", ""] == ["5"]


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"fra": "2027-02-30"}, "Enter a date as year-month-day, for example 2026-12-03."),
        ({"til": "tomorrow"}, "Enter a date as year-month-day"),
        ({"fra": "0001-01-01"}, "Choose a date between 2000-01-01 and 2199-12-31."),
        ({"fra": "2027-02-01"}, "The period must end on or after the day it starts."),
        ({"fra": "2025-01-01"}, "Choose a period of at most 400 days."),
        ({"inndeling": "day"}, "Choose weeks or months for a period longer than 92 days"),
        ({"inndeling": "year"}, "Choose day, week or month."),
        ({"klinikk": "abc"}, "Choose one from the list."),
        ({"klinikk": str(2**70)}, "Choose one from the list."),
        ({"behandler": "-1"}, "Choose one from the list."),
    ],
)
def test_bad_input_is_said_on_the_page(as_leader, query, message):
    base = {"fra": "2026-06-01", "til": "2027-01-31"}
    for url in ("/statistikk/", "/statistikk/eksport.csv"):
        response = as_leader.get(url, {**base, **query})
        assert response.status_code == 400
        page = text(response)
        assert "There is a problem" in page
        assert message in unescape(page)


def test_a_day_at_a_time_is_fine_for_a_month(as_leader):
    response = as_leader.get("/statistikk/", {**JANUARY, "inndeling": "day"})
    assert response.status_code == 200
    assert "13 Jan 2027" in text(response)


def test_weeks_are_named_by_their_iso_number(as_leader):
    response = as_leader.get("/statistikk/", {**JANUARY, "inndeling": "week"})
    assert response.status_code == 200
    assert "week 53 2026" in text(response)  # Monday 28 December 2026 starts the first
    assert "week 2 2027" in text(response)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2027-02-30"}, "from"),
        ({"from": "2027-02-01", "to": "2027-01-01"}, "to"),
        ({"from": "2025-01-01", "to": "2027-01-01"}, "to"),
        ({"resolution": "day"}, "resolution"),
        ({"resolution": "year"}, "resolution"),
        ({"clinic": "abc"}, "clinic"),
    ],
)
def test_bad_input_to_the_api_is_a_400_by_field(as_leader, query, field):
    response = as_leader.get("/api/v1/statistics/", {"from": "2026-06-01", **query})
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body[field], list)
    assert body[field][0]


# --- The same numbers everywhere --------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["day", "week", "month"])
def test_the_page_the_csv_and_the_api_agree_on_every_figure(as_leader, resolution):
    page = page_cells(text(as_leader.get("/statistikk/", {**JANUARY, "inndeling": resolution})))
    export = as_leader.get("/statistikk/eksport.csv", {**JANUARY, "inndeling": resolution})
    api = as_leader.get("/api/v1/statistics/", {**API_JANUARY, "resolution": resolution}).json()

    assert export["Content-Disposition"].startswith("attachment; filename=")
    rows = {(r["figure"], r["bucket_start"]): r for r in csv_table(export)}
    assert set(rows) == set(page)
    by_key = {f["key"]: f for f in api["figures"]}
    assert api["period"] == {"from": "2027-01-01", "to": "2027-01-31", "resolution": resolution}
    for (key, bucket), row in rows.items():
        figure = by_key[key]
        cell = figure["total"] if not bucket else figure["by_bucket"][api["buckets"].index(bucket)]
        if bucket:
            assert cell["start"] == bucket
        assert row["label"] == figure["label"]
        if figure["unit"] == "share":
            count, base = int(row["count"]), int(row["base"])
            assert (cell["count"], cell["base"]) == (count, base)
            if base == 0:
                assert row["value"] == ""
                assert cell["value"] is None
                assert set(page[key, bucket]) == {"– nothing to count"}
                continue
            assert row["value"] == f"{count / base:.4f}"
            assert cell["value"] == pytest.approx(count / base)
            assert set(page[key, bucket]) == {f"{100 * count / base:.1f}% {count} of {base}"}
        else:
            assert row["count"] == row["base"] == ""
            shown = row["value"] or "– nothing to count"
            assert set(page[key, bucket]) == {shown}
            assert cell["value"] == (int(row["value"]) if row["value"] else None)


def test_the_api_has_every_figure_of_the_dashboard(as_leader, leader):
    answer = as_leader.get("/api/v1/statistics/", API_JANUARY).json()
    scope = figures.scope_for(leader, first=date(2027, 1, 1), last=date(2027, 1, 31))
    assert [f["key"] for f in answer["figures"]] == [
        f.key for f in figures.dashboard(scope).figures
    ]
    assert answer["buckets"] == ["2027-01-01"]


def test_a_period_with_no_appointments_says_so(as_leader):
    query = {"fra": "2027-06-01", "til": "2027-06-30", "inndeling": "week"}
    response = as_leader.get("/statistikk/", query)

    assert response.status_code == 200
    page = text(response)
    assert "No appointments in this period." in page
    assert page_cells(page)["replanned_share", ""] == ["– nothing to count"] * 2
    rows = csv_table(as_leader.get("/statistikk/eksport.csv", query))
    assert {r["value"] for r in rows if r["figure"] == "replanned_share"} == {""}
    api = as_leader.get(
        "/api/v1/statistics/", {"from": "2027-06-01", "to": "2027-06-30", "resolution": "week"}
    )
    replanned = next(f for f in api.json()["figures"] if f["key"] == "replanned_share")
    assert replanned["total"] == {"value": None, "count": 0, "base": 0}


# --- Languages --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
def test_the_page_speaks_the_users_language(world, leader, language):
    page = text(client_for(leader, language).get("/statistikk/", JANUARY))

    assert f'<html lang="{language}">' in page
    with translation.override(language):
        for words in (
            "Re-planning statistics",
            "Re-plannings by cause",
            "Key figures for the period",
        ):
            assert gettext(words) in page
        for label in figures.CAUSE_LABELS.values():
            assert str(label) in unescape(page)
    month = {"nb": "januar 2027", "nn": "januar 2027", "en": "January 2027"}[language]
    assert month in page
    share = {"nb": "60,0", "nn": "60,0", "en": "60.0%"}[language]
    assert share in page


def test_the_page_in_bokmal_reads_as_bokmal(world, leader):
    page = unescape(text(client_for(leader, "nb").get("/statistikk/", JANUARY)))
    assert "Statistikk for omplanlegging" in page
    assert "60,0\u00a0%" in page  # a no-break space keeps the sign with its number
    assert "januar 2027" in page


def test_the_days_chart_of_a_month_has_a_bar_per_day_and_fits(as_leader):
    page = text(as_leader.get("/statistikk/", {**JANUARY, "inndeling": "day"}))
    causes = page.split('id="chart-causes"')[1].split("</svg>")[0]
    assert causes.count("<rect") == 3  # one re-planning on each of three days
    assert causes.count('text-anchor="middle" fill="#1b1b1b"') < 31  # labels every few days
