"""Concurrency and database guards on a real PostgreSQL server.

Threads start together at a barrier and act through the booking services (or the HTTP API in
process), each on its own database connection, which it closes at the end. The exclusion
constraints are checked directly with raw SQL, so they hold whatever the application does.
"""

import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from booking import services
from booking.errors import MaxChangesReached, SlotUnavailable
from booking.models import (
    HOLDING_STATUSES,
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    AppointmentType,
    EventKind,
    ResourceKind,
)
from booking.services import (
    SYSTEM,
    Actor,
    _constraint_errors,
    appointment_book,
    appointment_reschedule,
)
from patients.models import Patient
from tests import factories
from tests.conftest import NOW, oslo

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12
# Wednesday of the test clock's week, inside working hours and on the 15-minute grid.
SLOT = oslo(2027, 1, 6, 10, 0)

OVERLAPPING_ALLOCATIONS_SQL = """
    SELECT count(*)
    FROM booking_allocation a
    JOIN booking_allocation b
      ON a.resource_id = b.resource_id
     AND a.id < b.id
     AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
"""


# --------------------------------------------------------------------------- helpers


def run_together(preparers: list[Callable[[], Callable[[], Any]]]) -> list[tuple[str, Any]]:
    """Run each preparer in its own thread, then the action it returns, all actions at once.

    Preparation (re-reading rows on the thread's own connection) happens before the barrier, so
    the actions really race. Returns ("ok", value) or ("error", exception) per thread, in order.
    """
    barrier = threading.Barrier(len(preparers))
    results: list[tuple[str, Any]] = [("missing", None)] * len(preparers)

    def worker(index: int, prepare: Callable[[], Callable[[], Any]]) -> None:
        try:
            action = prepare()
            barrier.wait(timeout=15)
            results[index] = ("ok", action())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, p)) for i, p in enumerate(preparers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def oks(results: list[tuple[str, Any]]) -> list[Any]:
    return [value for outcome, value in results if outcome == "ok"]


def errors(results: list[tuple[str, Any]]) -> list[BaseException]:
    return [value for outcome, value in results if outcome == "error"]


def overlapping_allocations() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPPING_ALLOCATIONS_SQL)
        return int(cursor.fetchone()[0])


def fresh_type(pk: int) -> AppointmentType:
    return AppointmentType.objects.select_related("clinic").get(pk=pk)


def patient_actor(patient: Patient) -> Actor:
    return Actor(user=patient.user, kind=ActorKind.PATIENT)


def new_patients(n: int) -> list[Patient]:
    # An unusable password keeps user creation fast (no password hashing).
    return [factories.PatientFactory.create(user__password=None) for _ in range(n)]


def allocations_of(appointment: Appointment) -> set[tuple[int, datetime, datetime]]:
    return set(
        Allocation.objects.filter(appointment=appointment).values_list(
            "resource_id", "starts_at", "ends_at"
        )
    )


def constraint_of(exc: pytest.ExceptionInfo[IntegrityError]) -> str:
    return str(exc.value.__cause__.diag.constraint_name)  # type: ignore[union-attr]


@pytest.fixture
def resources(clinician, room):
    return {clinician.id, room.id}


# --------------------------------------------------------------------------- booking races


def test_many_threads_booking_one_slot_exactly_one_wins(control_type, resources):
    patients = new_patients(THREADS)

    def preparer(patient: Patient) -> Callable[[], Callable[[], Any]]:
        def prepare() -> Callable[[], Any]:
            appointment_type = fresh_type(control_type.pk)
            me = Patient.objects.select_related("user").get(pk=patient.pk)
            return lambda: appointment_book(
                patient=me,
                appointment_type=appointment_type,
                starts_at=SLOT,
                actor=patient_actor(me),
                now=NOW,
            )

        return prepare

    results = run_together([preparer(p) for p in patients])

    assert len(oks(results)) == 1, results
    failures = errors(results)
    assert len(failures) == THREADS - 1
    assert all(isinstance(exc, SlotUnavailable) for exc in failures), failures
    assert {exc.code for exc in failures} == {"slot_unavailable"}  # type: ignore[attr-defined]

    winner = oks(results)[0]
    assert list(Appointment.objects.values_list("pk", flat=True)) == [winner.pk]
    assert allocations_of(winner) == {
        (rid, SLOT, SLOT + timedelta(minutes=30)) for rid in resources
    }
    assert Allocation.objects.count() == 2
    assert AppointmentEvent.objects.filter(kind=EventKind.CREATED).count() == 1
    assert overlapping_allocations() == 0


