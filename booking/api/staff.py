"""Staff configuration API: clinics, resources, working hours, absences, appointment types.

Who may see and change what is booking.selectors': staff see their clinics' rows, and change
them where their role may (a clinician only reads). The serializers check and shape the input;
every write is a service of booking.configuration (an absence's, planning.background's, which
also queues its re-plan).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from access.roles import Capability
from booking import configuration, selectors
from booking.api import fields
from booking.models import (
    MAX_REMINDER_HOURS,
    MAX_REMINDERS,
    Absence,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    Resource,
    ResourceRequirement,
    WorkingHours,
)
from planning import background

M = TypeVar("M", bound=Model)


def capability_for(request: Request) -> Capability:
    """What a request asks to do, in the policy's terms: safe methods read, the rest change."""
    return Capability.READ if request.method in permissions.SAFE_METHODS else Capability.CHANGE


class StaffOnly(permissions.BasePermission):
    """Staff with the request's capability in some clinic; NotAllowed (403) otherwise."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        selectors.require_staff(request.user, capability=capability_for(request))
        return True


STAFF = [permissions.IsAuthenticated, StaffOnly]


class ClinicScopedSerializer(fields.ModelSerializer[M]):
    """Foreign keys to clinics and resources accept only those the user may change."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None:
            return fields
        change = Capability.CHANGE
        if "clinic" in fields:
            fields["clinic"].queryset = selectors.staff_clinics(  # type: ignore[attr-defined]
                request.user, capability=change
            )
        if "resource" in fields:
            fields["resource"].queryset = selectors.staff_resources(  # type: ignore[attr-defined]
                request.user, capability=change
            )
        return fields


def _check_order(
    attrs: dict[str, Any],
    instance: Model | None,
    first: str,
    last: str,
    message: str,
    *,
    strict: bool = True,
) -> None:
    start = attrs.get(first, getattr(instance, first, None))
    end = attrs.get(last, getattr(instance, last, None))
    if start is not None and end is not None and (end <= start if strict else end < start):
        raise serializers.ValidationError({last: message})


class ClinicSerializer(fields.ModelSerializer[Clinic]):
    class Meta:
        model = Clinic
        fields = ["id", "name", "address", "phone", "time_zone"]


class ResourceSerializer(ClinicScopedSerializer[Resource]):
    class Meta:
        model = Resource
        fields = ["id", "clinic", "kind", "name", "tags", "is_active"]

    def validate_tags(self, tags: Any) -> list[str]:
        return configuration.check_tags(tags)


