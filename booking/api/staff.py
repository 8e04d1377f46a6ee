"""Staff configuration API: clinics, resources, working hours, absences, appointment types.

Staff see only the clinics they are members of; secretaries and leaders may change them,
clinicians may only read.
"""

from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from booking.api import fields
from booking.models import (
    Absence,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    Resource,
    ResourceRequirement,
    StaffRole,
    WorkingHours,
)
from booking.selectors import clinics_for_staff
from cores.slots import MAX_OVERLAPPING_REQUIREMENTS

M = TypeVar("M", bound=Model)
WRITER_ROLES = (StaffRole.SECRETARY, StaffRole.LEADER)
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def writable_clinics(request: Request) -> QuerySet[Clinic]:
    return clinics_for_staff(request.user, roles=WRITER_ROLES)


def clinics_for_method(request: Request) -> QuerySet[Clinic]:
    """Clinics the user may read (any membership) or, for writes, change."""
    if request.method in permissions.SAFE_METHODS:
        return clinics_for_staff(request.user)
    return writable_clinics(request)


class IsClinicStaff(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return clinics_for_method(request).exists()


class ClinicScopedSerializer(fields.ModelSerializer[M]):
    """Foreign keys to clinics and resources accept only those the user may change."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None:
            return fields
        clinics = writable_clinics(request)
        if "clinic" in fields:
            fields["clinic"].queryset = clinics  # type: ignore[attr-defined]
        if "resource" in fields:
            fields["resource"].queryset = Resource.objects.filter(  # type: ignore[attr-defined]
                clinic__in=clinics
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
        fields = ["id", "name", "address", "time_zone"]


class ResourceSerializer(ClinicScopedSerializer[Resource]):
    class Meta:
        model = Resource
        fields = ["id", "clinic", "kind", "name", "tags", "is_active"]

    def validate_tags(self, tags: Any) -> list[str]:
        valid = (
            isinstance(tags, list)
            and len(tags) <= MAX_TAGS
            and all(isinstance(t, str) and 0 < len(t) <= MAX_TAG_LENGTH for t in tags)
        )
        if not valid:
            raise serializers.ValidationError(
                _('Tags must be a list of at most 20 short texts, e.g. ["endoscopist"].')
            )
        return sorted(set(tags))


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
            "is_active",
            "requirements",
            "preparations",
        ]

    def validate_requirements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        value = self._complete("requirements", RequirementSerializer, value)
        if not value:
            raise serializers.ValidationError(_("An appointment type needs at least one resource."))
        if sum(r.get("count", 1) for r in value) > MAX_OVERLAPPING_REQUIREMENTS:
            raise serializers.ValidationError(
                _("An appointment type may need at most %(n)d resources.")
                % {"n": MAX_OVERLAPPING_REQUIREMENTS}
            )
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

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> AppointmentType:
        requirements = validated_data.pop("requirements")
        preparations = validated_data.pop("preparations", [])
        appointment_type = super().create(validated_data)
        _replace_children(appointment_type, requirements, preparations)
        return appointment_type

    @transaction.atomic
    def update(self, instance: AppointmentType, validated_data: dict[str, Any]) -> AppointmentType:
        requirements = validated_data.pop("requirements", None)
        preparations = validated_data.pop("preparations", None)
        appointment_type = super().update(instance, validated_data)
        _replace_children(appointment_type, requirements, preparations)
        return appointment_type


def _replace_children(
    appointment_type: AppointmentType,
    requirements: list[dict[str, Any]] | None,
    preparations: list[dict[str, Any]] | None,
) -> None:
    if requirements is not None:
        appointment_type.requirements.all().delete()
        ResourceRequirement.objects.bulk_create(
            ResourceRequirement(appointment_type=appointment_type, **r) for r in requirements
        )
    if preparations is not None:
        appointment_type.preparations.all().delete()
        PreparationTemplate.objects.bulk_create(
            PreparationTemplate(appointment_type=appointment_type, **p) for p in preparations
        )


class _ClinicScopedViewSet(viewsets.ModelViewSet[M]):
    permission_classes = [permissions.IsAuthenticated, IsClinicStaff]
    clinic_path = "clinic"

    def get_queryset(self) -> QuerySet[M]:
        clinics = clinics_for_method(self.request)
        model: type[M] = self.get_serializer_class().Meta.model  # type: ignore[attr-defined]
        return model._default_manager.filter(**{f"{self.clinic_path}__in": clinics})


class ClinicViewSet(_ClinicScopedViewSet[Clinic]):
    serializer_class = ClinicSerializer
    clinic_path = "pk"
    http_method_names = ["get", "put", "patch", "head", "options"]


class ResourceViewSet(_ClinicScopedViewSet[Resource]):
    serializer_class = ResourceSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class WorkingHoursViewSet(_ClinicScopedViewSet[WorkingHours]):
    serializer_class = WorkingHoursSerializer
    clinic_path = "resource__clinic"


class AbsenceViewSet(_ClinicScopedViewSet[Absence]):
    serializer_class = AbsenceSerializer
    clinic_path = "resource__clinic"


class AppointmentTypeViewSet(_ClinicScopedViewSet[AppointmentType]):
    serializer_class = AppointmentTypeSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[AppointmentType]:
        return super().get_queryset().prefetch_related("requirements", "preparations")
