"""The clinic's configuration in the admin: who gets in, who sees and changes what, and that a
change is checked and written as the API's is (booking.configuration, planning.background).

Clinic A (the suite's clinic, with a clinician, a room and Kontroll) and clinic B (Ortopedi,
with its own resource, type and absence); a secretary and a clinician of A, a secretary of B.
The pages are asked for in bokmål, as the clinics' staff see them.
"""

from datetime import date, time
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.forms import MultiWidget
from django.test import Client

from access.roles import StaffRole
from booking import configuration
from booking.models import (
    Absence,
    AppointmentType,
    PreparationTemplate,
    Resource,
    ResourceKind,
    ResourceRequirement,
    WorkingHours,
)
from booking.services import SYSTEM, appointment_book
from planning.models import PlanKind, PlanProposal
from tests import factories
from tests.conftest import oslo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

ADMIN = "/admin"
PAGES = {
    "clinic": "booking/clinic",
    "resource": "booking/resource",
    "absence": "booking/absence",
    "type": "booking/appointmenttype",
}


@pytest.fixture
def absence_a(clinician):
    return Absence.objects.create(
        resource=clinician,
        starts_at=oslo(2027, 2, 1, 8),
        ends_at=oslo(2027, 2, 1, 16),
        reason="sick",
    )


@pytest.fixture
def clinic_b():
    clinic = factories.ClinicFactory.create(name="Ortopedisk poliklinikk")
    surgeon = factories.weekday_resource(clinic, ResourceKind.CLINICIAN, ["ortoped"])
    surgeon.name = "Dr. Beinbrudd"
    surgeon.save()
    kind = factories.AppointmentTypeFactory.create(clinic=clinic, name="Gipskontroll")
    factories.requirement(kind, ResourceKind.CLINICIAN)
    Absence.objects.create(
        resource=surgeon,
        starts_at=oslo(2027, 2, 2, 8),
        ends_at=oslo(2027, 2, 2, 16),
        reason="course",
    )
    return clinic


@pytest.fixture
def world(clinic, clinician, room, control_type, absence_a, clinic_b):
    return {
        "A": {
            "clinic": clinic.pk,
            "resource": clinician.pk,
            "absence": absence_a.pk,
            "type": control_type.pk,
        },
        "B": {
            "clinic": clinic_b.pk,
            "resource": clinic_b.resources.get().pk,
            "absence": Absence.objects.get(resource__clinic=clinic_b).pk,
            "type": clinic_b.appointment_types.get().pk,
        },
    }


def logged_in(user) -> Client:
    client = Client(headers={"Accept-Language": "nb"})
    client.force_login(user)
    return client


@pytest.fixture
def secretary(clinic):
    return logged_in(factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user)


@pytest.fixture
def clinician_user(clinic):
    return logged_in(factories.StaffFactory.create(clinic=clinic, role=StaffRole.CLINICIAN).user)


