"""The patient pages, rule by rule, through Django's test client (the journeys in a real
browser are in test_browser.py)."""

from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from icalendar import Calendar

from audit.services import record_staff_read
from booking.models import (
    Appointment,
    AppointmentStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistOfferStatus,
)
from booking.services import SYSTEM, appointment_book
from patients.models import AvailabilityWindow, ProxyKind
from planning.models import BookingTask, BookingTaskStatus
from portal.middleware import LAST_SEEN
from tests import factories
from tests.conftest import NOW, oslo
from tests.planning.conftest import make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def text(response):
    return response.content.decode()


# --- Logging in and out --------------------------------------------------------------------


def test_the_front_page_sends_the_anonymous_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/logg-inn/")


def test_a_patient_logs_in_and_the_pages_speak_their_language(patient):
    patient.preferred_language = "nn"
    patient.save()
    client = Client()
    page = client.get("/logg-inn/")
    assert page.status_code == 200
    assert "<h1>Logg inn</h1>" in text(page)

    response = client.post(
        "/logg-inn/", {"username": patient.user.username, "password": "pw-for-tests"}
    )

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nn"
    assert "Timane mine" in text(client.get("/"))


def test_a_wrong_password_is_said_on_the_page(patient):
    response = Client(headers={"Accept-Language": "en"}).post(
        "/logg-inn/", {"username": patient.user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "There is a problem" in text(response)


def test_after_a_while_away_the_next_page_asks_to_log_in_again(browser):
    session = browser.session
    session[LAST_SEEN] = NOW.timestamp() - (settings.PORTAL_IDLE_MINUTES + 1) * 60
    session.save()

    response = browser.get("/")

    assert response["Location"] == "/logg-inn/?utlopt=1"
    login = browser.get(response["Location"])
    assert "You were logged out because you had been away" in text(login)
    assert browser.get("/").status_code == 302  # logged out for real


def test_logging_out(browser):
    assert browser.post("/logg-ut/").status_code == 302
    assert browser.get("/").status_code == 302


# --- The language -------------------------------------------------------------------------


def test_switching_language_is_remembered_in_a_cookie_and_the_patients_profile(browser, patient):
    response = browser.post("/sprak/", {"language": "nn", "next": "/forberedelser/"})

    assert response.status_code == 302
    assert response["Location"] == "/forberedelser/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nn"
    patient.refresh_from_db()
    assert patient.preferred_language == "nn"
    assert "Førebuingar" in text(browser.get("/forberedelser/"))


def test_the_language_switch_never_sends_anyone_elsewhere(browser):
    response = browser.post("/sprak/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert browser.post("/sprak/", {"language": "xx"})["Location"] == "/"


# --- The overview ---------------------------------------------------------------------------


def test_the_overview_shows_appointments_tasks_and_preparations(browser, booked, task):
    page = text(browser.get("/"))
    assert "Wednesday 13 January at 10:00" in page
    assert "Preparations: 0 of 1 done" in page
    assert f"/timeoppgaver/{task.pk}/" in page
    assert "asks you to choose a time before Monday 11 January" in page
    assert "5. etasje" in page


def test_a_time_the_clinic_moved_can_be_kept_or_changed(browser, booked, patient):
    moved = (
        make_task(
            booked.appointment_type,
            patient=patient,
            status=BookingTaskStatus.MOVED,
            appointment=booked,
        )
        if False
        else _moved_task(booked)
    )
    page = text(browser.get("/"))
    assert "The clinic had to move your appointment" in page
    assert browser.post(f"/timeoppgaver/{moved.pk}/behold/").status_code == 302
    moved.refresh_from_db()
    assert moved.status == BookingTaskStatus.CHOSEN


def _moved_task(appointment):
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


def test_staff_get_a_page_saying_these_pages_are_not_theirs(clinic):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(factories.StaffFactory.create(clinic=clinic).user)
    response = client.get("/")
    assert response.status_code == 403
    assert "This login has no patient record" in text(response)


# --- Choosing a time ------------------------------------------------------------------------


def test_choosing_a_time_day_by_day_then_confirming_books_it(browser, task):
    days = browser.get(f"/timeoppgaver/{task.pk}/")
    assert days.status_code == 200
    assert "Suggested times" in text(days)
    assert "Tuesday 5 January" in text(days)
    assert f'href="/timeoppgaver/{task.pk}/?dag=2027-01-05#times"' in text(days)

    times = browser.get(f"/timeoppgaver/{task.pk}/", {"dag": "2027-01-05"})
    page = text(times)
    assert "<legend" in page
    assert "Choose a time on Tuesday 5 January 2027" in page
    assert 'value="2027-01-05T08:00:00+01:00"' in page
    assert "at 08:00, 5. etasje" in page  # the label is the full time and place

    confirm = browser.get(f"/timeoppgaver/{task.pk}/bekreft/", {"tid": "2027-01-05T08:00:00+01:00"})
    assert "Is this the right time?" in text(confirm)
    booked = browser.post(f"/timeoppgaver/{task.pk}/bekreft/", {"tid": "2027-01-05T08:00:00+01:00"})

    appointment = Appointment.objects.get(booking_tasks=task)
    assert booked["Location"] == f"/timer/{appointment.pk}/?ny=1"
    receipt = text(browser.get(booked["Location"]))
    assert "Your appointment is booked" in receipt
    assert "Medisinliste" in receipt
    assert "Do it by Thursday 31 December" in receipt
    assert "Add to my calendar" in receipt


@pytest.mark.parametrize(("source", "after_more_times"), [({"fra": "forslag"}, False), ({}, True)])
def test_the_task_records_whether_the_time_was_a_suggested_one_or_one_found_after(
    browser, task, source, after_more_times
):
    days = text(browser.get(f"/timeoppgaver/{task.pk}/"))
    assert '<input type="hidden" name="fra" value="forslag">' in days
    chosen = {"tid": "2027-01-05T08:00:00+01:00", **source}
    confirm = text(browser.get(f"/timeoppgaver/{task.pk}/bekreft/", chosen))
    assert ('name="fra" value="forslag"' in confirm) is not after_more_times

    browser.post(f"/timeoppgaver/{task.pk}/bekreft/", chosen)

    task.refresh_from_db()
    assert task.chosen_after_more_times is after_more_times


def test_a_time_taken_meanwhile_sends_the_patient_back_to_other_times(browser, task, kind):
    eight = "2027-01-05T08:00:00+01:00"
    appointment_book(
        patient=factories.PatientFactory.create(),
        appointment_type=kind,
        starts_at=datetime.fromisoformat(eight),
        actor=SYSTEM,
    )

    response = browser.post(f"/timeoppgaver/{task.pk}/bekreft/", {"tid": eight}, follow=True)

    assert response.redirect_chain[-1][0] == f"/timeoppgaver/{task.pk}/"
    assert "This time was just taken. Here are other times." in text(response)
    assert "Suggested times" in text(response)


def test_filters_narrow_the_times_and_odd_queries_are_ignored(browser, task):
    tuesdays = text(browser.get(f"/timeoppgaver/{task.pk}/", {"ukedag": "1", "del": "afternoon"}))
    assert "Tuesday 5 January" in tuesdays
    assert "Wednesday 6 January" not in tuesdays
    for odd in (
        {"ukedag": "abc"},
        {"dag": "2027-02-30"},
        {"flere": "999"},
        {"del": "night"},
        {"dag": "x" * 5000},
    ):
        assert browser.get(f"/timeoppgaver/{task.pk}/", odd).status_code == 200, odd
    for bad_time in ("garbage", "2027-01-05T08:00:00", ""):
        response = browser.get(f"/timeoppgaver/{task.pk}/bekreft/", {"tid": bad_time})
        assert response.status_code == 302, bad_time


def test_another_patients_task_is_a_friendly_404(browser, kind):
    stranger_task = make_task(kind)
    response = browser.get(f"/timeoppgaver/{stranger_task.pk}/")
    assert response.status_code == 404
    assert "We cannot find this page" in text(response)
    assert stranger_task.patient.family_name not in text(response)
    assert browser.get("/timer/999999/").status_code == 404


# --- Acting for someone else ----------------------------------------------------------------


@pytest.fixture
def child(patient):
    return factories.ProxyFactory.create(holder=patient, kind=ProxyKind.PARENT)


def test_a_parent_acts_for_the_child_with_a_banner_and_back(browser, child, kind):
    task = make_task(kind, patient=child.subject)
    response = browser.post(f"/for/{child.subject.pk}/", follow=True)
    page = text(response)
    assert f"You are acting for {child.subject.full_name}" in page
    assert f"/timeoppgaver/{task.pk}/" in page
    assert "Back to myself" in page

    back = text(browser.post("/for/meg/", follow=True))
    assert "You are acting for" not in back


def test_an_ended_proxy_ends_the_switch_at_the_next_page(browser, child):
    browser.post(f"/for/{child.subject.pk}/")
    child.revoked_at = NOW - timedelta(minutes=1)
    child.save()

    page = text(browser.get("/"))

    assert "You are acting for" not in page
    assert "The proxy has ended" in page
    assert browser.post(f"/for/{child.subject.pk}/").status_code == 404


def test_a_link_to_the_childs_task_acts_for_the_child(browser, child, kind):
    task = make_task(kind, patient=child.subject)
    page = text(browser.get(f"/timeoppgaver/{task.pk}/"))
    assert f"You are acting for {child.subject.full_name}" in page


# --- One appointment: change, cancel, calendar ----------------------------------------------


def test_changing_the_time(browser, booked):
    picker = text(browser.get(f"/timer/{booked.pk}/endre/", {"dag": "2027-01-14"}))
    assert "Choose a time on Thursday 14 January 2027" in picker
    moved = browser.post(f"/timer/{booked.pk}/endre/bekreft/", {"tid": "2027-01-14T09:00:00+01:00"})
    assert moved.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == oslo(2027, 1, 14, 9)


def test_too_late_to_change_says_why_and_how_to_reach_the_clinic(browser, booked, clock):
    clock.move_to(oslo(2027, 1, 12, 12))  # less than 48 hours before
    for path in (f"/timer/{booked.pk}/endre/", f"/timer/{booked.pk}/avbestill/"):
        page = text(browser.get(path))
        assert "It is too late to change or cancel this appointment online" in page
        assert "+4755000000" in page
    assert browser.post(f"/timer/{booked.pk}/avbestill/").status_code == 200
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED


def test_cancelling(browser, booked):
    assert "Cancel the appointment?" in text(browser.get(f"/timer/{booked.pk}/avbestill/"))
    response = browser.post(f"/timer/{booked.pk}/avbestill/", {"reason": "Frisk igjen"})
    assert response["Location"] == "/"
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED


def test_the_calendar_file_has_the_neutral_name_the_place_and_a_reminder(browser, booked, patient):
    booked.appointment_type.name = "Intern: kreftutredning"
    booked.appointment_type.patient_facing_name = "Samtale"
    booked.appointment_type.save()
    response = browser.get(f"/timer/{booked.pk}/kalender.ics")
    assert response["Content-Type"] == "text/calendar"
    calendar = Calendar.from_ical(response.content)
    event = calendar.walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Samtale – Medisinsk poliklinikk"
    assert str(event["LOCATION"]) == "5. etasje, Sentralsjukehuset"
    assert event.decoded("DTSTART") == oslo(2027, 1, 13, 10)
    assert calendar.walk("VALARM")
    raw = response.content.decode()
    assert "kreft" not in raw
    assert patient.national_id not in raw


# --- The waitlist ------------------------------------------------------------------------


def test_joining_the_waitlist_and_taking_an_earlier_time(browser, booked):
    browser.post(f"/timer/{booked.pk}/tidligere-time/", {"handling": "bli-med"})
    entry = WaitlistEntry.objects.get(appointment=booked)
    offer = WaitlistOffer.objects.create(
        entry=entry, starts_at=oslo(2027, 1, 7, 9), expires_at=NOW + timedelta(hours=12)
    )
    page = text(browser.get(f"/timer/{booked.pk}/tidligere-time/"))
    assert "An earlier time is free: Thursday 7 January at 09:00" in page

    browser.post(f"/timer/{booked.pk}/tidligere-time/", {"handling": "ta-imot", "tilbud": offer.pk})

    booked.refresh_from_db()
    offer.refresh_from_db()
    assert booked.starts_at == oslo(2027, 1, 7, 9)
    assert booked.patient_change_count == 0  # the clinic offered it
    assert offer.status == WaitlistOfferStatus.ACCEPTED


def test_an_earlier_time_someone_took_first_keeps_the_appointment(browser, booked, kind):
    entry = WaitlistEntry.objects.create(appointment=booked)
    offer = WaitlistOffer.objects.create(
        entry=entry, starts_at=oslo(2027, 1, 7, 9), expires_at=NOW + timedelta(hours=12)
    )
    appointment_book(
        patient=factories.PatientFactory.create(),
        appointment_type=kind,
        starts_at=oslo(2027, 1, 7, 9),
        actor=SYSTEM,
    )
    response = browser.post(
        f"/timer/{booked.pk}/tidligere-time/",
        {"handling": "ta-imot", "tilbud": offer.pk},
        follow=True,
    )
    assert "Someone else took this earlier time first" in text(response)
    booked.refresh_from_db()
    offer.refresh_from_db()
    assert booked.starts_at == oslo(2027, 1, 13, 10)
    assert offer.status == WaitlistOfferStatus.TAKEN


# --- Preparations, availability, notices, the access log --------------------------------------


def test_ticking_a_preparation_done_and_undoing_it(browser, booked):
    task = booked.preparation_tasks.get()
    browser.post(f"/forberedelser/{task.pk}/", {"gjort": "ja"})
    task.refresh_from_db()
    assert task.is_done
    partial = browser.post(
        f"/forberedelser/{task.pk}/", {"gjort": "nei"}, headers={"HX-Request": "true"}
    )
    assert text(partial).strip().startswith('<li class="card" id="preparation-')
    task.refresh_from_db()
    assert not task.is_done


def test_availability_is_added_checked_and_removed_only_by_its_patient(browser, patient):
    bad = browser.post(
        "/tilgjengelighet/",
        {
            "handling": "vindu",
            "vindu-weekday": "1",
            "vindu-start_time": "12:00",
            "vindu-end_time": "08:00",
        },
    )
    assert bad.status_code == 400
    assert "The end must be after the start." in text(bad)
    assert 'href="#id_vindu-end_time"' in text(bad)  # the error summary links to the field

    browser.post(
        "/tilgjengelighet/",
        {
            "handling": "vindu",
            "vindu-weekday": "1",
            "vindu-start_time": "08:00",
            "vindu-end_time": "12:00",
        },
    )
    window = AvailabilityWindow.objects.get(patient=patient)
    assert "Tuesday: 08:00–12:00" in text(browser.get("/tilgjengelighet/"))

    someone_elses = AvailabilityWindow.objects.create(
        patient=factories.PatientFactory.create(), weekday=2, start_time="08:00", end_time="10:00"
    )
    gone = browser.post("/tilgjengelighet/", {"handling": "fjern-vindu", "id": someone_elses.pk})
    assert gone.status_code == 404
    browser.post("/tilgjengelighet/", {"handling": "fjern-vindu", "id": window.pk})
    assert not AvailabilityWindow.objects.filter(patient=patient).exists()
    assert AvailabilityWindow.objects.filter(pk=someone_elses.pk).exists()


def test_notice_choices_are_saved(browser, patient):
    browser.post("/varsler/", {"notify_by_email": "on", "preferred_language": "en"})
    patient.refresh_from_db()
    assert (patient.notify_by_sms, patient.notify_by_email) == (False, True)


def test_the_access_log_says_who_read_what_in_words(browser, patient, clinic):
    staff = factories.StaffFactory.create(
        clinic=clinic, user__first_name="Siri", user__last_name="Sekretær"
    )
    record_staff_read(
        staff_user=staff.user,
        patients=[patient],
        action="attendance list 2027-01-06",
        staff_role="secretary",
        clinic_name=clinic.name,
    )
    page = text(browser.get("/innsyn/"))
    assert "Siri Sekretær, secretary, Medisinsk poliklinikk" in page
    assert "The day&#x27;s list of appointments" in page


# --- Every form needs its CSRF token -------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/logg-ut/", "/sprak/", "/for/meg/", "/forberedelser/1/", "/tilgjengelighet/", "/varsler/"],
)
def test_a_form_sent_without_its_csrf_token_is_refused_with_a_page(patient, path):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    client.force_login(patient.user)
    response = client.post(path, {"language": "en"})
    assert response.status_code == 403
    assert "Please try again" in text(response)