def test_many_clients_posting_one_slot_get_one_201_and_409s(clock, control_type, resources):
    patients = new_patients(THREADS)
    clients = []
    for patient in patients:
        client = APIClient()
        client.force_login(patient.user)  # type: ignore[arg-type]
        clients.append(client)
    payload = {"appointment_type": control_type.pk, "starts_at": SLOT.isoformat()}

    def preparer(client: APIClient) -> Callable[[], Callable[[], Any]]:
        def prepare() -> Callable[[], Any]:
            return lambda: client.post("/api/v1/appointments/", payload, format="json")

        return prepare

    results = run_together([preparer(c) for c in clients])

    assert not errors(results), errors(results)
    responses = oks(results)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (THREADS - 1), [
        (r.status_code, r.content) for r in responses
    ]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_unavailable"}
    created = next(r.json() for r in responses if r.status_code == 201)
    winner = Appointment.objects.get()
    assert created["id"] == winner.pk
    assert winner.starts_at == SLOT
    assert {rid for rid, _, _ in allocations_of(winner)} == resources
    assert overlapping_allocations() == 0


def test_a_deadlock_between_two_inserters_is_a_lost_race_not_a_server_error(
    clinic, control_type, clinician, room
):
    """Two transactions that each hold one resource and then reach for the other's deadlock;
    the server aborts one. That one must come out as "slot unavailable" (409, and retried by
    the booking services), never as an OperationalError (500)."""
    first, second = (
        Appointment.objects.create(
            patient=factories.PatientFactory.create(user=None),
            appointment_type=control_type,
            clinic=clinic,
            starts_at=SLOT,
            ends_at=SLOT + timedelta(minutes=30),
        )
        for _ in range(2)
    )
    both_hold_one = threading.Barrier(2)

    def crosswise(appointment: Appointment, mine: int, theirs: int) -> Callable[[], Any]:
        def insert(resource_id: int) -> None:
            Allocation.objects.create(
                appointment=appointment,
                resource_id=resource_id,
                starts_at=SLOT,
                ends_at=SLOT + timedelta(minutes=30),
            )

        def act() -> None:
            with transaction.atomic(), _constraint_errors():
                insert(mine)
                both_hold_one.wait(timeout=15)
                insert(theirs)

        return lambda: act

    results = run_together(
        [crosswise(first, clinician.pk, room.pk), crosswise(second, room.pk, clinician.pk)]
    )

    assert len(oks(results)) == 1, results
    [lost] = errors(results)
    assert isinstance(lost, SlotUnavailable), repr(lost)
    assert overlapping_allocations() == 0


# --------------------------------------------------------------------------- constraints


def insert_allocation(
    appointment_id: int, resource_id: int, start: datetime, end: datetime
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO booking_allocation (appointment_id, resource_id, starts_at, ends_at) "
            "VALUES (%s, %s, %s, %s)",
            [appointment_id, resource_id, start, end],
        )


