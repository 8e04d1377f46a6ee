"""Booking tasks for patients (see, get offers, choose, accept a move) and planning for staff
(create tasks, batch plans, re-plans after an absence, preview, apply, discard).

Patients reach only their own tasks and those of people they hold a valid proxy for; staff only
their clinics' (writes need a secretary or leader). Staff reads of patient data are logged.
"""

from collections.abc import Iterable

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from booking.api.errors import request_user
from booking.api.idempotency import idempotent
from booking.api.patient_views import IDEMPOTENCY_PARAMETER, actor_for
from booking.api.serializers import AppointmentSerializer
from booking.api.staff import IsClinicStaff, clinics_for_method, writable_clinics
from booking.api.staff_appointments import staff_actor, validated
from booking.models import Absence, AppointmentType
from booking.selectors import patients_for_user
from cores import solver
from patients.models import Patient, Referral
from patients.services import log_staff_access
from planning import services
from planning.api.serializers import (
    BatchPlanSerializer,
    BookingTaskCreateSerializer,
    BookingTaskSerializer,
    ChooseSerializer,
    OfferPageSerializer,
    OffersQuerySerializer,
    PlanFilterSerializer,
    PlanProposalSerializer,
    StaffBookingTaskSerializer,
    StaffOfferPageSerializer,
    StaffTaskFilterSerializer,
    offer_page_data,
)
from planning.models import BookingTask, PlanProposal

MAX_LISTED = 500


def _tasks(queryset: QuerySet[BookingTask]) -> QuerySet[BookingTask]:
    return queryset.select_related("patient", "appointment_type", "clinic", "appointment")


def _own_task(request: Request, pk: int) -> BookingTask:
    patients = patients_for_user(request.user)
    return get_object_or_404(_tasks(BookingTask.objects.filter(patient__in=patients)), pk=pk)


def _offers(request: Request, task: BookingTask) -> tuple[services.OfferPage, int]:
    params = validated(OffersQuerySerializer, request.query_params)
    part = params.get("part_of_day")
    page = services.booking_task_offers(
        task,
        offset=params["offset"],
        count=params["count"],
        weekdays=params.get("weekday") or None,
        part_of_day=solver.PartOfDay(part) if part else None,
    )
    return page, params["offset"]


class BookingTaskListView(APIView):
    @extend_schema(responses=BookingTaskSerializer(many=True))
    def get(self, request: Request) -> Response:
        patients = patients_for_user(request.user)
        tasks = _tasks(BookingTask.objects.filter(patient__in=patients))
        return Response(BookingTaskSerializer(tasks, many=True).data)


