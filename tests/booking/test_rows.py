"""The booking path's plain SQL (booking/rows.py) reads and writes what the ORM would."""

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_init, post_save, pre_init, pre_save
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from booking.models import (
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentType,
    EventCause,
    EventKind,
    PreparationTask,
    PreparationTemplate,
    ResourceKind,
)
from booking.rows import (
    appointment_type_with_parts,
    insert,
    insert_with_children,
    user_with_patient,
)
from notifications.models import Notification
from patients.selectors import own_patient
from tests import factories
from tests.conftest import NOW, oslo

pytestmark = pytest.mark.django_db


def as_read_by_the_orm(obj):
    return model_to_dict(type(obj).objects.get(pk=obj.pk))


def new_appointment(appointment_type, patient, hour=10):
    return Appointment(
        patient=patient,
        appointment_type=appointment_type,
        clinic=appointment_type.clinic,
        starts_at=oslo(2027, 1, 6, hour),
        ends_at=oslo(2027, 1, 6, hour, 30),
    )


def held(appointment, resource):
    return Allocation(
        appointment=appointment,
        resource=resource,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
    )


def created_event(appointment, **fields):
    return AppointmentEvent(
        appointment=appointment,
        clinic_id=appointment.clinic_id,
        appointment_type_id=appointment.appointment_type_id,
        kind=EventKind.CREATED,
        cause=EventCause.PATIENT_CHANGE,
        actor_kind=ActorKind.PATIENT,
        **fields,
    )


def test_insert_gives_each_row_its_id_in_order(control_type, patient, clinician, room):
    appointment = new_appointment(control_type, patient)
    appointment.save()
    rows = [held(appointment, resource) for resource in (clinician, room)]

    inserted = insert(rows)

    assert [a.pk for a in inserted] == sorted(a.pk for a in inserted)
    assert [as_read_by_the_orm(a) for a in inserted] == [model_to_dict(a) for a in rows]
    assert all(not a._state.adding for a in inserted)


def test_insert_fills_auto_now_fields_and_writes_json(clock, control_type, patient):
    (appointment,) = insert([new_appointment(control_type, patient)])
    event = created_event(appointment, new_resource_ids=[3, 1], new_starts_at=appointment.starts_at)

    (event,) = insert([event])

    stored = AppointmentEvent.objects.get(pk=event.pk)
    assert (stored.occurred_at, stored.new_resource_ids, stored.old_resource_ids) == (
        NOW,
        [3, 1],
        [],
    )
    assert Appointment.objects.get(pk=appointment.pk).created_at == NOW == appointment.created_at
    assert model_to_dict(stored) == model_to_dict(event)


def test_insert_of_nothing_sends_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert insert([]) == []
    assert len(queries) == 0


def test_a_parent_and_its_children_are_written_together(
    clock, control_type, patient, clinician, room
):
    appointment = new_appointment(control_type, patient)
    allocations = [held(appointment, r) for r in (clinician, room)]
    created = created_event(appointment)

    insert_with_children(appointment, allocations, [], [created])

    stored = Appointment.objects.get()
    assert stored.pk == appointment.pk
    assert [a.pk for a in allocations] == list(
        stored.allocations.order_by("resource_id").values_list("pk", flat=True)
    )
    assert AppointmentEvent.objects.get().pk == created.pk
    with CaptureQueriesContext(connection) as queries:  # each child keeps its parent cached
        assert all(a.appointment is appointment for a in allocations)
        assert created.appointment is appointment
    assert len(queries) == 0
    assert [as_read_by_the_orm(a) for a in allocations] == [model_to_dict(a) for a in allocations]
    assert model_to_dict(Appointment.objects.get()) == model_to_dict(appointment)


def test_a_broken_child_writes_nothing(control_type, patient, clinician):
    appointment = new_appointment(control_type, patient)
    twice = [held(appointment, clinician) for _ in range(2)]

    with pytest.raises(IntegrityError), transaction.atomic():  # one resource once per appointment
        insert_with_children(appointment, twice)

    assert not Appointment.objects.exists()
    assert not Allocation.objects.exists()


@pytest.fixture
def type_with_parts(control_type):
    factories.requirement(control_type, ResourceKind.EQUIPMENT, tag="scope", count=2)
    for title, days in [("Medisinliste", 5), ("Tarmtømming", 7), ("Faste", 1), ("Skjema", 5)]:
        PreparationTemplate.objects.create(
            appointment_type=control_type, title=title, timing="deadline", days_before=days
        )
    control_type.self_bookable = False  # a boolean that SQLite stores as 0
    control_type.save()
    return control_type


def test_a_type_is_read_with_its_parts_as_the_orm_reads_them(type_with_parts):
    orm = AppointmentType.objects.select_related("clinic").get(pk=type_with_parts.pk)

    with CaptureQueriesContext(connection) as queries:
        read = appointment_type_with_parts(type_with_parts.pk)
        assert read is not None
        parts = (
            model_to_dict(read),
            model_to_dict(read.clinic),
            [model_to_dict(r) for r in read.requirements.all()],
            [model_to_dict(p) for p in read.preparations.all()],
        )
    assert len(queries) == 1
    assert parts == (
        model_to_dict(orm),
        model_to_dict(orm.clinic),
        [model_to_dict(r) for r in orm.requirements.all()],
        [model_to_dict(p) for p in orm.preparations.all()],
    )
    assert read.self_bookable is False
    assert [p.days_before for p in read.preparations.all()] == [7, 5, 5, 1]


