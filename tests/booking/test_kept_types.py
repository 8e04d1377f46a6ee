"""Appointment types kept between requests (booking.rows.with_appointment_type) and the version
PostgreSQL renews on every change to a type (migration 0008), which a booking with a kept type
checks."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from booking.models import (
    Appointment,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    ResourceKind,
)
from booking.rows import is_kept, with_appointment_type
from tests import factories
from tests.conftest import oslo

pytestmark = pytest.mark.django_db


def version_of(appointment_type):
    return AppointmentType.objects.values_list("catalogue_version", flat=True).get(
        pk=appointment_type.pk
    )


# ---- the version, renewed by PostgreSQL on every change

CHANGES = {
    "the type itself": lambda t: AppointmentType.objects.filter(pk=t.pk).update(min_notice_hours=1),
    "the type, saved": lambda t: t.save(),
    "a new requirement": lambda t: factories.requirement(t, ResourceKind.EQUIPMENT, tag="scope"),
    "a changed requirement": lambda t: t.requirements.update(count=2),
    "a removed requirement": lambda t: t.requirements.filter(kind=ResourceKind.ROOM).delete(),
    "a new preparation": lambda t: PreparationTemplate.objects.create(
        appointment_type=t, title="Faste", timing="deadline", days_before=1
    ),
    "its clinic": lambda t: Clinic.objects.filter(pk=t.clinic_id).update(name="Ny poliklinikk"),
}


@pytest.mark.postgres
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_to_a_type_or_its_parts_gives_it_a_new_version(control_type, change):
    before = version_of(control_type)

    change(control_type)

    assert version_of(control_type) != before


@pytest.mark.postgres
def test_a_change_elsewhere_leaves_the_version(control_type):
    other = factories.AppointmentTypeFactory.create()  # another clinic
    before = version_of(control_type)

    factories.requirement(other, ResourceKind.ROOM)
    Clinic.objects.filter(pk=other.clinic_id).update(name="Annen poliklinikk")
    other.save()

    assert version_of(control_type) == before


@pytest.mark.postgres
def test_a_version_rolled_back_is_never_handed_out_again(control_type):
    with transaction.atomic():
        control_type.save()
        uncommitted = version_of(control_type)
        transaction.set_rollback(True)

    control_type.save()

    assert version_of(control_type) > uncommitted


# ---- keeping types between requests


def book(patient, appointment_type, hour):
    api = APIClient()
    api.force_login(patient.user)
    body = {
        "appointment_type": appointment_type.pk,
        "starts_at": oslo(2027, 1, 6, hour).isoformat(),
    }
    return api.post("/api/v1/appointments/", body, format="json")


@pytest.mark.postgres
def test_a_kept_type_is_not_read_again(clock, control_type, patient):
    assert book(patient, control_type, 9).status_code == 201

    with CaptureQueriesContext(connection) as queries:
        response = book(patient, control_type, 10)

    assert response.status_code == 201, response.json()
    assert not [q for q in queries if 'FROM "booking_appointmenttype" t JOIN' in q["sql"]]


def test_only_postgresql_keeps_types(clock, control_type, patient):
    """Only there does a booking check a kept type's version."""
    kept = with_appointment_type(control_type.pk, lambda t: t)

    assert is_kept(kept) == (connection.vendor == "postgresql")


@pytest.mark.postgres
def test_a_type_made_unbookable_after_it_was_kept_is_refused(clock, control_type, patient):
    assert book(patient, control_type, 9).status_code == 201

    AppointmentType.objects.filter(pk=control_type.pk).update(self_bookable=False)
    response = book(patient, control_type, 10)

    assert response.status_code == 403
    assert response.json()["code"] == "not_self_bookable"


@pytest.mark.postgres
def test_a_booking_after_a_requirement_changed_holds_what_the_type_needs_now(
    clock, control_type, patient
):
    factories.weekday_resource(control_type.clinic, ResourceKind.EQUIPMENT, ["scope"])
    assert book(patient, control_type, 9).status_code == 201

    factories.requirement(control_type, ResourceKind.EQUIPMENT, tag="scope")
    response = book(patient, control_type, 10)

    assert response.status_code == 201, response.json()
    kinds = Appointment.objects.get(starts_at=oslo(2027, 1, 6, 10)).allocations.values_list(
        "resource__kind", flat=True
    )
    assert sorted(kinds) == sorted([ResourceKind.CLINICIAN, ResourceKind.ROOM, "equipment"])


@pytest.mark.postgres
def test_a_kept_type_that_is_gone_reads_as_not_found(clock, clinic, clinician, patient):
    short_lived = factories.AppointmentTypeFactory.create(clinic=clinic)
    factories.requirement(short_lived, ResourceKind.CLINICIAN)
    kept = with_appointment_type(short_lived.pk, lambda t: t)
    AppointmentType.objects.filter(pk=kept.pk).delete()

    response = book(patient, kept, 10)

    assert response.status_code == 404
    assert not is_kept(kept)  # dropped when the booking found it changed


def test_a_type_that_changes_again_while_booking_gives_a_clear_answer(
    clock, control_type, patient, monkeypatch
):
    from booking import services
    from booking.errors import AppointmentTypeChanged

    def always_changed(**kwargs):
        raise AppointmentTypeChanged

    monkeypatch.setattr(services, "appointment_book", always_changed)
    api = APIClient()
    api.force_login(patient.user)
    body = {"appointment_type": control_type.pk, "starts_at": oslo(2027, 1, 6, 10).isoformat()}

    response = api.post("/api/v1/appointments/", body, format="json", HTTP_ACCEPT_LANGUAGE="nb")

    assert response.status_code == 409
    assert response.json()["code"] == "appointment_type_changed"
    assert "endret" in response.json()["detail"]


@pytest.mark.postgres
def test_a_time_taken_is_reported_as_taken_with_a_kept_type(clock, control_type, patient):
    assert book(patient, control_type, 9).status_code == 201  # the type is kept from here
    other = factories.PatientFactory.create()

    response = book(other, control_type, 9)  # the only clinician and room are taken

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
