"""The patient's API: types they may book, free times, their appointments and preparations,
and those of the people they hold a valid proxy for. Anything else is a 404."""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import selectors, services
from booking.api.errors import request_user
from booking.api.idempotency import HEADER, idempotent
from booking.api.serializers import (
    AppointmentSerializer,
    AppointmentTypePublicSerializer,
    BookSerializer,
    CancelSerializer,
    MeSerializer,
    PatientSummarySerializer,
    PreparationTaskSerializer,
    PreparationTaskUpdateSerializer,
    RescheduleSerializer,
    SlotSearchSerializer,
    SlotSerializer,
    local_day_bounds,
)
from booking.models import Appointment, AppointmentType, PreparationTask
from booking.rows import with_appointment_type
from patients.auth import own_patient
from patients.models import Patient

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A repeat with the same key returns the first answer and books nothing new.",
)


def acting_for(request: Request, patient_id: int | None) -> Patient:
    """The patient the request acts for: the user, or a proxy subject; 404 otherwise."""
    if patient_id is None:  # the user's own record, no need to look at proxies
        patient = own_patient(request_user(request))
    else:
        patient = selectors.patients_for_user(request.user).filter(pk=patient_id).first()
    if patient is None:
        raise NotFound
    return patient


def actor_for(request: Request, patient: Patient) -> services.Actor:
    user = request_user(request)
    return services.Actor(user=user, kind=selectors.actor_kind_for(user, patient))


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request_user(request)
        own = selectors.patients_for_user(user).filter(user=user).first()
        others = selectors.patients_for_user(user).exclude(user=user)
        clinics = selectors.clinics_for_staff(request.user)
        return Response(
            MeSerializer(
                {
                    "username": request.user.get_username(),
                    "patient": own,
                    "acts_for": others,
                    "staff_clinics": [{"id": c.id, "name": c.name} for c in clinics],
                }
            ).data
        )


class PatientListView(generics.ListAPIView[Patient]):
    serializer_class = PatientSummarySerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.patients_for_user(self.request.user)


class AppointmentTypeListView(generics.ListAPIView[AppointmentType]):
    serializer_class = AppointmentTypePublicSerializer

    def get_queryset(self) -> Any:
        return selectors.self_bookable_types().prefetch_related("preparations")


class SlotListView(APIView):
    @extend_schema(parameters=[SlotSearchSerializer], responses=SlotSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        appointment_type = get_object_or_404(selectors.self_bookable_types(), pk=pk)
        params = SlotSearchSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        patient = acting_for(request, params.validated_data.get("patient"))
        start, end = local_day_bounds(
            params.validated_data["date_from"],
            params.validated_data["date_to"],
            appointment_type.clinic.tz,
        )
        starts = selectors.available_starts(
            appointment_type=appointment_type, start=start, end=end, patient=patient
        )
        slots = [{"starts_at": s, "ends_at": s + appointment_type.duration} for s in starts]
        return Response(SlotSerializer(slots, many=True).data)


class AppointmentListView(APIView):
    @extend_schema(responses=AppointmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        appointments = selectors.appointments_for_user(request.user)
        return Response(AppointmentSerializer(appointments, many=True).data)

    @extend_schema(
        request=BookSerializer,
        responses={201: AppointmentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent(authorize=lambda view, request: _booking_request(request))
    def post(self, request: Request) -> Response:
        data, patient = _booking_request(request)
        try:
            appointment = with_appointment_type(
                data["appointment_type"],
                lambda appointment_type: services.appointment_book(
                    patient=patient,
                    appointment_type=appointment_type,
                    starts_at=data["starts_at"],
                    actor=actor_for(request, patient),
                ),
            )
        except AppointmentType.DoesNotExist:
            raise NotFound from None
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


def _booking_request(request: Request) -> tuple[dict[str, Any], Patient]:
    """The booking request's data, and the patient it names if the user may act for them."""
    data = BookSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data, acting_for(request, data.validated_data.get("patient"))


def _own_appointment(request: Request, pk: int) -> Appointment:
    return get_object_or_404(selectors.appointments_for_user(request.user), pk=pk)


class AppointmentDetailView(APIView):
    @extend_schema(responses=AppointmentSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(AppointmentSerializer(_own_appointment(request, pk)).data)


class AppointmentRescheduleView(APIView):
    @extend_schema(request=RescheduleSerializer, responses=AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        appointment = _own_appointment(request, pk)
        data = RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = services.appointment_reschedule(
            appointment=appointment,
            starts_at=data.validated_data["starts_at"],
            actor=actor_for(request, appointment.patient),
        )
        return Response(AppointmentSerializer(_own_appointment(request, moved.pk)).data)


class AppointmentCancelView(APIView):
    @extend_schema(request=CancelSerializer, responses=AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        appointment = _own_appointment(request, pk)
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.appointment_cancel(
            appointment=appointment,
            actor=actor_for(request, appointment.patient),
            reason=data.validated_data["reason"],
        )
        return Response(AppointmentSerializer(_own_appointment(request, pk)).data)


class PreparationTaskListView(generics.ListAPIView[PreparationTask]):
    serializer_class = PreparationTaskSerializer

    def get_queryset(self) -> Any:
        return selectors.preparation_tasks_for_user(self.request.user)


class PreparationTaskDetailView(APIView):
    @extend_schema(request=PreparationTaskUpdateSerializer, responses=PreparationTaskSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        task = get_object_or_404(selectors.preparation_tasks_for_user(request.user), pk=pk)
        data = PreparationTaskUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.preparation_task_mark(
            task=task,
            done=data.validated_data["done"],
            actor=actor_for(request, task.appointment.patient),
        )
        return Response(PreparationTaskSerializer(task).data)