def form_data(response) -> dict[str, str]:
    """What the change page's forms would send back untouched: the main form, and every
    inline's management form and rows."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, str] = {}
    for form in forms:
        for field in form:
            value = field.value()
            widget = field.field.widget
            if isinstance(widget, MultiWidget):
                parts = widget.decompress(value) or []
                data |= {f"{field.html_name}_{i}": _text(p) for i, p in enumerate(parts)}
            elif value is not None and value is not False:
                data[field.html_name] = _text(value)
    return data


def _text(value) -> str:
    if value is True:
        return "on"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def errors_of(response) -> list[object]:
    return [response.context["adminform"].form.errors] + [
        (inline.formset.errors, inline.formset.non_form_errors())
        for inline in response.context["inline_admin_formsets"]
    ]


def add_row(data: dict[str, str], prefix: str, **fields: str) -> None:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data |= {f"{prefix}-{index}-{name}": value for name, value in fields.items()}


def shown_ids(client: Client, page: str) -> set[int]:
    response = client.get(f"{ADMIN}/{PAGES[page]}/")
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


# --- Who gets in ------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(world):
    for path in ("/", *(f"/{p}/" for p in PAGES.values()), f"/{PAGES['type']}/add/"):
        response = Client().get(ADMIN + path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{ADMIN}/login/")


def test_a_patient_is_sent_to_the_login_page_and_cannot_log_in(world, patient):
    response = logged_in(patient.user).get(f"{ADMIN}/{PAGES['resource']}/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{ADMIN}/login/")

    client = Client(headers={"Accept-Language": "nb"})
    login = client.post(
        f"{ADMIN}/login/", {"username": patient.user.username, "password": "pw-for-tests"}
    )
    assert login.status_code == 200  # the form again, with its error
    assert login.context["form"].errors
    assert client.get(f"{ADMIN}/").status_code == 302


def test_a_secretary_logs_in_with_her_password(clinic):
    user = factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user
    client = Client(headers={"Accept-Language": "nb"})
    login = client.post(f"{ADMIN}/login/", {"username": user.username, "password": "pw-for-tests"})
    assert login.status_code == 302
    index = client.get(f"{ADMIN}/")
    assert index.status_code == 200
    text = index.content.decode()
    assert "Velkommen," in text  # Django's own texts in bokmål
    assert f'href="{ADMIN}/{PAGES["type"]}/"' in text
    assert f'href="{ADMIN}/auth/user/"' not in text  # Django's users: not hers


def test_a_superuser_keeps_django_s_own_pages_and_sees_no_clinic_without_a_membership(world):
    superuser = factories.UserFactory.create(is_staff=True, is_superuser=True)
    client = logged_in(superuser)
    assert client.get(f"{ADMIN}/auth/user/").status_code == 200
    assert client.get(f"{ADMIN}/{PAGES['resource']}/").status_code == 403


# --- Who sees what --------------------------------------------------------------------------


def test_a_secretary_sees_only_her_clinics_rows_in_every_changelist(world, secretary):
    resources_a = Resource.objects.filter(clinic_id=world["A"]["clinic"])
    assert len(resources_a) == 2  # the clinician and the room
    expected = {page: {world["A"][page]} for page in PAGES}
    expected["resource"] = {r.pk for r in resources_a}
    for page in PAGES:
        assert shown_ids(secretary, page) == expected[page], page


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_a_secretary_cannot_open_another_clinics_rows(world, secretary, page, view):
    response = secretary.get(f"{ADMIN}/{PAGES[page]}/{world['B'][page]}/{view}/")
    text = response.content.decode()
    # To the index ("... finnes ikke", as for an id of no row), or refused as for every row of
    # a model that is never deleted here.
    if view == "delete" and page != "absence":
        assert response.status_code == 403
    else:
        assert (response.status_code, response["Location"]) == (302, f"{ADMIN}/")
    for name in ("Ortopedisk", "Gipskontroll", "Beinbrudd"):
        assert name not in text


def test_a_secretary_cannot_pick_another_clinics_clinic_or_resource(world, secretary):
    form = secretary.get(f"{ADMIN}/{PAGES['absence']}/add/").context["adminform"].form
    resources = set(form.fields["resource"].queryset.values_list("pk", flat=True))
    assert world["B"]["resource"] not in resources
    assert world["A"]["resource"] in resources
    form = secretary.get(f"{ADMIN}/{PAGES['type']}/add/").context["adminform"].form
    assert list(form.fields["clinic"].queryset.values_list("pk", flat=True)) == [
        world["A"]["clinic"]
    ]

    response = secretary.post(
        f"{ADMIN}/{PAGES['absence']}/add/",
        {
            "resource": world["B"]["resource"],
            "starts_at_0": "2027-03-01",
            "starts_at_1": "08:00",
            "ends_at_0": "2027-03-01",
            "ends_at_1": "16:00",
            "reason": "sick",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["resource"]
    assert Absence.objects.count() == 2


def test_a_clinician_sees_her_clinics_configuration_and_changes_nothing(world, clinician_user):
    assert shown_ids(clinician_user, "type") == {world["A"]["type"]}
    page = clinician_user.get(f"{ADMIN}/{PAGES['type']}/{world['A']['type']}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "Kontroll" in page.content.decode()
    name_before = AppointmentType.objects.get(pk=world["A"]["type"]).name

    posted = clinician_user.post(
        f"{ADMIN}/{PAGES['type']}/{world['A']['type']}/change/", {"name": "Endret"}
    )
    assert posted.status_code == 403
    assert clinician_user.get(f"{ADMIN}/{PAGES['type']}/add/").status_code == 403
    absence = f"{ADMIN}/{PAGES['absence']}/{world['A']['absence']}/delete/"
    assert clinician_user.get(absence).status_code == 403
    assert AppointmentType.objects.get(pk=world["A"]["type"]).name == name_before


# --- Changes go through the services ---------------------------------------------------------


def resource_page(client: Client, resource_id: int):
    response = client.get(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/")
    assert response.status_code == 200
    return response


def test_working_hours_that_end_before_they_start_are_a_form_error_in_bokmal(world, secretary):
    resource_id = world["A"]["resource"]
    data = form_data(resource_page(secretary, resource_id))
    add_row(
        data,
        "working_hours",
        weekday="5",
        start_time="12:00",
        end_time="08:00",
        valid_from="2027-01-09",
        interval_weeks="1",
    )
    before = WorkingHours.objects.filter(resource_id=resource_id).count()

    response = secretary.post(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", data)

    assert response.status_code == 200
    assert "Sluttid må være etter starttid." in response.content.decode()
    assert WorkingHours.objects.filter(resource_id=resource_id).count() == before


def test_a_resource_is_saved_by_the_service_the_api_calls(world, secretary):
    resource_id = world["A"]["resource"]
    data = form_data(resource_page(secretary, resource_id))
    data["tags"] = "koloskopi, endoscopist, koloskopi"
    add_row(
        data,
        "working_hours",
        weekday="5",
        start_time="09:00",
        end_time="13:00",
        valid_from="2027-01-09",
        interval_weeks="2",
    )
    with (
        mock.patch.object(
            configuration, "resource_update", wraps=configuration.resource_update
        ) as update,
        mock.patch.object(
            configuration, "working_hours_create", wraps=configuration.working_hours_create
        ) as create_hours,
    ):
        response = secretary.post(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", data)

    assert response.status_code == 302, errors_of(response)
    assert update.call_count == create_hours.call_count == 1
    assert Resource.objects.get(pk=resource_id).tags == ["endoscopist", "koloskopi"]  # sorted, once
    saturday = WorkingHours.objects.get(resource_id=resource_id, weekday=5)
    assert (saturday.start_time, saturday.interval_weeks) == (time(9, 0), 2)
    assert LogEntry.objects.filter(object_id=str(resource_id)).count() == 1  # the history


def test_a_type_without_requirements_is_refused_with_the_services_message(world, secretary):
    type_id = world["A"]["type"]
    data = form_data(secretary.get(f"{ADMIN}/{PAGES['type']}/{type_id}/change/"))
    for key in [k for k in data if k.startswith("requirements-") and k.endswith("-kind")]:
        data[key.removesuffix("kind") + "DELETE"] = "on"

    response = secretary.post(f"{ADMIN}/{PAGES['type']}/{type_id}/change/", data)

    assert response.status_code == 200
    assert "trenger minst én ressurs" in response.content.decode()
    assert ResourceRequirement.objects.filter(appointment_type_id=type_id).count() == 2


def test_a_new_type_is_created_with_its_parts_by_the_service(world, secretary):
    add = secretary.get(f"{ADMIN}/{PAGES['type']}/add/")
    data = form_data(add)
    data |= {
        "clinic": str(world["A"]["clinic"]),
        "name": "Koloskopi",
        "duration_minutes": "60",
        "self_bookable": "on",
        "requirements-0-kind": "clinician",
        "requirements-0-tag": "endoscopist",
        "requirements-0-count": "1",
    }
    add_row(data, "preparations", title="Tøm tarmen", timing="start", days_before="7")
    with mock.patch.object(
        configuration, "appointment_type_create", wraps=configuration.appointment_type_create
    ) as create:
        response = secretary.post(f"{ADMIN}/{PAGES['type']}/add/", data)

    assert response.status_code == 302, errors_of(response)
    assert create.call_count == 1
    created = AppointmentType.objects.get(name="Koloskopi")
    assert response["Location"] == f"{ADMIN}/{PAGES['type']}/"
    assert list(created.requirements.values_list("kind", "tag")) == [("clinician", "endoscopist")]
    assert list(created.preparations.values_list("title", "days_before")) == [("Tøm tarmen", 7)]


def test_changing_a_types_rules_keeps_its_preparations(world, secretary, control_type):
    kept = PreparationTemplate.objects.create(
        appointment_type=control_type, title="Medisinliste", timing="deadline", days_before=5
    )
    data = form_data(secretary.get(f"{ADMIN}/{PAGES['type']}/{control_type.pk}/change/"))
    data["change_cutoff_hours"] = "24"

    response = secretary.post(f"{ADMIN}/{PAGES['type']}/{control_type.pk}/change/", data)

    assert response.status_code == 302, errors_of(response)
    control_type.refresh_from_db()
    assert control_type.change_cutoff_hours == 24
    # Booked appointments' preparations refer to the template: it is not replaced.
    assert list(control_type.preparations.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.parametrize(
    ("typed", "saved"), [("[72, 2]", [72, 2]), ("[0]", None), ("[24, 24]", None), ("x", None)]
)
def test_a_types_reminders_are_set_and_checked_in_the_admin(
    world, secretary, control_type, typed, saved
):
    page = f"{ADMIN}/{PAGES['type']}/{control_type.pk}/change/"
    data = form_data(secretary.get(page))
    before = list(control_type.reminder_hours)
    data["reminder_hours"] = typed

    response = secretary.post(page, data)

    control_type.refresh_from_db()
    if saved is None:
        assert response.status_code == 200  # the form again, with the error
        assert control_type.reminder_hours == before
    else:
        assert response.status_code == 302, errors_of(response)
        assert control_type.reminder_hours == saved


# --- Absences and their re-plan --------------------------------------------------------------


@pytest.fixture
def booked(control_type, patient):
    return appointment_book(
        patient=patient,
        appointment_type=control_type,
        starts_at=oslo(2027, 1, 13, 10),
        actor=SYSTEM,
    )


def test_an_absence_saved_on_the_resource_page_queues_the_replan(
    world, secretary, booked, django_capture_on_commit_callbacks
):
    resource_id = world["A"]["resource"]
    data = form_data(resource_page(secretary, resource_id))
    add_row(
        data,
        "absences",
        starts_at_0="2027-01-13",
        starts_at_1="08:00",
        ends_at_0="2027-01-13",
        ends_at_1="16:00",
        reason="sick",
    )
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = secretary.post(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", data)

    assert response.status_code == 302, errors_of(response)
    absence = Absence.objects.get(resource_id=resource_id, starts_at=oslo(2027, 1, 13, 8))
    assert len(queued) == 1
    plan = PlanProposal.objects.get(absence=absence)
    assert plan.kind == PlanKind.REPLAN


def test_an_absence_added_on_its_own_page_queues_the_replan(
    world, secretary, booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = secretary.post(
            f"{ADMIN}/{PAGES['absence']}/add/",
            {
                "resource": world["A"]["resource"],
                "starts_at_0": "2027-01-13",
                "starts_at_1": "09:00",
                "ends_at_0": "2027-01-13",
                "ends_at_1": "12:00",
                "reason": "sick",
            },
        )
    assert response.status_code == 302
    assert len(queued) == 1
    assert PlanProposal.objects.filter(absence__starts_at=oslo(2027, 1, 13, 9)).exists()


def test_an_absence_that_ends_before_it_starts_is_a_form_error_and_queues_nothing(
    world, secretary, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = secretary.post(
            f"{ADMIN}/{PAGES['absence']}/add/",
            {
                "resource": world["A"]["resource"],
                "starts_at_0": "2027-01-13",
                "starts_at_1": "12:00",
                "ends_at_0": "2027-01-13",
                "ends_at_1": "09:00",
                "reason": "sick",
            },
        )
    assert response.status_code == 200
    assert "Fraværet må slutte etter at det starter." in response.content.decode()
    assert not queued


# --- The pages render ------------------------------------------------------------------------


def test_every_configuration_page_renders_in_bokmal(world, secretary):
    for page, path in PAGES.items():
        listing = secretary.get(f"{ADMIN}/{path}/")
        change = secretary.get(f"{ADMIN}/{path}/{world['A'][page]}/change/")
        assert listing.status_code == change.status_code == 200, page
        assert "Lagre" in change.content.decode()
    assert secretary.get(f"{ADMIN}/{PAGES['resource']}/add/").status_code == 200
    assert secretary.get(f"{ADMIN}/{PAGES['type']}/add/").status_code == 200
    assert secretary.get(f"{ADMIN}/{PAGES['clinic']}/add/").status_code == 403


def test_working_hours_from_the_year_1_are_a_form_error_as_in_the_api(world, clinic):
    user = factories.StaffFactory.create(clinic=clinic, role=StaffRole.LEADER).user
    leader = Client(headers={"Accept-Language": "en"})
    leader.force_login(user)
    resource_id = world["A"]["resource"]
    data = form_data(resource_page(leader, resource_id))
    add_row(
        data,
        "working_hours",
        weekday="5",
        start_time="08:00",
        end_time="12:00",
        valid_from="0001-01-01",
        interval_weeks="1",
    )

    response = leader.post(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", data)

    assert response.status_code == 200
    assert "Choose a date between 2000-01-01 and 2199-12-31." in response.content.decode()
    assert not WorkingHours.objects.filter(resource_id=resource_id, weekday=5).exists()


def test_a_clinician_sees_working_hours_by_weekday_name(world, clinician_user):
    page = resource_page(clinician_user, world["A"]["resource"])
    text = page.content.decode()
    assert "mandag" in text
    assert 'name="working_hours-0-weekday"' not in text  # nothing to change


def test_a_leader_changes_the_configuration(world, clinic):
    leader = logged_in(factories.StaffFactory.create(clinic=clinic, role=StaffRole.LEADER).user)
    clinic_page = f"{ADMIN}/{PAGES['clinic']}/{world['A']['clinic']}/change/"
    data = form_data(leader.get(clinic_page))
    data["phone"] = "+4755123456"

    response = leader.post(clinic_page, data)

    assert response.status_code == 302, errors_of(response)
    clinic.refresh_from_db()
    assert clinic.phone == "+4755123456"


def test_a_secretary_here_and_clinician_there_only_reads_there(world, clinic, clinic_b):
    user = factories.StaffFactory.create(clinic=clinic, role=StaffRole.SECRETARY).user
    factories.StaffFactory.create(user=user, clinic=clinic_b, role=StaffRole.CLINICIAN)
    client = logged_in(user)
    assert shown_ids(client, "type") == {world["A"]["type"], world["B"]["type"]}
    theirs = f"{ADMIN}/{PAGES['type']}/{world['B']['type']}/change/"
    page = client.get(theirs)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(theirs, form_data(page)).status_code == 403
    form = client.get(f"{ADMIN}/{PAGES['resource']}/add/").context["adminform"].form
    assert list(form.fields["clinic"].queryset) == [clinic]  # changes only where she may


def test_a_resource_cannot_be_moved_to_another_clinic(world, secretary):
    resource_id = world["A"]["resource"]
    data = form_data(resource_page(secretary, resource_id))
    data["clinic"] = str(world["B"]["clinic"])

    response = secretary.post(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["clinic"]
    assert Resource.objects.get(pk=resource_id).clinic_id == world["A"]["clinic"]


def test_a_refusal_only_the_service_makes_is_shown_and_nothing_is_written(world, secretary):
    """Should a service refuse what the forms let through (a row changed meanwhile), the
    admin's transaction is rolled back and the refusal is shown: never a 500."""
    resource_id = world["A"]["resource"]
    data = form_data(resource_page(secretary, resource_id))
    data["name"] = "Dr. Endret"
    refusal = ValidationError("Ressursen ble endret i mellomtiden.")
    with mock.patch.object(configuration, "resource_update", side_effect=refusal):
        response = secretary.post(
            f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", data, follow=True
        )

    assert response.redirect_chain == [(f"{ADMIN}/{PAGES['resource']}/{resource_id}/change/", 302)]
    assert "Ressursen ble endret i mellomtiden." in response.content.decode()
    assert Resource.objects.get(pk=resource_id).name != "Dr. Endret"
    assert not LogEntry.objects.exists()
