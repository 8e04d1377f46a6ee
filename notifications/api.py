"""The API surface of the outbox: the SMS gateway's delivery reports.

The gateway is no user: it proves itself with the shared secret of the settings in the
X-Delivery-Report-Secret header, and is answered 403 without it. A report is idempotent:
gateways repeat one until they get a 2xx, and a repeat changes nothing.
"""

import hmac
from typing import Any

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import services

SECRET_HEADER = "X-Delivery-Report-Secret"


class HasGatewaySecret(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        secret = settings.NOTIFICATIONS_DELIVERY_REPORT_SECRET
        given = request.headers.get(SECRET_HEADER, "")
        return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


class DeliveryReportSerializer(serializers.Serializer[Any]):
    reference = serializers.CharField(max_length=40, help_text="The notification's id.")
    status = serializers.ChoiceField(choices=["delivered", "failed"])
    detail = serializers.CharField(max_length=500, required=False, allow_blank=True)


class DeliveryReportView(APIView):
    """A delivery report from the SMS gateway: the SMS with this reference was delivered, or
    could not be. Unknown references and repeats are answered 204 too, and change nothing."""

    authentication_classes: list[Any] = []
    permission_classes = [HasGatewaySecret]

    @extend_schema(
        request=DeliveryReportSerializer,
        responses={204: None},
        parameters=[OpenApiParameter(SECRET_HEADER, str, OpenApiParameter.HEADER, required=True)],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        report = DeliveryReportSerializer(data=request.data)
        report.is_valid(raise_exception=True)
        services.delivery_report(
            reference=report.validated_data["reference"],
            delivered=report.validated_data["status"] == "delivered",
            detail=report.validated_data.get("detail", ""),
        )
        return Response(status=204)


urlpatterns = [
    path(
        "notifications/delivery-reports/",
        DeliveryReportView.as_view(),
        name="notification-delivery-report",
    ),
]
