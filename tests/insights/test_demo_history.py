"""The demo's year of history gives every figure of the leaders' dashboard something to show."""

from datetime import timedelta
from io import StringIO
from itertools import pairwise

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from booking.management.commands.load_demo_data import is_holiday
from booking.models import (
    HOLDING_STATUSES,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    EventCause,
    EventKind,
)
from insights.figures import Resolution, dashboard, scope_for
from planning.models import BookingTask
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    with time_machine.travel(NOW, tick=False):
        out = StringIO()
        call_command("load_demo_data", stdout=out)
        yield out.getvalue()


def test_every_figure_of_the_past_year_has_a_value(demo):
    today = timezone.localdate()
    leader = get_user_model().objects.get(username="leder")
    scope = scope_for(
        leader,
        first=today - timedelta(days=365),
        last=today - timedelta(days=1),
        resolution=Resolution.MONTH,
    )

    board = dashboard(scope)

    assert 2000 <= board.appointments <= 5000
    empty = [f.key for f in board.figures if not f.total.value]
    assert empty == []

    def total(key: str) -> float:
        value = board.figure(key).total.value
        assert value is not None
        return float(value)

    assert 0.05 <= total("replanned_share") <= 0.2
    assert 0.02 <= total("no_show_rate") <= 0.08
    uptake = [cell.value or 0.0 for cell in board.figure("booked_by_patient").by_bucket]
    assert uptake[1] < uptake[-2]  # self-booking catches on through the year


def test_the_history_is_written_as_the_services_write_it(demo):
    now = timezone.now()
    past = Appointment.objects.filter(starts_at__lt=now)
    assert not past.filter(status__in=HOLDING_STATUSES, allocations__isnull=True).exists()
    assert not Allocation.objects.filter(appointment__status=AppointmentStatus.CANCELLED).exists()
    # Each appointment's history starts with its creation, in the order it happened.
    created = AppointmentEvent.objects.filter(kind=EventKind.CREATED)
    assert created.count() == Appointment.objects.count()
    assert not AppointmentEvent.objects.filter(occurred_at__gt=now).exists()
    for appointment in past.order_by("?")[:200]:
        events = list(appointment.events.order_by("occurred_at", "id"))
        assert events[0].kind == EventKind.CREATED
        assert all(a.occurred_at <= b.occurred_at for a, b in pairwise(events))
        assert appointment.created_at == events[0].occurred_at
    fills = AppointmentEvent.objects.filter(cause=EventCause.WAITLIST_FILL)
    assert fills.exists()
    for fill in fills:
        assert fill.new_starts_at is not None
        assert fill.old_starts_at is not None
        assert fill.new_starts_at < fill.old_starts_at
    assert BookingTask.objects.filter(chosen_after_more_times=True).exists()
    assert BookingTask.objects.filter(created_at__lt=now - timedelta(days=300)).exists()


def test_the_past_appointments_are_on_the_grid_in_working_hours(demo):
    for appointment in Appointment.objects.select_related("appointment_type"):
        local = timezone.localtime(appointment.starts_at)
        assert local.minute % appointment.appointment_type.grid_minutes == 0
        assert 8 <= local.hour < 16
        assert local.weekday() < 5
        assert not is_holiday(local.date())


def test_no_resource_is_held_twice_at_once(demo):
    by_resource: dict[int, list[Allocation]] = {}
    for allocation in Allocation.objects.order_by("starts_at"):
        by_resource.setdefault(allocation.resource_id, []).append(allocation)
    for allocations in by_resource.values():
        for earlier, later in pairwise(allocations):
            assert earlier.ends_at <= later.starts_at
