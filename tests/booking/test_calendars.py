from datetime import timedelta

import pytest

from booking.calendars import busy_by_resource
from booking.models import Allocation, Appointment
from planning.core.intervals import Interval, merge
from tests import factories
from tests.conftest import oslo

pytestmark = pytest.mark.django_db

SPAN = Interval(oslo(2027, 1, 6, 8, 0), oslo(2027, 1, 6, 16, 0))


def hold(appointment_type, resource, start, end):
    appointment = Appointment.objects.create(
        patient=factories.PatientFactory.create(user=None),
        appointment_type=appointment_type,
        clinic=appointment_type.clinic,
        starts_at=start,
        ends_at=end,
    )
    Allocation.objects.create(
        appointment=appointment, resource=resource, starts_at=start, ends_at=end
    )


def test_busy_time_is_what_overlaps_the_span_merged_or_not(control_type, clinician, room):
    hold(control_type, clinician, oslo(2027, 1, 6, 7, 0), oslo(2027, 1, 6, 8, 0))  # ends at start
    hold(control_type, clinician, oslo(2027, 1, 6, 9, 0), oslo(2027, 1, 6, 9, 30))
    hold(control_type, clinician, oslo(2027, 1, 6, 9, 30), oslo(2027, 1, 6, 10, 0))  # touching
    hold(control_type, clinician, oslo(2027, 1, 6, 15, 45), oslo(2027, 1, 6, 16, 0))
    hold(control_type, clinician, oslo(2027, 1, 6, 16, 0), oslo(2027, 1, 6, 16, 30))  # at the end
    hold(control_type, room, oslo(2027, 1, 6, 7, 0), oslo(2027, 1, 6, 9, 0))  # began before

    busy = busy_by_resource([clinician.id, room.id], SPAN)

    assert merge(busy[clinician.id]) == [
        Interval(oslo(2027, 1, 6, 9, 0), oslo(2027, 1, 6, 10, 0)),
        Interval(oslo(2027, 1, 6, 15, 45), oslo(2027, 1, 6, 16, 0)),
    ]
    assert merge(busy[room.id]) == [Interval(oslo(2027, 1, 6, 7, 0), oslo(2027, 1, 6, 9, 0))]


def test_an_allocation_of_almost_a_day_that_began_the_day_before_is_busy_time(
    control_type, clinician
):
    start = SPAN.start - timedelta(hours=23)
    hold(control_type, clinician, start, SPAN.start + timedelta(minutes=1))

    busy = busy_by_resource([clinician.id], SPAN)

    assert merge(busy[clinician.id]) == [Interval(start, SPAN.start + timedelta(minutes=1))]
