"""Staff act for patients (e.g. on the phone): find a patient, see a clinic's appointments, book,
move or cancel on the patient's behalf. Every read of a patient's data here is logged."""

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import services
from booking.api import fields
from booking.api.errors import request_user
from booking.api.serializers import AppointmentSerializer, PatientSummarySerializer
from booking.api.staff import IsClinicStaff, writable_clinics
from booking.models import ActorKind, Appointment, AppointmentType, EventCause
from booking.selectors import clinics_for_staff
from patients.models import Patient
from patients.services import log_staff_access

STAFF_CAUSES = [
    EventCause.PATIENT_CHANGE,
    EventCause.CLINIC_BOOKING,
    EventCause.CLINIC_REPLANNING,
    EventCause.CLINIC_CANCELLATION,
]

CANCEL_CAUSES = [
    EventCause.PATIENT_CHANGE,
    EventCause.CLINIC_REPLANNING,
    EventCause.CLINIC_CANCELLATION,
]


class PatientLookupSerializer(serializers.Serializer[Any]):
    national_id = serializers.RegexField(
        r"^\d{11}$",
        error_messages={"invalid": _("Enter the 11 digits of the national identity number.")},
    )


class ClinicDaySerializer(serializers.Serializer[Any]):
    clinic = fields.IdField()
    date = fields.DateField()


class StaffBookSerializer(serializers.Serializer[Any]):
    patient = fields.IdField()
    appointment_type = fields.IdField()
    starts_at = fields.DateTimeField()
    cause = serializers.ChoiceField(choices=STAFF_CAUSES, default=EventCause.PATIENT_CHANGE)


class StaffRescheduleSerializer(serializers.Serializer[Any]):
    starts_at = fields.DateTimeField()
    cause = serializers.ChoiceField(choices=STAFF_CAUSES, default=EventCause.PATIENT_CHANGE)


class StaffCancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    cause = serializers.ChoiceField(choices=CANCEL_CAUSES, default=EventCause.PATIENT_CHANGE)


def staff_actor(request: Request) -> services.Actor:
    return services.Actor(user=request_user(request), kind=ActorKind.STAFF)


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _writable_appointment(request: Request, pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.filter(clinic__in=writable_clinics(request)), pk=pk
    )


def _answer(
    request: Request, appointment: Appointment, action: str, code: int = status.HTTP_200_OK
) -> Response:
    log_staff_access(
        staff_user=request_user(request), patients=[appointment.patient], action=action
    )
    return Response(AppointmentSerializer(appointment).data, status=code)


class StaffPatientLookupView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(parameters=[PatientLookupSerializer], responses=PatientSummarySerializer)
    def get(self, request: Request) -> Response:
        national_id = validated(PatientLookupSerializer, request.query_params)["national_id"]
        patient = Patient.objects.filter(national_id=national_id).first()
        if patient is None:
            raise NotFound
        log_staff_access(
            staff_user=request_user(request), patients=[patient], action="patient lookup"
        )
        return Response(PatientSummarySerializer(patient).data)


class StaffAppointmentListView(APIView):
    """The attendance list: one clinic's appointments on one day."""

    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(parameters=[ClinicDaySerializer], responses=AppointmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = validated(ClinicDaySerializer, request.query_params)
        clinic = clinics_for_staff(request_user(request)).filter(pk=params["clinic"]).first()
        if clinic is None:
            raise NotFound
        appointments = list(
            Appointment.objects.filter(clinic=clinic, starts_at__date=params["date"])
            .select_related("appointment_type", "clinic", "patient")
            .prefetch_related("preparation_tasks")
        )
        log_staff_access(
            staff_user=request_user(request),
            patients=[a.patient for a in appointments],
            action=f"attendance list {clinic.pk} {params['date']}",
        )
        return Response(AppointmentSerializer(appointments, many=True).data)

    @extend_schema(request=StaffBookSerializer, responses={201: AppointmentSerializer})
    def post(self, request: Request) -> Response:
        data = validated(StaffBookSerializer, request.data)
        appointment_type = get_object_or_404(
            AppointmentType.objects.filter(clinic__in=writable_clinics(request)),
            pk=data["appointment_type"],
        )
        patient = get_object_or_404(Patient, pk=data["patient"])
        appointment = services.appointment_book(
            patient=patient,
            appointment_type=appointment_type,
            starts_at=data["starts_at"],
            actor=staff_actor(request),
            cause=data["cause"],
        )
        return _answer(request, appointment, "book", status.HTTP_201_CREATED)


class StaffRescheduleView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(request=StaffRescheduleSerializer, responses=AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = validated(StaffRescheduleSerializer, request.data)
        appointment = services.appointment_reschedule(
            appointment=_writable_appointment(request, pk),
            starts_at=data["starts_at"],
            actor=staff_actor(request),
            cause=data["cause"],
        )
        return _answer(request, appointment, "reschedule")


class StaffCancelView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(request=StaffCancelSerializer, responses=AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = validated(StaffCancelSerializer, request.data)
        appointment = services.appointment_cancel(
            appointment=_writable_appointment(request, pk),
            actor=staff_actor(request),
            cause=data["cause"],
            reason=data["reason"],
        )
        return _answer(request, appointment, "cancel")