class BookingTaskDetailView(APIView):
    @extend_schema(responses=BookingTaskSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(BookingTaskSerializer(_own_task(request, pk)).data)


class BookingTaskOffersView(APIView):
    @extend_schema(parameters=[OffersQuerySerializer], responses=OfferPageSerializer)
    def get(self, request: Request, pk: int) -> Response:
        task = _own_task(request, pk)
        page, offset = _offers(request, task)
        return Response(OfferPageSerializer(offer_page_data(page, offset)).data)


class BookingTaskChooseView(APIView):
    @extend_schema(
        request=ChooseSerializer,
        responses={201: AppointmentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent(authorize=lambda view, request, pk: _own_task(request, pk))
    def post(self, request: Request, pk: int) -> Response:
        task = _own_task(request, pk)
        data = validated(ChooseSerializer, request.data)
        appointment = services.booking_task_choose(
            task, starts_at=data["starts_at"], actor=actor_for(request, task.patient)
        )
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class BookingTaskAcceptView(APIView):
    @extend_schema(request=None, responses=BookingTaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = services.booking_task_accept(_own_task(request, pk))
        return Response(BookingTaskSerializer(_own_task(request, task.pk)).data)


# --- Staff -----------------------------------------------------------------------------------


def _log(request: Request, patients: Iterable[Patient], action: str) -> None:
    log_staff_access(staff_user=request_user(request), patients=patients, action=action)


def _staff_tasks(request: Request) -> QuerySet[BookingTask]:
    """The tasks of the clinics the user may read (GET) or change (POST)."""
    return _tasks(BookingTask.objects.filter(clinic__in=clinics_for_method(request)))


def _staff_task(request: Request, pk: int) -> BookingTask:
    return get_object_or_404(_staff_tasks(request), pk=pk)


class StaffBookingTaskListView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(
        parameters=[StaffTaskFilterSerializer], responses=StaffBookingTaskSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validated(StaffTaskFilterSerializer, request.query_params)
        tasks = list(_staff_tasks(request).filter(**filters)[:MAX_LISTED])
        _log(request, [t.patient for t in tasks], "booking task list")
        return Response(StaffBookingTaskSerializer(tasks, many=True).data)

    @extend_schema(request=BookingTaskCreateSerializer, responses={201: StaffBookingTaskSerializer})
    def post(self, request: Request) -> Response:
        data = validated(BookingTaskCreateSerializer, request.data)
        appointment_type = get_object_or_404(
            AppointmentType.objects.filter(clinic__in=writable_clinics(request)),
            pk=data.pop("appointment_type"),
        )
        patient = get_object_or_404(Patient, pk=data.pop("patient"))
        referral_id = data.pop("referral", None)
        referrals = Referral.objects.filter(clinic__in=writable_clinics(request))
        referral = get_object_or_404(referrals, pk=referral_id) if referral_id is not None else None
        task = services.booking_task_create(
            patient=patient,
            appointment_type=appointment_type,
            referral=referral,
            created_by=request_user(request),
            **data,
        )
        _log(request, [patient], "create booking task")
        return Response(
            StaffBookingTaskSerializer(_staff_task(request, task.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class StaffBookingTaskDetailView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(responses=StaffBookingTaskSerializer)
    def get(self, request: Request, pk: int) -> Response:
        task = _staff_task(request, pk)
        _log(request, [task.patient], "booking task")
        return Response(StaffBookingTaskSerializer(task).data)


class StaffBookingTaskCancelView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(request=None, responses=StaffBookingTaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = services.booking_task_cancel(_staff_task(request, pk))
        _log(request, [task.patient], "cancel booking task")
        return Response(StaffBookingTaskSerializer(_staff_task(request, pk)).data)


class StaffBookingTaskOffersView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(parameters=[OffersQuerySerializer], responses=StaffOfferPageSerializer)
    def get(self, request: Request, pk: int) -> Response:
        task = _staff_task(request, pk)
        page, offset = _offers(request, task)
        _log(request, [task.patient], "booking task offers")
        return Response(StaffOfferPageSerializer(offer_page_data(page, offset)).data)


def _proposal_response(
    request: Request, proposal: PlanProposal, action: str, code: int = status.HTTP_200_OK
) -> Response:
    fresh = PlanProposal.objects.prefetch_related("items__patient").get(pk=proposal.pk)
    _log(request, [item.patient for item in fresh.items.all()], action)
    return Response(PlanProposalSerializer(fresh).data, status=code)


class StaffBatchPlanView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(
        request=BatchPlanSerializer,
        responses={202: PlanProposalSerializer},
        description="Starts a batch plan in the background and answers at once with the plan "
        'in status "planning" (or already "proposed" when jobs run in-process). Follow the '
        "Location header until the status is proposed or failed.",
    )
    def post(self, request: Request, pk: int) -> Response:
        clinic = get_object_or_404(writable_clinics(request), pk=pk)
        data = validated(BatchPlanSerializer, request.data)
        proposal = services.request_batch(
            clinic,
            task_ids=data.get("task_ids"),
            overdue_only=data["overdue_only"],
            created_by=request_user(request),
        )
        response = _proposal_response(request, proposal, "batch plan", status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("staff-plan-detail", args=[proposal.pk], request=request)
        return response


class StaffReplanView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(request=None, responses={201: PlanProposalSerializer})
    def post(self, request: Request, pk: int) -> Response:
        absence = get_object_or_404(
            Absence.objects.filter(resource__clinic__in=writable_clinics(request)).select_related(
                "resource__clinic"
            ),
            pk=pk,
        )
        proposal = services.propose_replan(absence, created_by=request_user(request))
        return _proposal_response(request, proposal, "re-plan", status.HTTP_201_CREATED)


def _proposals(request: Request) -> QuerySet[PlanProposal]:
    """The plans of the clinics the user may read (GET) or change (POST)."""
    return PlanProposal.objects.filter(clinic__in=clinics_for_method(request))


class StaffPlanListView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(parameters=[PlanFilterSerializer], responses=PlanProposalSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(PlanFilterSerializer, request.query_params)
        proposals = _proposals(request).filter(**filters).prefetch_related("items__patient")[:50]
        patients = [item.patient for p in proposals for item in p.items.all()]
        _log(request, patients, "plan list")
        return Response(PlanProposalSerializer(proposals, many=True).data)


class StaffPlanDetailView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(responses=PlanProposalSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _proposal_response(request, get_object_or_404(_proposals(request), pk=pk), "plan")


class StaffPlanApplyView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(request=None, responses=PlanProposalSerializer)
    def post(self, request: Request, pk: int) -> Response:
        proposal = get_object_or_404(_proposals(request), pk=pk)
        applied = services.apply_proposal(proposal, actor=staff_actor(request))
        return _proposal_response(request, applied, "apply plan")


class StaffPlanDiscardView(APIView):
    permission_classes = [IsAuthenticated, IsClinicStaff]

    @extend_schema(request=None, responses=PlanProposalSerializer)
    def post(self, request: Request, pk: int) -> Response:
        proposal = get_object_or_404(_proposals(request), pk=pk)
        discarded = services.discard_proposal(proposal, user=request_user(request))
        return _proposal_response(request, discarded, "discard plan")
