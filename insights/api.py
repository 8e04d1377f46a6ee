"""The leaders' statistics for programs: the same figures as the dashboard and its CSV export
(figures.dashboard), with every figure of it. Who may see which clinic is figures.scope_for's:
403 for anyone but a leader, 404 for a clinic, type or clinician not theirs, 400 with the
field's error for a period that cannot be shown."""

from datetime import date
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.api import fields
from booking.api.staff_appointments import validated
from insights import figures, presenting, selectors


class LeadersOnly(permissions.BasePermission):
    """Staff whose role may view statistics in some clinic; NotAllowed (403) otherwise."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        selectors.require_leader(request.user)
        return True


class StatisticsQuerySerializer(serializers.Serializer[Any]):
    from_ = fields.DateField(
        required=False,
        help_text="The period's first day (Europe/Oslo). Default: the first day of the month "
        "eleven months back.",
    )
    to = fields.DateField(required=False, help_text="The period's last day. Default: today.")
    resolution = serializers.ChoiceField(
        choices=[r.value for r in figures.Resolution],
        default=figures.Resolution.MONTH.value,
        help_text="Buckets: day (for at most 92 days), ISO week from Monday, or month.",
    )
    clinic = fields.IdField(required=False, help_text="One of the leader's clinics.")
    appointment_type = fields.IdField(required=False)
    clinician = fields.IdField(required=False)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        found = super().get_fields()
        found["from"] = found.pop("from_")
        return found

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = presenting.default_period(timezone.localdate())
        attrs.setdefault("from", first)
        attrs.setdefault("to", last)
        resolution = figures.Resolution(attrs["resolution"])
        if attrs["to"] >= attrs["from"] and presenting.too_many_days(
            attrs["from"], attrs["to"], resolution
        ):
            raise serializers.ValidationError({"resolution": [str(presenting.TOO_MANY_DAYS)]})
        return attrs


class StatisticsCellSerializer(serializers.Serializer[Any]):
    value = serializers.FloatField(
        allow_null=True,
        help_text="A count, a share (0-1) or whole days; null for a share over nothing or "
        "days when nothing was counted.",
    )
    count = serializers.IntegerField(allow_null=True, help_text="A share's count.")
    base = serializers.IntegerField(allow_null=True, help_text="A share's base.")


class StatisticsBucketCellSerializer(StatisticsCellSerializer):
    start = serializers.DateField(help_text="The bucket's first day.")


class StatisticsFigureSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    label = serializers.CharField(help_text="In the user's language.")  # type: ignore[assignment]
    unit = serializers.ChoiceField(choices=[u.value for u in figures.Unit])
    group = serializers.CharField()
    total = StatisticsCellSerializer(help_text="The whole period.")
    by_bucket = StatisticsBucketCellSerializer(many=True)


class StatisticsPeriodSerializer(serializers.Serializer[Any]):
    from_ = serializers.DateField()
    to = serializers.DateField()
    resolution = serializers.ChoiceField(choices=[r.value for r in figures.Resolution])

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        found = super().get_fields()
        found["from"] = found.pop("from_")
        return found


class StatisticsSerializer(serializers.Serializer[Any]):
    period = StatisticsPeriodSerializer()
    buckets = serializers.ListField(child=serializers.DateField())
    figures = StatisticsFigureSerializer(many=True)


def _cell(cell: figures.Cell, start: date | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"value": cell.value, "count": cell.count, "base": cell.base}
    return found if start is None else {"start": start, **found}


def statistics_data(board: figures.Dashboard) -> dict[str, Any]:
    scope = board.scope
    return {
        "period": {"from": scope.first, "to": scope.last, "resolution": scope.resolution.value},
        "buckets": list(board.buckets),
        "figures": [
            {
                "key": figure.key,
                "label": str(figure.label),
                "unit": figure.unit.value,
                "group": figure.group,
                "total": _cell(figure.total),
                "by_bucket": [
                    _cell(cell, start)
                    for cell, start in zip(figure.by_bucket, board.buckets, strict=True)
                ],
            }
            for figure in board.figures
        ],
    }


class StatisticsView(APIView):
    permission_classes = [permissions.IsAuthenticated, LeadersOnly]

    @extend_schema(
        parameters=[StatisticsQuerySerializer],
        responses=StatisticsSerializer,
        description="The re-planning statistics of the leader's clinics: every figure per "
        "bucket and for the whole period, the same numbers as the dashboard and its CSV.",
    )
    def get(self, request: Request) -> Response:
        params = validated(StatisticsQuerySerializer, request.query_params)
        try:
            scope = figures.scope_for(
                request.user,
                first=params["from"],
                last=params["to"],
                resolution=figures.Resolution(params["resolution"]),
                clinic_id=params.get("clinic"),
                appointment_type_id=params.get("appointment_type"),
                clinician_id=params.get("clinician"),
            )
        except figures.PeriodInvalid as invalid:
            raise serializers.ValidationError({"to": [str(invalid.message)]}) from invalid
        return Response(StatisticsSerializer(statistics_data(figures.dashboard(scope))).data)
