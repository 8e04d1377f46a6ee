"""The patient's API: types they may book, free times, their appointments and preparations,
and those of the people they hold a valid proxy for. Anything else is a 404."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
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
)
from booking.models import Appointment, AppointmentType, PreparationTask
from patients.models import Patient
from patients.selectors import own_patient, patient_for, patients_for_user, proxy_subjects

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A repeat with the same key returns the first answer and books nothing new.",
)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request_user(request)
        own = own_patient(user)
        others = proxy_subjects(user=user)
        clinics = selectors.staff_clinics(user)
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
        return patients_for_user(self.request.user)


class AppointmentTypeListView(generics.ListAPIView[AppointmentType]):
    serializer_class = AppointmentTypePublicSerializer

    def get_queryset(self) -> Any:
        return selectors.self_bookable_types().prefetch_related("preparations")


class SlotListView(APIView):
    @extend_schema(parameters=[SlotSearchSerializer], responses=SlotSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        appointment_type = selectors.self_bookable_type(pk)
        params = SlotSearchSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        patient = patient_for(user=request.user, patient_id=params.validated_data.get("patient"))
        start, end = selectors.local_day_bounds(
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
        appointment = services.appointment_book_by_type(
            appointment_type_id=data["appointment_type"],
            patient=patient,
            starts_at=data["starts_at"],
            actor=services.patient_actor(user=request_user(request), patient=patient),
        )
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


def _booking_request(request: Request) -> tuple[dict[str, Any], Patient]:
    """The booking request's data, and the patient it names if the user may act for them."""
    data = BookSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    patient = patient_for(user=request.user, patient_id=data.validated_data.get("patient"))
    return data.validated_data, patient


def _own_appointment(request: Request, pk: int) -> Appointment:
    return selectors.appointment_for(user=request.user, appointment_id=pk)


def _actor(request: Request, patient: Patient) -> services.Actor:
    return services.patient_actor(user=request_user(request), patient=patient)


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
            actor=_actor(request, appointment.patient),
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
            actor=_actor(request, appointment.patient),
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
        task = selectors.preparation_task_for(user=request.user, task_id=pk)
        data = PreparationTaskUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.preparation_task_mark(
            task=task,
            done=data.validated_data["done"],
            actor=_actor(request, task.appointment.patient),
        )
        return Response(PreparationTaskSerializer(task).data)
