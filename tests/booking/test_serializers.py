from datetime import timedelta
from typing import Any

import pytest
from rest_framework import serializers

from booking import services
from booking.api.serializers import AppointmentSerializer
from booking.models import ActorKind, Appointment, PreparationTemplate, PreparationTiming
from tests.conftest import NOW, oslo

pytestmark = pytest.mark.django_db


def drf_output(appointment: Appointment) -> dict[str, Any]:
    """What DRF makes of AppointmentSerializer's declared fields, without the hand-written path."""
    return dict(serializers.ModelSerializer.to_representation(AppointmentSerializer(), appointment))


def book(patient, appointment_type):
    return services.appointment_book(
        patient=patient,
        appointment_type=appointment_type,
        starts_at=oslo(2027, 1, 6, 10, 0),
        actor=services.Actor(user=patient.user, kind=ActorKind.PATIENT),
        now=NOW,
    )


def test_the_hand_written_appointment_is_what_drf_would_make(patient, control_type):
    for days_before, timing in [(3, PreparationTiming.DEADLINE), (1, PreparationTiming.START)]:
        PreparationTemplate.objects.create(
            appointment_type=control_type,
            title="Faste",
            instructions="Ikke spis",
            timing=timing,
            days_before=days_before,
        )
    appointment = book(patient, control_type)
    task = appointment.preparation_tasks.first()
    assert task is not None
    task.done_at = NOW + timedelta(minutes=5)
    task.save()

    assert AppointmentSerializer(appointment).data == drf_output(appointment)
    assert AppointmentSerializer(appointment).data["preparation_tasks"][0]["done"] is True


def test_the_hand_written_cancelled_appointment_is_what_drf_would_make(patient, control_type):
    appointment = services.appointment_cancel(
        appointment=book(patient, control_type), actor=services.SYSTEM, now=NOW
    )

    assert AppointmentSerializer(appointment).data == drf_output(appointment)
    assert AppointmentSerializer(appointment).data["can_change_until"] is None