def test_a_type_without_parts_has_empty_lists(clinic):
    bare = factories.AppointmentTypeFactory.create(clinic=clinic)

    read = appointment_type_with_parts(bare.pk)

    assert read is not None
    assert (list(read.requirements.all()), list(read.preparations.all())) == ([], [])


def test_an_unknown_type_reads_as_none(control_type):
    assert appointment_type_with_parts(control_type.pk + 1000) is None


# What a booking costs in statements, so that a change adding one shows up here. On PostgreSQL:
# the user with its patient, the type with its parts, the free resources with their working
# hours, and one statement writing the appointment, its allocations, preparation tasks,
# history row and notices (the outbox's rows). SQLite has no exclusion constraints, so it also
# asks whether the patient is free; it reads every candidate's calendar instead of only the free
# ones (resources, working hours, absences and allocations), and writes one table at a time.
BOOKING_STATEMENTS = {"postgresql": 4, "sqlite": 12}


@pytest.fixture
def bookable_type(type_with_parts):
    """The type with parts, self-bookable, with the two scopes it needs besides its staff."""
    type_with_parts.self_bookable = True
    type_with_parts.save()
    for _ in range(2):
        factories.weekday_resource(type_with_parts.clinic, ResourceKind.EQUIPMENT, ["scope"])
    return type_with_parts


def logged_in(patient):
    api = APIClient()
    api.force_login(patient.user)
    return api


def test_a_booking_takes_a_known_number_of_statements(clock, bookable_type, patient):
    api = logged_in(patient)
    body = {"appointment_type": bookable_type.pk, "starts_at": "2027-01-06T10:00:00+01:00"}

    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/v1/appointments/", body, format="json")

    assert response.status_code == 201, response.json()
    statements = [  # the session is in the cache or in the database, by the settings
        q["sql"]
        for q in queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN"))
        and "django_session" not in q["sql"]
    ]
    assert len(statements) == BOOKING_STATEMENTS[connection.vendor], "\n".join(statements)
    assert len(response.json()["preparation_tasks"]) == 4
    assert Appointment.objects.get().allocations.count() == 4
    assert Appointment.objects.get().notifications.count() == 2  # the SMS, its one reminder


def prepared_statements():
    with connection.cursor() as db:
        db.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in db.fetchall()]


# psycopg prepares a statement when it runs for the fifth time on a connection (the settings).
PREPARED_AFTER = 5


@pytest.mark.postgres
def test_on_postgresql_the_booking_path_is_prepared_and_reads_the_same(
    clock, bookable_type, patient
):
    User.objects.filter(pk=patient.user_id).update(last_login=NOW)
    api = logged_in(patient)
    for hour in range(8, 9 + PREPARED_AFTER):
        starts_at = oslo(2027, 1, 6, hour).isoformat()
        body = {"appointment_type": bookable_type.pk, "starts_at": starts_at}
        response = api.post("/api/v1/appointments/", body, format="json")
        assert response.status_code == 201, response.json()
        user = user_with_patient(patient.user_id)
        read_type = appointment_type_with_parts(bookable_type.pk)

    prepared = prepared_statements()
    for marker in ('FROM "auth_user" u', 'FROM "booking_appointmenttype" t JOIN', "JOIN LATERAL"):
        assert [s for s in prepared if marker in s], f"{marker} not prepared"
    assert [s for s in prepared if s.startswith('WITH parent AS (INSERT INTO "booking_app')]
    # Read through the prepared statements, still as the ORM reads them.
    assert user is not None
    assert read_type is not None
    assert model_to_dict(user) == model_to_dict(User.objects.get(pk=patient.user_id))
    assert user.last_login == NOW
    assert model_to_dict(read_type) == model_to_dict(AppointmentType.objects.get(pk=read_type.pk))
    booked = Appointment.objects.order_by("starts_at")
    assert [a.starts_at for a in booked] == [oslo(2027, 1, 6, h) for h in range(8, 14)]
    assert {a.allocations.count() for a in booked} == {4}


def test_a_user_is_read_with_their_patient_as_the_orm_reads_them(clock, patient):
    User.objects.filter(pk=patient.user_id).update(last_login=NOW)  # a datetime to convert

    with CaptureQueriesContext(connection) as queries:
        user = user_with_patient(patient.user_id)
        assert user is not None
        own = own_patient(user)
        assert own is not None
        assert own.user is user
    assert len(queries) == 1
    assert model_to_dict(user) == model_to_dict(User.objects.get(pk=patient.user_id))
    assert user.last_login == NOW
    assert timezone.is_aware(user.last_login)
    assert model_to_dict(own) == model_to_dict(patient)


def test_a_user_without_a_patient_record_is_known_to_have_none():
    staff = User.objects.create_user("sekretaer")

    with CaptureQueriesContext(connection) as queries:
        user = user_with_patient(staff.pk)
        assert user is not None
        assert own_patient(user) is None
    assert len(queries) == 1
    assert user_with_patient(staff.pk + 1000) is None


@pytest.mark.parametrize(
    "model", [Appointment, Allocation, PreparationTask, AppointmentEvent, Notification]
)
def test_the_models_written_with_plain_inserts_have_no_signal_receivers(model):
    """insert() and insert_with_children() send no model signals: a receiver added to one of the
    booking path's models would silently miss every booking."""
    assert not any(
        signal.has_listeners(model) for signal in (pre_save, post_save, pre_init, post_init)
    )