def insert_appointment(
    patient: Patient, appointment_type: AppointmentType, start: datetime, end: datetime, status: str
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO booking_appointment (patient_id, appointment_type_id, clinic_id, "
            "starts_at, ends_at, status, patient_change_count, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, 0, now(), now())",
            [patient.pk, appointment_type.pk, appointment_type.clinic_id, start, end, status],
        )


def test_raw_overlapping_allocation_is_rejected_touching_one_accepted(
    clinic, control_type, clinician, room, patient
):
    booked = appointment_book(
        patient=patient, appointment_type=control_type, starts_at=SLOT, actor=SYSTEM, now=NOW
    )
    other = Appointment.objects.create(
        patient=factories.PatientFactory.create(user=None),
        appointment_type=control_type,
        clinic=clinic,
        starts_at=SLOT + timedelta(minutes=15),
        ends_at=SLOT + timedelta(minutes=45),
    )
    half_hour = timedelta(minutes=30)

    for start, end in [
        (SLOT + timedelta(minutes=15), SLOT + timedelta(minutes=45)),  # overlaps the end
        (SLOT - timedelta(minutes=15), SLOT + timedelta(minutes=1)),  # overlaps the start
        (SLOT, SLOT + half_hour),  # the very same time
        (SLOT + timedelta(minutes=5), SLOT + timedelta(minutes=10)),  # inside
        (SLOT - half_hour, SLOT + 2 * half_hour),  # around
    ]:
        with pytest.raises(IntegrityError) as exc:
            insert_allocation(other.pk, clinician.pk, start, end)
        assert constraint_of(exc) == "resource_not_double_booked", (start, end)

    # Half-open ranges: ending where the other starts, or starting where it ends, is no overlap.
    insert_allocation(other.pk, clinician.pk, SLOT + half_hour, SLOT + 2 * half_hour)
    insert_allocation(other.pk, room.pk, SLOT - half_hour, SLOT)
    # Another resource at the very same time is free.
    second_clinician = factories.weekday_resource(clinic, ResourceKind.CLINICIAN)
    insert_allocation(booked.pk, second_clinician.pk, SLOT, SLOT + half_hour)

    assert Allocation.objects.count() == 5
    assert overlapping_allocations() == 0


def test_raw_overlapping_appointments_of_one_patient_are_rejected_unless_not_holding(
    control_type, patient
):
    end = SLOT + timedelta(minutes=30)
    insert_appointment(patient, control_type, SLOT, end, AppointmentStatus.BOOKED)
    overlap = (SLOT + timedelta(minutes=15), end + timedelta(minutes=15))

    for status in HOLDING_STATUSES:
        with pytest.raises(IntegrityError) as exc:
            insert_appointment(patient, control_type, *overlap, status)
        assert constraint_of(exc) == "patient_not_in_two_appointments_at_once", status

    not_holding: list[str] = [s for s in AppointmentStatus.values if s not in HOLDING_STATUSES]
    assert AppointmentStatus.CANCELLED in not_holding
    for code in not_holding:
        insert_appointment(patient, control_type, *overlap, code)
    # Touching times and other patients at the same time are fine.
    insert_appointment(
        patient, control_type, end, end + timedelta(minutes=30), AppointmentStatus.BOOKED
    )
    insert_appointment(
        patient, control_type, SLOT - timedelta(minutes=30), SLOT, AppointmentStatus.PENDING
    )
    insert_appointment(
        factories.PatientFactory.create(user=None),
        control_type,
        SLOT,
        end,
        AppointmentStatus.BOOKED,
    )

    assert Appointment.objects.filter(patient=patient).count() == 3 + len(not_holding)
    # And a holding appointment cannot be revived into an overlap by an UPDATE either.
    cancelled = Appointment.objects.get(patient=patient, status=AppointmentStatus.CANCELLED)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.BOOKED)
    assert constraint_of(exc) == "patient_not_in_two_appointments_at_once"


# --------------------------------------------------------------------------- reschedule races


def assert_history_chain(appointment: Appointment) -> list[AppointmentEvent]:
    """Created, then reschedules each starting where the previous one ended, ending at the
    appointment's time and resources."""
    events = list(AppointmentEvent.objects.filter(appointment=appointment).order_by("id"))
    assert events[0].kind == EventKind.CREATED
    for before, after in itertools.pairwise(events):
        assert after.kind == EventKind.RESCHEDULED
        assert (after.old_starts_at, after.old_ends_at) == (
            before.new_starts_at,
            before.new_ends_at,
        )
        assert after.old_resource_ids == before.new_resource_ids
    appointment.refresh_from_db()
    last = events[-1]
    assert (last.new_starts_at, last.new_ends_at) == (appointment.starts_at, appointment.ends_at)
    assert last.new_resource_ids == sorted(
        Allocation.objects.filter(appointment=appointment).values_list("resource_id", flat=True)
    )
    return events


