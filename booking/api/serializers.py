from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from booking.api import fields
from booking.models import (
    CHANGEABLE_STATUSES,
    LAST_DAY,
    Appointment,
    AppointmentType,
    PreparationTask,
    PreparationTemplate,
)
from booking.selectors import MAX_SEARCH_DAYS
from patients.models import Patient


class PatientSummarySerializer(serializers.ModelSerializer[Patient]):
    name = serializers.CharField(source="full_name")

    class Meta:
        model = Patient
        fields = ["id", "name", "birth_date", "preferred_language"]


class PreparationTemplateSerializer(serializers.ModelSerializer[PreparationTemplate]):
    class Meta:
        model = PreparationTemplate
        fields = ["id", "title", "instructions", "timing", "days_before"]


class AppointmentTypePublicSerializer(serializers.ModelSerializer[AppointmentType]):
    """What a patient sees of a type: the neutral name, never the internal one."""

    name = serializers.CharField(source="display_name")
    clinic = serializers.CharField(source="clinic.name")
    preparations = PreparationTemplateSerializer(many=True)

    class Meta:
        model = AppointmentType
        fields = [
            "id",
            "name",
            "clinic",
            "location",
            "contact_mode",
            "duration_minutes",
            "min_notice_hours",
            "booking_horizon_days",
            "change_cutoff_hours",
            "max_patient_changes",
            "preparations",
        ]


class SlotSearchSerializer(serializers.Serializer[Any]):
    date_from = fields.DateField(required=False, help_text="First day, clinic local time.")
    date_to = fields.DateField(required=False, help_text="Last day (inclusive).")
    patient = fields.IdField(required=False, help_text="Book for this patient (proxy).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        attrs.setdefault("date_from", today)
        if "date_to" not in attrs:
            attrs["date_to"] = min(attrs["date_from"] + timedelta(days=13), LAST_DAY)
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError(
                {"date_to": _("The last day must not be before the first day.")}
            )
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_SEARCH_DAYS:
            raise serializers.ValidationError(
                {
                    "date_to": _("Search at most %(days)d days at a time.")
                    % {"days": MAX_SEARCH_DAYS}
                }
            )
        return attrs


class SlotSerializer(serializers.Serializer[Any]):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class PreparationTaskSerializer(serializers.ModelSerializer[PreparationTask]):
    done = serializers.BooleanField(source="is_done", read_only=True)

    class Meta:
        model = PreparationTask
        fields = [
            "id",
            "appointment",
            "title",
            "instructions",
            "timing",
            "due_date",
            "done",
            "done_at",
        ]


class PreparationTaskUpdateSerializer(serializers.Serializer[Any]):
    done = serializers.BooleanField()


class AppointmentSerializer(serializers.ModelSerializer[Appointment]):
    patient = PatientSummarySerializer()
    appointment_type = serializers.SerializerMethodField()
    clinic = serializers.CharField(source="clinic.name")
    location = serializers.CharField(source="appointment_type.location")
    contact_mode = serializers.CharField(source="appointment_type.contact_mode")
    changes_left = serializers.SerializerMethodField()
    can_change_until = serializers.SerializerMethodField()
    preparation_tasks = PreparationTaskSerializer(many=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "appointment_type",
            "clinic",
            "location",
            "contact_mode",
            "starts_at",
            "ends_at",
            "status",
            "changes_left",
            "can_change_until",
            "preparation_tasks",
        ]

    def to_representation(self, instance: Appointment) -> dict[str, Any]:
        """The declared fields, written out by hand: DRF builds about 30 field objects for every
        appointment it serializes, which cost more CPU than the rest of the answer. The fields
        above still define the OpenAPI schema, and a test holds this to DRF's own output."""
        return {
            "id": instance.pk,
            "patient": _patient_summary(instance.patient),
            "appointment_type": self.get_appointment_type(instance),
            "clinic": str(instance.clinic.name),
            "location": str(instance.appointment_type.location),
            "contact_mode": str(instance.appointment_type.contact_mode),
            "starts_at": _DATETIME.to_representation(instance.starts_at),
            "ends_at": _DATETIME.to_representation(instance.ends_at),
            "status": str(instance.status),
            "changes_left": self.get_changes_left(instance),
            "can_change_until": self.get_can_change_until(instance),
            "preparation_tasks": [_preparation_task(t) for t in instance.preparation_tasks.all()],
        }

    @extend_schema_field(
        {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    )
    def get_appointment_type(self, obj: Appointment) -> dict[str, Any]:
        return {"id": obj.appointment_type_id, "name": obj.appointment_type.display_name}

    def get_changes_left(self, obj: Appointment) -> int:
        return max(0, obj.appointment_type.max_patient_changes - obj.patient_change_count)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_can_change_until(self, obj: Appointment) -> str | None:
        """The last moment the patient may change or cancel online, if they may at all."""
        if obj.status not in CHANGEABLE_STATUSES or not obj.appointment_type.self_bookable:
            return None
        cutoff = obj.starts_at - timedelta(hours=obj.appointment_type.change_cutoff_hours)
        return _DATETIME.to_representation(cutoff)


_DATETIME = serializers.DateTimeField()


def _patient_summary(patient: Patient) -> dict[str, Any]:
    """PatientSummarySerializer's output, for AppointmentSerializer.to_representation."""
    return {
        "id": patient.pk,
        "name": str(patient.full_name),
        "birth_date": patient.birth_date.isoformat(),
        "preferred_language": str(patient.preferred_language),
    }


def _preparation_task(task: PreparationTask) -> dict[str, Any]:
    """PreparationTaskSerializer's output, for AppointmentSerializer.to_representation."""
    return {
        "id": task.pk,
        "appointment": task.appointment_id,
        "title": str(task.title),
        "instructions": str(task.instructions),
        "timing": str(task.timing),
        "due_date": task.due_date.isoformat(),
        "done": task.is_done,
        "done_at": None if task.done_at is None else _DATETIME.to_representation(task.done_at),
    }


class BookSerializer(serializers.Serializer[Any]):
    appointment_type = fields.IdField()
    starts_at = fields.DateTimeField()
    patient = fields.IdField(required=False)


class RescheduleSerializer(serializers.Serializer[Any]):
    starts_at = fields.DateTimeField()


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class MeSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    patient = PatientSummarySerializer(allow_null=True)
    acts_for = PatientSummarySerializer(many=True)
    staff_clinics = serializers.ListField(child=serializers.DictField())