class WorkingHoursSerializer(ClinicScopedSerializer[WorkingHours]):
    class Meta:
        model = WorkingHours
        fields = [
            "id",
            "resource",
            "weekday",
            "start_time",
            "end_time",
            "valid_from",
            "valid_until",
            "interval_weeks",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_order(
            attrs,
            self.instance,
            "start_time",
            "end_time",
            _("The end time must be after the start time."),
        )
        _check_order(
            attrs,
            self.instance,
            "valid_from",
            "valid_until",
            _("The last valid day must not be before the first."),
            strict=False,
        )
        return attrs


class AbsenceSerializer(ClinicScopedSerializer[Absence]):
    class Meta:
        model = Absence
        fields = ["id", "resource", "starts_at", "ends_at", "reason", "note"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_order(
            attrs, self.instance, "starts_at", "ends_at", _("The absence must end after it starts.")
        )
        return attrs


class RequirementSerializer(fields.ModelSerializer[ResourceRequirement]):
    class Meta:
        model = ResourceRequirement
        fields = ["kind", "tag", "count"]


class _PreparationSerializer(fields.ModelSerializer[PreparationTemplate]):
    class Meta:
        model = PreparationTemplate
        fields = ["id", "title", "instructions", "timing", "days_before"]


class AppointmentTypeSerializer(ClinicScopedSerializer[AppointmentType]):
    requirements = RequirementSerializer(many=True)
    reminder_hours = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_REMINDER_HOURS),
        max_length=MAX_REMINDERS,
        required=False,
        help_text="Reminders go this many hours before the appointment, e.g. [168, 24].",
    )
    preparations = _PreparationSerializer(many=True, required=False)

    class Meta:
        model = AppointmentType
        fields = [
            "id",
            "clinic",
            "name",
            "patient_facing_name",
            "location",
            "contact_mode",
            "duration_minutes",
            "grid_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "self_bookable",
            "requires_confirmation",
            "min_notice_hours",
            "booking_horizon_days",
            "change_cutoff_hours",
            "max_patient_changes",
            "offers_count",
            "reminder_hours",
            "is_active",
            "requirements",
            "preparations",
        ]

    def validate_requirements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        value = self._complete("requirements", RequirementSerializer, value)
        configuration.check_requirements(value)
        return value

    def validate_preparations(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._complete("preparations", _PreparationSerializer, value)

    def _complete(
        self,
        name: str,
        serializer_class: type[serializers.ModelSerializer[Any]],
        value: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The nested list, each item validated in full. A PATCH makes every nested field
        optional in DRF, but a list given replaces the old one, so its items must be whole."""
        if not self.partial:
            return value
        whole = serializer_class(data=self.initial_data.get(name), many=True)
        if not whole.is_valid():
            raise serializers.ValidationError(whole.errors)
        return list(whole.validated_data)


Rows = Callable[..., QuerySet[Any]]


def _existing(serializer: serializers.BaseSerializer[M]) -> M:
    """The row an update changes (DRF gives it to the serializer)."""
    assert serializer.instance is not None
    return serializer.instance


class _StaffViewSet(viewsets.ModelViewSet[M]):
    """A model's rows in the user's clinics, from the selector `rows(user, capability=...)`;
    writes go through the services named by each subclass."""

    permission_classes = STAFF
    rows: Rows

    def get_queryset(self) -> QuerySet[M]:
        return type(self).rows(self.request.user, capability=capability_for(self.request))


class ClinicViewSet(_StaffViewSet[Clinic]):
    serializer_class = ClinicSerializer
    rows = staticmethod(selectors.staff_clinics)
    http_method_names = ["get", "put", "patch", "head", "options"]

    def perform_update(self, serializer: serializers.BaseSerializer[Clinic]) -> None:
        serializer.instance = configuration.clinic_update(
            clinic=_existing(serializer), **serializer.validated_data
        )


class ResourceViewSet(_StaffViewSet[Resource]):
    serializer_class = ResourceSerializer
    rows = staticmethod(selectors.staff_resources)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer: serializers.BaseSerializer[Resource]) -> None:
        serializer.instance = configuration.resource_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Resource]) -> None:
        serializer.instance = configuration.resource_update(
            resource=_existing(serializer), **serializer.validated_data
        )


class WorkingHoursViewSet(_StaffViewSet[WorkingHours]):
    serializer_class = WorkingHoursSerializer
    rows = staticmethod(selectors.staff_working_hours)

    def perform_create(self, serializer: serializers.BaseSerializer[WorkingHours]) -> None:
        serializer.instance = configuration.working_hours_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[WorkingHours]) -> None:
        serializer.instance = configuration.working_hours_update(
            working_hours=_existing(serializer), **serializer.validated_data
        )

    def perform_destroy(self, instance: WorkingHours) -> None:
        configuration.working_hours_delete(working_hours=instance)


class AbsenceViewSet(_StaffViewSet[Absence]):
    serializer_class = AbsenceSerializer
    rows = staticmethod(selectors.staff_absences)

    def perform_create(self, serializer: serializers.BaseSerializer[Absence]) -> None:
        serializer.instance = background.absence_register(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Absence]) -> None:
        serializer.instance = background.absence_change(
            absence=_existing(serializer), **serializer.validated_data
        )

    def perform_destroy(self, instance: Absence) -> None:
        configuration.absence_delete(absence=instance)


class AppointmentTypeViewSet(_StaffViewSet[AppointmentType]):
    serializer_class = AppointmentTypeSerializer
    rows = staticmethod(selectors.staff_appointment_types)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer: serializers.BaseSerializer[AppointmentType]) -> None:
        serializer.instance = configuration.appointment_type_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[AppointmentType]) -> None:
        serializer.instance = configuration.appointment_type_update(
            appointment_type=_existing(serializer), **serializer.validated_data
        )
