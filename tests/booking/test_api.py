import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from access.roles import StaffRole
from booking import services
from booking.models import (
    ActorKind,
    Appointment,
    IdempotencyRecord,
    PreparationTemplate,
)
from booking.tasks import forget_expired_idempotency_keys
from patients.models import ProxyKind
from tests import factories
from tests.conftest import oslo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WED = "2027-01-06"
WED_10 = "2027-01-06T10:00:00+01:00"


@pytest.fixture
def client(clock, patient):
    api = APIClient()
    api.force_login(patient.user)
    return api


def book_body(appointment_type, starts_at=WED_10, **extra):
    return {"appointment_type": appointment_type.id, "starts_at": starts_at, **extra}


def keyed_booking(api, key, body):
    return api.post("/api/v1/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def slots_url(appointment_type):
    return f"/api/v1/appointment-types/{appointment_type.id}/slots/"


def staff_book(patient, appointment_type, starts_at):
    return services.appointment_book(
        patient=patient,
        appointment_type=appointment_type,
        starts_at=starts_at,
        actor=services.Actor(user=None, kind=ActorKind.STAFF),
    )


class TestLogin:
    @pytest.fixture(autouse=True)
    def fresh_throttle(self):
        cache.clear()
        yield
        cache.clear()

    def test_a_forged_forwarded_for_does_not_escape_the_login_throttle(self, patient):
        api = APIClient()
        answers = [
            api.post(
                "/api/v1/auth/login/",
                {"username": patient.user.username, "password": "x"},
                HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
            ).status_code
            for n in range(21)
        ]
        assert answers == [400] * 20 + [429]

    def test_wrong_password_is_a_clear_error(self, patient):
        response = APIClient().post(
            "/api/v1/auth/login/", {"username": patient.user.username, "password": "nope"}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_login"

    def test_login_opens_a_session(self, patient):
        api = APIClient()
        response = api.post(
            "/api/v1/auth/login/", {"username": patient.user.username, "password": "pw-for-tests"}
        )
        assert response.status_code == 204
        assert api.get("/api/v1/me/").json()["patient"]["id"] == patient.id

    def test_anonymous_requests_are_refused(self, control_type):
        assert APIClient().get("/api/v1/appointments/").status_code == 403
        assert APIClient().post("/api/v1/appointments/", book_body(control_type)).status_code == 403


class TestAppointmentTypes:
    def test_lists_only_self_bookable_types_under_their_neutral_name(
        self, client, control_type, clinic
    ):
        control_type.patient_facing_name = "Samtale"
        control_type.save()
        factories.AppointmentTypeFactory.create(clinic=clinic, name="Intern", self_bookable=False)

        names = [t["name"] for t in client.get("/api/v1/appointment-types/").json()["results"]]

        assert names == ["Samtale"]


class TestSlots:
    def test_lists_every_free_start_of_the_day(self, client, control_type):
        response = client.get(slots_url(control_type), {"date_from": WED, "date_to": WED})

        starts = [s["starts_at"] for s in response.json()]
        assert response.status_code == 200
        assert len(starts) == 31  # 08:00 ... 15:30 every 15 minutes
        assert starts[0] == "2027-01-06T08:00:00+01:00"
        assert starts[-1] == "2027-01-06T15:30:00+01:00"

    def test_taken_times_and_the_patients_own_appointments_are_left_out(
        self, client, control_type, clinic, patient
    ):
        staff_book(factories.PatientFactory.create(), control_type, oslo(2027, 1, 6, 10, 0))

        starts = [
            s["starts_at"][11:16]
            for s in client.get(slots_url(control_type), {"date_from": WED, "date_to": WED}).json()
        ]

        assert len(starts) == 28
        assert {"09:45", "10:00", "10:15"}.isdisjoint(starts)

    def test_bad_ranges_are_clear_errors(self, client, control_type):
        backwards = client.get(slots_url(control_type), {"date_from": WED, "date_to": "2027-01-01"})
        too_long = client.get(slots_url(control_type), {"date_from": WED, "date_to": "2027-06-01"})
        garbage = client.get(slots_url(control_type), {"date_from": "tomorrow"})
        assert [r.status_code for r in (backwards, too_long, garbage)] == [400, 400, 400]
        assert "date_to" in backwards.json()

    def test_types_patients_may_not_book_are_not_found(self, client, control_type):
        control_type.self_bookable = False
        control_type.save()
        assert client.get(slots_url(control_type)).status_code == 404


class TestBooking:
    def test_books_and_answers_with_the_appointment(self, client, control_type, patient):
        PreparationTemplate.objects.create(
            appointment_type=control_type, title="Medisinliste", timing="deadline", days_before=5
        )
        response = client.post("/api/v1/appointments/", book_body(control_type), format="json")

        body = response.json()
        assert response.status_code == 201
        assert (body["patient"]["id"], body["starts_at"], body["status"]) == (
            patient.id,
            WED_10,
            "booked",
        )
        assert body["changes_left"] == 2
        assert body["preparation_tasks"][0]["due_date"] == "2027-01-01"

    def test_a_taken_time_is_409_in_norwegian_by_default(self, client, control_type):
        staff_book(factories.PatientFactory.create(), control_type, oslo(2027, 1, 6, 10, 0))

        response = client.post("/api/v1/appointments/", book_body(control_type), format="json")

        assert response.status_code == 409
        assert response.json() == {
            "code": "slot_unavailable",
            "detail": "Denne timen er ikke lenger ledig. Velg en annen time.",
        }

    def test_errors_follow_the_requested_language(self, client, control_type):
        response = client.post(
            "/api/v1/appointments/",
            book_body(control_type, "2027-01-06T10:05:00+01:00"),
            format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 422
        assert response.json()["code"] == "not_on_grid"
        assert response.json()["detail"].startswith("Appointments of this type start on fixed")

    @pytest.mark.parametrize(
        "body",
        [
            {"appointment_type": "x", "starts_at": WED_10},
            {"starts_at": WED_10},
            {"appointment_type": 1, "starts_at": "next wednesday"},
            {"appointment_type": 1, "starts_at": WED_10, "patient": "me"},
        ],
    )
    def test_malformed_input_is_400(self, client, control_type, body):
        response = client.post("/api/v1/appointments/", body, format="json")
        assert response.status_code == 400
        assert not Appointment.objects.exists()

    @pytest.mark.parametrize(
        "starts_at",
        ["2027-03-28T02:30:00", "2027-10-31T02:30:00", "2027-02-15", "2027-01-06T10:00:00"],
        ids=["a time spring skips", "a time autumn repeats", "a bare date", "no offset"],
    )
    def test_a_time_without_its_offset_is_refused_in_the_users_words(
        self, client, control_type, starts_at
    ):
        answers = {
            language: client.post(
                "/api/v1/appointments/",
                book_body(control_type, starts_at),
                format="json",
                headers={"Accept-Language": language},
            )
            for language in ("en", "nb")
        }
        assert {r.status_code for r in answers.values()} == {400}
        assert answers["en"].json()["starts_at"] == [
            "Give the time with its UTC offset, e.g. 2027-03-28T10:30:00+02:00."
        ]
        assert answers["nb"].json()["starts_at"] != answers["en"].json()["starts_at"]
        assert not Appointment.objects.exists()

    def test_framework_messages_speak_nynorsk_and_bokmal_too(self, client, control_type):
        def missing_type(language):
            answer = client.post(
                "/api/v1/appointments/",
                {"starts_at": WED_10},
                format="json",
                headers={"Accept-Language": language},
            )
            return answer.json()["appointment_type"]

        assert missing_type("nn") == ["Dette feltet må fyllast ut."]
        assert missing_type("nb") == ["Dette feltet må fylles ut."]
        assert missing_type("en") == ["This field is required."]

    def test_unknown_type_is_404(self, client, control_type):
        response = client.post(
            "/api/v1/appointments/",
            {"appointment_type": 999999, "starts_at": WED_10},
            format="json",
        )
        assert response.status_code == 404


class TestProxies:
    def test_a_parent_books_and_sees_the_childs_appointments(self, client, control_type, patient):
        child = factories.ProxyFactory.create(holder=patient).subject

        response = client.post(
            "/api/v1/appointments/", book_body(control_type, patient=child.id), format="json"
        )

        assert response.status_code == 201
        appointment = Appointment.objects.get()
        assert appointment.patient == child
        assert appointment.events.get().actor_kind == "proxy"
        assert appointment.events.get().on_behalf_of == child
        listed = client.get("/api/v1/appointments/").json()
        assert [a["patient"]["id"] for a in listed] == [child.id]

    @pytest.mark.parametrize(
        "proxy_kwargs",
        [
            {"valid_until": date(2026, 12, 31)},  # expired
            {"valid_from": date(2027, 2, 1)},  # not yet valid
            {"subject__born": date(2010, 1, 3)},  # the child turned 16 on 2026-01-03
        ],
    )
    def test_invalid_proxies_give_404_everywhere(self, client, control_type, patient, proxy_kwargs):
        proxy = factories.ProxyFactory.create(holder=patient, **proxy_kwargs)
        child = proxy.subject
        appointment = staff_book(child, control_type, oslo(2027, 1, 7, 10, 0))

        assert client.get(slots_url(control_type), {"patient": child.id}).status_code == 404
        assert (
            client.post(
                "/api/v1/appointments/", book_body(control_type, patient=child.id), format="json"
            ).status_code
            == 404
        )
        assert client.get(f"/api/v1/appointments/{appointment.id}/").status_code == 404
        assert client.get("/api/v1/appointments/").json() == []

    def test_a_power_of_attorney_outlives_the_age_limit(self, client, control_type, patient):
        factories.ProxyFactory.create(
            holder=patient, kind=ProxyKind.POWER_OF_ATTORNEY, subject__born=date(1940, 1, 1)
        )
        assert len(client.get("/api/v1/patients/").json()) == 2

    def test_a_revoked_proxy_gives_404(self, client, control_type, patient):
        proxy = factories.ProxyFactory.create(holder=patient, revoked_at=oslo(2027, 1, 1, 12, 0))
        assert client.get(slots_url(control_type), {"patient": proxy.subject.id}).status_code == 404


class TestOtherPatientsObjects:
    @pytest.fixture
    def others(self, control_type):
        stranger = factories.PatientFactory.create()
        appointment = staff_book(stranger, control_type, oslo(2027, 1, 7, 10, 0))
        PreparationTemplate.objects.create(
            appointment_type=control_type, title="x", timing="deadline", days_before=1
        )
        return appointment

    def test_are_404_in_lists_and_details(self, client, others):
        assert client.get("/api/v1/appointments/").json() == []
        assert client.get(f"/api/v1/appointments/{others.id}/").status_code == 404
        assert client.post(f"/api/v1/appointments/{others.id}/cancel/").status_code == 404
        assert (
            client.post(
                f"/api/v1/appointments/{others.id}/reschedule/", {"starts_at": WED_10}
            ).status_code
            == 404
        )
        assert client.get("/api/v1/preparation-tasks/").json()["results"] == []

    def test_booking_for_a_stranger_is_404(self, client, control_type, others):
        response = client.post(
            "/api/v1/appointments/",
            book_body(control_type, patient=others.patient_id),
            format="json",
        )
        assert response.status_code == 404


class TestChanges:
    @pytest.fixture
    def appointment(self, client, control_type):
        return client.post("/api/v1/appointments/", book_body(control_type), format="json").json()

    def test_reschedule(self, client, appointment):
        response = client.post(
            f"/api/v1/appointments/{appointment['id']}/reschedule/",
            {"starts_at": "2027-01-07T09:00:00+01:00"},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["starts_at"] == "2027-01-07T09:00:00+01:00"
        assert response.json()["changes_left"] == 1

    def test_reschedule_to_a_taken_time_is_409_and_keeps_the_old(
        self, client, appointment, control_type
    ):
        staff_book(factories.PatientFactory.create(), control_type, oslo(2027, 1, 7, 9, 0))
        response = client.post(
            f"/api/v1/appointments/{appointment['id']}/reschedule/",
            {"starts_at": "2027-01-07T09:00:00+01:00"},
            format="json",
        )
        assert response.status_code == 409
        assert (
            client.get(f"/api/v1/appointments/{appointment['id']}/").json()["starts_at"] == WED_10
        )

    def test_cancel(self, client, appointment):
        response = client.post(
            f"/api/v1/appointments/{appointment['id']}/cancel/",
            {"reason": "Frisk igjen"},
            format="json",
        )
        assert (response.status_code, response.json()["status"]) == (200, "cancelled")

    def test_cancel_reason_is_bounded(self, client, appointment):
        response = client.post(
            f"/api/v1/appointments/{appointment['id']}/cancel/",
            {"reason": "x" * 501},
            format="json",
        )
        assert response.status_code == 400

    def test_tick_off_a_preparation(self, client, control_type):
        PreparationTemplate.objects.create(
            appointment_type=control_type, title="Skjema", timing="deadline", days_before=2
        )
        client.post("/api/v1/appointments/", book_body(control_type), format="json")
        task = client.get("/api/v1/preparation-tasks/").json()["results"][0]

        response = client.patch(
            f"/api/v1/preparation-tasks/{task['id']}/", {"done": True}, format="json"
        )

        assert (response.status_code, response.json()["done"]) == (200, True)
        assert (
            client.patch(
                f"/api/v1/preparation-tasks/{task['id']}/", {"done": "maybe"}, format="json"
            ).status_code
            == 400
        )


class TestIdempotency:
    def test_a_repeat_returns_the_first_answer_and_books_nothing_new(self, client, control_type):
        first = keyed_booking(client, "abc-123", book_body(control_type))
        repeat = keyed_booking(client, "abc-123", book_body(control_type))

        assert (first.status_code, repeat.status_code) == (201, 201)
        assert repeat.json() == first.json()
        assert repeat.headers["Idempotent-Replayed"] == "true"
        assert Appointment.objects.count() == 1

    def test_the_same_key_with_another_request_is_refused(self, client, control_type):
        keyed_booking(client, "k1", book_body(control_type))
        other = keyed_booking(client, "k1", book_body(control_type, "2027-01-07T10:00:00+01:00"))
        assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
        assert Appointment.objects.count() == 1

    def test_a_refused_booking_is_not_remembered(self, client, control_type):
        staff_book(factories.PatientFactory.create(), control_type, oslo(2027, 1, 6, 10, 0))
        refused = keyed_booking(client, "k2", book_body(control_type))
        assert refused.status_code == 409
        assert not IdempotencyRecord.objects.exists()

    def test_keys_belong_to_one_user(self, client, control_type):
        other = factories.PatientFactory.create()
        other_client = APIClient()
        other_client.force_login(other.user)  # type: ignore[arg-type]
        keyed_booking(client, "same", book_body(control_type))
        response = keyed_booking(
            other_client, "same", book_body(control_type, "2027-01-07T10:00:00+01:00")
        )
        assert response.status_code == 201
        assert Appointment.objects.count() == 2

    def test_after_a_day_a_key_is_forgotten_and_its_request_is_new_again(
        self, client, clock, control_type
    ):
        first = keyed_booking(client, "d1", book_body(control_type))
        clock.shift(IdempotencyRecord.KEPT_FOR + timedelta(minutes=1))
        repeat = keyed_booking(client, "d1", book_body(control_type))

        assert first.status_code == 201
        # Not replayed: booked anew, which the first booking of that very time now refuses.
        assert repeat.status_code == 409
        assert "Idempotent-Replayed" not in repeat.headers
        assert Appointment.objects.count() == 1
        assert not IdempotencyRecord.objects.exists()

    def test_the_job_deletes_only_expired_answers(self, client, clock, control_type):
        keyed_booking(client, "old", book_body(control_type))
        clock.shift(IdempotencyRecord.KEPT_FOR + timedelta(minutes=1))
        keyed_booking(client, "new", book_body(control_type, "2027-01-07T10:00:00+01:00"))

        assert forget_expired_idempotency_keys.delay().get() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
        scheduled = {job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()}
        assert "booking.tasks.forget_expired_idempotency_keys" in scheduled

    def test_an_overlong_key_is_400(self, client, control_type):
        response = keyed_booking(client, "k" * 201, book_body(control_type))
        assert response.status_code == 400


class TestStaff:
    @pytest.fixture
    def secretary(self, clinic):
        return factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user

    @pytest.fixture
    def staff_client(self, clock, secretary):
        api = APIClient()
        api.force_login(secretary)
        return api

    def test_sees_only_own_clinics(self, staff_client, clinic, clinician):
        other_clinic = factories.ClinicFactory.create()
        factories.weekday_resource(other_clinic)

        resources = staff_client.get("/api/v1/staff/resources/").json()["results"]
        clinics = staff_client.get("/api/v1/staff/clinics/").json()["results"]

        assert [r["id"] for r in resources] == [clinician.id]
        assert [c["id"] for c in clinics] == [clinic.id]

    def test_cannot_create_in_another_clinic(self, staff_client):
        other_clinic = factories.ClinicFactory.create()
        response = staff_client.post(
            "/api/v1/staff/resources/",
            {"clinic": other_clinic.id, "kind": "room", "name": "Rom 9"},
            format="json",
        )
        assert response.status_code == 400
        assert "clinic" in response.json()

    def test_patients_and_clinicians_cannot_configure(self, client, clinic):
        clinician_user = factories.StaffFactory.create(clinic=clinic, role=StaffRole.CLINICIAN).user
        api = APIClient()
        api.force_login(clinician_user)
        body = {"clinic": clinic.id, "kind": "room", "name": "Rom 9"}
        assert api.get("/api/v1/staff/resources/").status_code == 200
        assert api.post("/api/v1/staff/resources/", body, format="json").status_code == 403
        assert client.get("/api/v1/staff/resources/").status_code == 403

    def test_working_hours_and_absences_are_validated(self, staff_client, clinician):
        bad_hours = staff_client.post(
            "/api/v1/staff/working-hours/",
            {
                "resource": clinician.id,
                "weekday": 7,
                "start_time": "16:00",
                "end_time": "08:00",
                "valid_from": "2027-01-01",
            },
            format="json",
        )
        bad_absence = staff_client.post(
            "/api/v1/staff/absences/",
            {
                "resource": clinician.id,
                "starts_at": "2027-01-06T12:00:00+01:00",
                "ends_at": "2027-01-06T08:00:00+01:00",
                "reason": "sick",
            },
            format="json",
        )
        good_absence = staff_client.post(
            "/api/v1/staff/absences/",
            {
                "resource": clinician.id,
                "starts_at": "2027-01-06T08:00:00+01:00",
                "ends_at": "2027-01-06T12:00:00+01:00",
                "reason": "sick",
            },
            format="json",
        )
        assert bad_hours.status_code == 400
        assert set(bad_hours.json()) >= {"weekday"}
        assert bad_absence.status_code == 400
        assert good_absence.status_code == 201

    def test_end_before_start_in_working_hours(self, staff_client, clinician):
        response = staff_client.post(
            "/api/v1/staff/working-hours/",
            {
                "resource": clinician.id,
                "weekday": 1,
                "start_time": "16:00",
                "end_time": "08:00",
                "valid_from": "2027-01-01",
            },
            format="json",
        )
        assert (response.status_code, list(response.json())) == (400, ["end_time"])

    def test_creates_an_appointment_type_with_requirements_and_preparations(
        self, staff_client, clinic
    ):
        response = staff_client.post(
            "/api/v1/staff/appointment-types/",
            {
                "clinic": clinic.id,
                "name": "Koloskopi",
                "duration_minutes": 60,
                "self_bookable": True,
                "buffer_after_minutes": 15,
                "requirements": [
                    {"kind": "clinician", "tag": "endoscopist", "count": 1},
                    {"kind": "room", "tag": "endoscopy", "count": 1},
                ],
                "preparations": [{"title": "Tøm tarmen", "timing": "start", "days_before": 7}],
            },
            format="json",
        )

        body = response.json()
        assert response.status_code == 201
        assert [r["tag"] for r in body["requirements"]] == ["endoscopist", "endoscopy"]
        assert body["preparations"][0]["title"] == "Tøm tarmen"

    def test_an_appointment_type_needs_resources_and_valid_preparations(self, staff_client, clinic):
        response = staff_client.post(
            "/api/v1/staff/appointment-types/",
            {
                "clinic": clinic.id,
                "name": "X",
                "duration_minutes": 0,
                "requirements": [],
                "preparations": [{"title": "", "timing": "sometime", "days_before": -1}],
            },
            format="json",
        )
        assert response.status_code == 400
        assert {"duration_minutes", "requirements", "preparations"} <= set(response.json())


def test_schema_and_offline_docs(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")
    assert schema.status_code == 200
    assert b"/api/v1/appointments/" in schema.content
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    # Nothing is fetched from another host (a CDN): every script and style is served locally.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_a_clinics_day_has_no_gaps_across_working_days(client, control_type):
    """Two weeks of search from a Monday: 10 working days of 31 starts each."""
    response = client.get(
        slots_url(control_type), {"date_from": "2027-01-11", "date_to": "2027-01-24"}
    )
    days = {s["starts_at"][:10] for s in response.json()}
    assert len(response.json()) == 310
    assert len(days) == 10
    assert min(days) == "2027-01-11"
    assert (date(2027, 1, 24) - date(2027, 1, 11)) == timedelta(days=13)