def test_two_concurrent_reschedules_of_one_appointment_end_at_one_time(
    control_type, resources, patient
):
    appointment = appointment_book(
        patient=patient,
        appointment_type=control_type,
        starts_at=oslo(2027, 1, 6, 9, 0),
        actor=SYSTEM,
        now=NOW,
    )
    targets = [oslo(2027, 1, 6, 12, 0), oslo(2027, 1, 6, 14, 15)]

    def preparer(target: datetime) -> Callable[[], Callable[[], Any]]:
        def prepare() -> Callable[[], Any]:
            mine = Appointment.objects.get(pk=appointment.pk)
            return lambda: appointment_reschedule(
                appointment=mine, starts_at=target, actor=SYSTEM, now=NOW
            )

        return prepare

    results = run_together([preparer(t) for t in targets])

    # The row lock queues them up: both moves happen, one after the other.
    assert not errors(results), errors(results)
    assert Appointment.objects.count() == 1
    appointment.refresh_from_db()
    assert appointment.starts_at in targets
    assert appointment.status == AppointmentStatus.BOOKED
    end = appointment.starts_at + timedelta(minutes=30)
    assert allocations_of(appointment) == {(rid, appointment.starts_at, end) for rid in resources}
    assert Allocation.objects.count() == 2
    events = assert_history_chain(appointment)
    assert [e.kind for e in events] == [EventKind.CREATED] + [EventKind.RESCHEDULED] * 2
    first_move, last_move = events[1], events[2]
    assert {first_move.new_starts_at, last_move.new_starts_at} == set(targets)
    assert last_move.new_starts_at == appointment.starts_at
    assert overlapping_allocations() == 0


def test_concurrent_patient_reschedules_respect_the_change_limit(control_type, patient):
    assert control_type.max_patient_changes == 2
    appointment = appointment_book(
        patient=patient,
        appointment_type=control_type,
        starts_at=oslo(2027, 1, 6, 9, 0),
        actor=patient_actor(patient),
        now=NOW,
    )
    targets = [oslo(2027, 1, 6, hour, 0) for hour in (11, 12, 13, 14, 15)]

    def preparer(target: datetime) -> Callable[[], Callable[[], Any]]:
        def prepare() -> Callable[[], Any]:
            mine = Appointment.objects.select_related("patient__user").get(pk=appointment.pk)
            return lambda: appointment_reschedule(
                appointment=mine, starts_at=target, actor=patient_actor(mine.patient), now=NOW
            )

        return prepare

    results = run_together([preparer(t) for t in targets])

    # No lost update of the change counter: exactly max_patient_changes moves get through.
    assert len(oks(results)) == 2, results
    assert all(isinstance(exc, MaxChangesReached) for exc in errors(results)), errors(results)
    appointment.refresh_from_db()
    assert appointment.patient_change_count == 2
    assert appointment.starts_at in targets
    events = assert_history_chain(appointment)
    assert len(events) == 3
    assert Allocation.objects.count() == 2
    assert overlapping_allocations() == 0


def test_two_appointments_rescheduled_into_one_slot_one_keeps_its_old_time(control_type, resources):
    first, second = new_patients(2)
    times = {
        "a": oslo(2027, 1, 6, 9, 0),
        "b": oslo(2027, 1, 6, 11, 0),
    }
    appointments = {
        key: appointment_book(
            patient=p, appointment_type=control_type, starts_at=times[key], actor=SYSTEM, now=NOW
        )
        for key, p in (("a", first), ("b", second))
    }
    target = oslo(2027, 1, 6, 13, 0)

    def preparer(appointment: Appointment) -> Callable[[], Callable[[], Any]]:
        def prepare() -> Callable[[], Any]:
            mine = Appointment.objects.get(pk=appointment.pk)
            return lambda: appointment_reschedule(
                appointment=mine, starts_at=target, actor=SYSTEM, now=NOW
            )

        return prepare

    results = run_together([preparer(a) for a in appointments.values()])

    assert len(oks(results)) == 1, results
    (failure,) = errors(results)
    assert isinstance(failure, SlotUnavailable), failure
    winner = oks(results)[0]
    (loser_key,) = [k for k, a in appointments.items() if a.pk != winner.pk]
    loser = appointments[loser_key]
    loser.refresh_from_db()
    winner.refresh_from_db()

    assert winner.starts_at == target
    assert allocations_of(winner) == {
        (rid, target, target + timedelta(minutes=30)) for rid in resources
    }
    old = times[loser_key]
    assert (loser.starts_at, loser.status, loser.patient_change_count) == (
        old,
        AppointmentStatus.BOOKED,
        0,
    )
    assert allocations_of(loser) == {(rid, old, old + timedelta(minutes=30)) for rid in resources}
    assert Allocation.objects.count() == 4
    assert [e.kind for e in assert_history_chain(winner)] == [
        EventKind.CREATED,
        EventKind.RESCHEDULED,
    ]
    assert [e.kind for e in assert_history_chain(loser)] == [EventKind.CREATED]
    assert overlapping_allocations() == 0


