"""Staff act for patients (e.g. on the phone): find a patient, see a clinic's appointments, book,
move or cancel on the patient's behalf. Who may see and do what, and the access log of every
read of a patient's data, are the selectors' (booking.selectors, planning.selectors)."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.roles import Capability
from booking import selectors, services
from booking.api import fields
from booking.api.errors import request_user
from booking.api.serializers import AppointmentSerializer, PatientSummarySerializer
from booking.api.staff import STAFF
from booking.models import Appointment, EventCause
from planning import selectors as planning_selectors

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


LOOKUP_PURPOSES = {"register_referral": "register a referral"}


class PatientLookupSerializer(serializers.Serializer[Any]):
    national_id = serializers.RegexField(
        r"^[0-9]{11}$",
        error_messages={"invalid": _("Enter the 11 digits of the national identity number.")},
    )
    clinic = fields.IdField(help_text="The clinic the referral is for.")
    purpose = serializers.ChoiceField(
        choices=list(LOOKUP_PURPOSES),
        help_text="Why the patient is looked up; recorded in the patient's access log.",
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


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _writable_appointment(request: Request, pk: int, action: str) -> Appointment:
    return selectors.staff_appointment(
        user=request.user, appointment_id=pk, action=action, capability=Capability.CHANGE
    )


def _answer(appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
    return Response(AppointmentSerializer(appointment).data, status=code)


class StaffPatientLookupView(APIView):
    """The one way to a patient not yet in the care of the user's clinic: by national identity
    number, for a secretary or leader of the clinic, with the purpose recorded."""

    permission_classes = STAFF

    @extend_schema(parameters=[PatientLookupSerializer], responses=PatientSummarySerializer)
    def get(self, request: Request) -> Response:
        params = validated(PatientLookupSerializer, request.query_params)
        patient = planning_selectors.patient_lookup(
            user=request.user,
            national_id=params["national_id"],
            clinic_id=params["clinic"],
            purpose=LOOKUP_PURPOSES[params["purpose"]],
        )
        return Response(PatientSummarySerializer(patient).data)


class StaffAppointmentListView(APIView):
    """The attendance list: one clinic's appointments on one day."""

    permission_classes = STAFF

    @extend_schema(parameters=[ClinicDaySerializer], responses=AppointmentSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = validated(ClinicDaySerializer, request.query_params)
        appointments = selectors.attendance_list(
            user=request.user, clinic_id=params["clinic"], day=params["date"]
        )
        return Response(AppointmentSerializer(appointments, many=True).data)

    @extend_schema(request=StaffBookSerializer, responses={201: AppointmentSerializer})
    def post(self, request: Request) -> Response:
        data = validated(StaffBookSerializer, request.data)
        appointment_type = selectors.staff_appointment_type(
            user=request.user,
            appointment_type_id=data["appointment_type"],
            capability=Capability.CHANGE,
        )
        patient = planning_selectors.staff_patient(
            user=request.user,
            patient_id=data["patient"],
            clinic=appointment_type.clinic,
            action="book",
            capability=Capability.CHANGE,
        )
        appointment = services.appointment_book(
            patient=patient,
            appointment_type=appointment_type,
            starts_at=data["starts_at"],
            actor=services.staff_actor(request_user(request)),
            cause=data["cause"],
        )
        return _answer(appointment, status.HTTP_201_CREATED)


class StaffRescheduleView(APIView):
    permission_classes = STAFF

    @extend_schema(request=StaffRescheduleSerializer, responses=AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = validated(StaffRescheduleSerializer, request.data)
        appointment = services.appointment_reschedule(
            appointment=_writable_appointment(request, pk, "reschedule"),
            starts_at=data["starts_at"],
            actor=services.staff_actor(request_user(request)),
            cause=data["cause"],
        )
        return _answer(appointment)


class StaffCancelView(APIView):
    permission_classes = STAFF

    @extend_schema(request=StaffCancelSerializer, responses=AppointmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = validated(StaffCancelSerializer, request.data)
        appointment = services.appointment_cancel(
            appointment=_writable_appointment(request, pk, "cancel"),
            actor=services.staff_actor(request_user(request)),
            cause=data["cause"],
            reason=data["reason"],
        )
        return _answer(appointment)