# --------------------------------------------------------------------------- history


def test_history_rows_cannot_be_updated_or_deleted_with_raw_sql(control_type, patient):
    appointment = appointment_book(
        patient=patient, appointment_type=control_type, starts_at=SLOT, actor=SYSTEM, now=NOW
    )
    event = AppointmentEvent.objects.get(appointment=appointment)

    for sql in (
        "UPDATE booking_appointmentevent SET note = 'rewritten' WHERE id = %s",
        "UPDATE booking_appointmentevent SET kind = 'cancelled' WHERE id = %s",
        "DELETE FROM booking_appointmentevent WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])

    stored = AppointmentEvent.objects.get(pk=event.pk)
    assert (stored.kind, stored.note) == (EventKind.CREATED, "")
    # Appending stays possible.
    appointment_reschedule(
        appointment=appointment, starts_at=SLOT + timedelta(hours=1), actor=SYSTEM, now=NOW
    )
    assert AppointmentEvent.objects.filter(appointment=appointment).count() == 2


def test_raw_allocation_longer_than_a_day_is_rejected(clinic, control_type, patient):
    """Reads of busy time bound starts_at by this (booking.calendars)."""
    booked = appointment_book(
        patient=patient, appointment_type=control_type, starts_at=SLOT, actor=SYSTEM, now=NOW
    )
    later = SLOT + timedelta(days=2)
    other_clinician = factories.weekday_resource(clinic, ResourceKind.CLINICIAN)

    with pytest.raises(IntegrityError) as exc:
        insert_allocation(
            booked.pk, other_clinician.pk, later, later + timedelta(hours=24, seconds=1)
        )
    assert constraint_of(exc) == "allocation_at_most_max_length"
    insert_allocation(booked.pk, other_clinician.pk, later, later + timedelta(hours=24))


def test_a_booking_outside_a_transaction_opens_none_and_still_retries_a_lost_race(
    monkeypatch, clinic, control_type, clinician, room, patient
):
    """On PostgreSQL a booking's only write is one statement, so it runs without BEGIN and
    COMMIT around it. A room taken between the choice and the write is still a lost race that
    is retried with the other room."""
    other_room = factories.weekday_resource(clinic, ResourceKind.ROOM)
    rooms = {room.pk, other_room.pk}
    counting = {"on": False, "opened": 0}
    real_enter = transaction.Atomic.__enter__

    def counted_enter(self: transaction.Atomic) -> None:
        counting["opened"] += counting["on"]
        real_enter(self)

    monkeypatch.setattr(transaction.Atomic, "__enter__", counted_enter)
    first_choice: list[int] = []
    real_allocations = services._allocations

    def taken_after_choosing(appointment, resource_ids=None):
        allocations = real_allocations(appointment, resource_ids)
        if not first_choice:  # another booking takes the chosen room right now
            (taken,) = {a.resource_id for a in allocations} & rooms
            first_choice.append(taken)
            counting["on"] = False
            take_room(control_type, taken)
            counting["on"] = True
        return allocations

    monkeypatch.setattr(services, "_allocations", taken_after_choosing)
    counting["on"] = True

    booked = appointment_book(
        patient=patient,
        appointment_type=fresh_type(control_type.pk),
        starts_at=SLOT,
        actor=patient_actor(patient),
        now=NOW,
    )

    counting["on"] = False
    assert counting["opened"] == 0
    assert {a.resource_id for a in booked.allocations.all()} == {clinician.pk} | (
        rooms - set(first_choice)
    )
    assert overlapping_allocations() == 0


def take_room(appointment_type: AppointmentType, room_id: int) -> None:
    """Another patient's appointment holding the room at SLOT, written behind the services."""
    other = factories.PatientFactory.create(user=None)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO booking_appointment (patient_id, appointment_type_id, clinic_id, "
            "starts_at, ends_at, status, patient_change_count, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, 'booked', 0, now(), now()) RETURNING id",
            [
                other.pk,
                appointment_type.pk,
                appointment_type.clinic_id,
                SLOT,
                SLOT + timedelta(minutes=30),
            ],
        )
        (appointment_id,) = cursor.fetchone()
    insert_allocation(appointment_id, room_id, SLOT, SLOT + timedelta(minutes=30))
