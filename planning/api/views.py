"""Booking tasks for patients (see, get offers, choose, accept a move) and planning for staff
(referrals, booking tasks, batch plans, re-plans after an absence, preview, apply, discard).

Who may see and do what, and the access log of every staff read of a patient's data, are the
selectors' (planning.selectors, booking.selectors); the views check input, call one service
and answer.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from access.roles import Capability
from booking import selectors as booking_selectors
from booking.api.errors import request_user
from booking.api.idempotency import idempotent
from booking.api.patient_views import IDEMPOTENCY_PARAMETER
from booking.api.serializers import AppointmentSerializer
from booking.api.staff import STAFF
from booking.api.staff_appointments import validated
from booking.services import patient_actor, staff_actor
from cores import solver
from planning import background, selectors, services
from planning.api.serializers import (
    BatchPlanSerializer,
    BookingTaskCreateSerializer,
    BookingTaskSerializer,
    ChooseSerializer,
    OfferPageSerializer,
    OffersQuerySerializer,
    PlanFilterSerializer,
    PlanProposalSerializer,
    ReferralCreateSerializer,
    ReferralFilterSerializer,
    ReferralSerializer,
    StaffBookingTaskSerializer,
    StaffOfferPageSerializer,
    StaffTaskFilterSerializer,
    offer_page_data,
)
from planning.models import BookingTask, PlanProposal

CHANGE = Capability.CHANGE


def _own_task(request: Request, pk: int) -> BookingTask:
    return selectors.booking_task_for(user=request.user, task_id=pk)


def _offers(request: Request, task: BookingTask) -> tuple[services.OfferPage, int]:
    params = validated(OffersQuerySerializer, request.query_params)
    part = params.get("part_of_day")
    page = services.booking_task_offers(
        task=task,
        offset=params["offset"],
        count=params["count"],
        weekdays=params.get("weekday") or None,
        part_of_day=solver.PartOfDay(part) if part else None,
    )
    return page, params["offset"]


class BookingTaskListView(APIView):
    @extend_schema(responses=BookingTaskSerializer(many=True))
    def get(self, request: Request) -> Response:
        tasks = selectors.booking_tasks_for_user(request.user)
        return Response(BookingTaskSerializer(tasks, many=True).data)


class BookingTaskDetailView(APIView):
    @extend_schema(responses=BookingTaskSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(BookingTaskSerializer(_own_task(request, pk)).data)


class BookingTaskOffersView(APIView):
    @extend_schema(parameters=[OffersQuerySerializer], responses=OfferPageSerializer)
    def get(self, request: Request, pk: int) -> Response:
        page, offset = _offers(request, _own_task(request, pk))
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
            task=task,
            starts_at=data["starts_at"],
            actor=patient_actor(user=request_user(request), patient=task.patient),
            after_more_times=data["after_more_times"],
        )
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


class BookingTaskAcceptView(APIView):
    @extend_schema(request=None, responses=BookingTaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = services.booking_task_accept(task=_own_task(request, pk))
        return Response(BookingTaskSerializer(_own_task(request, task.pk)).data)


# --- Staff: referrals ------------------------------------------------------------------------


class StaffReferralListView(APIView):
    permission_classes = STAFF

    @extend_schema(parameters=[ReferralFilterSerializer], responses=ReferralSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(ReferralFilterSerializer, request.query_params)
        referrals = selectors.staff_referrals(
            user=request.user, filters=filters, action="referral list"
        )
        return Response(ReferralSerializer(referrals, many=True).data)

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralSerializer})
    def post(self, request: Request) -> Response:
        """Register a referral for the patient with this national identity number: the one way
        to a patient new to the clinic."""
        data = validated(ReferralCreateSerializer, request.data)
        clinic = booking_selectors.staff_clinic(
            user=request.user, clinic_id=data.pop("clinic"), capability=CHANGE
        )
        patient = selectors.patient_lookup(
            user=request.user,
            national_id=data.pop("national_id"),
            clinic_id=clinic.pk,
            purpose="register a referral",
        )
        referral = services.referral_register(patient=patient, clinic=clinic, **data)
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class StaffReferralDetailView(APIView):
    permission_classes = STAFF

    @extend_schema(responses=ReferralSerializer)
    def get(self, request: Request, pk: int) -> Response:
        referral = selectors.staff_referral(user=request.user, referral_id=pk, action="referral")
        return Response(ReferralSerializer(referral).data)


# --- Staff: booking tasks --------------------------------------------------------------------


class StaffBookingTaskListView(APIView):
    permission_classes = STAFF

    @extend_schema(
        parameters=[StaffTaskFilterSerializer], responses=StaffBookingTaskSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validated(StaffTaskFilterSerializer, request.query_params)
        tasks = selectors.staff_booking_tasks(
            user=request.user, filters=filters, action="booking task list"
        )
        return Response(StaffBookingTaskSerializer(tasks, many=True).data)

    @extend_schema(request=BookingTaskCreateSerializer, responses={201: StaffBookingTaskSerializer})
    def post(self, request: Request) -> Response:
        """A booking task for a referral: the referral names the patient, and must be in the
        type's clinic."""
        data = validated(BookingTaskCreateSerializer, request.data)
        appointment_type = booking_selectors.staff_appointment_type(
            user=request.user, appointment_type_id=data.pop("appointment_type"), capability=CHANGE
        )
        referral = selectors.staff_referral(
            user=request.user,
            referral_id=data.pop("referral"),
            patient_id=data.pop("patient"),
            action="create booking task",
            capability=CHANGE,
        )
        task = services.booking_task_create(
            patient=referral.patient,
            appointment_type=appointment_type,
            referral=referral,
            created_by=request_user(request),
            **data,
        )
        return Response(StaffBookingTaskSerializer(task).data, status=status.HTTP_201_CREATED)


class StaffBookingTaskDetailView(APIView):
    permission_classes = STAFF

    @extend_schema(responses=StaffBookingTaskSerializer)
    def get(self, request: Request, pk: int) -> Response:
        task = selectors.staff_booking_task(user=request.user, task_id=pk, action="booking task")
        return Response(StaffBookingTaskSerializer(task).data)


class StaffBookingTaskCancelView(APIView):
    permission_classes = STAFF

    @extend_schema(request=None, responses=StaffBookingTaskSerializer)
    def post(self, request: Request, pk: int) -> Response:
        task = selectors.staff_booking_task(
            user=request.user, task_id=pk, action="cancel booking task", capability=CHANGE
        )
        return Response(StaffBookingTaskSerializer(services.booking_task_cancel(task=task)).data)


class StaffBookingTaskOffersView(APIView):
    permission_classes = STAFF

    @extend_schema(parameters=[OffersQuerySerializer], responses=StaffOfferPageSerializer)
    def get(self, request: Request, pk: int) -> Response:
        task = selectors.staff_booking_task(
            user=request.user, task_id=pk, action="booking task offers"
        )
        page, offset = _offers(request, task)
        return Response(StaffOfferPageSerializer(offer_page_data(page, offset)).data)


# --- Staff: plans ----------------------------------------------------------------------------


def _plan(request: Request, proposal: PlanProposal, action: str) -> PlanProposal:
    """A plan just made, read as staff read any plan (its patients' data recorded)."""
    return selectors.staff_plan(user=request.user, plan_id=proposal.pk, action=action)


class StaffBatchPlanView(APIView):
    permission_classes = STAFF

    @extend_schema(
        request=BatchPlanSerializer,
        responses={202: PlanProposalSerializer},
        description="Starts a batch plan in the background and answers at once with the plan "
        'in status "planning" (or already "proposed" when jobs run in-process). Follow the '
        "Location header until the status is proposed or failed.",
    )
    def post(self, request: Request, pk: int) -> Response:
        clinic = booking_selectors.staff_clinic(user=request.user, clinic_id=pk, capability=CHANGE)
        data = validated(BatchPlanSerializer, request.data)
        proposal = background.request_batch(
            clinic=clinic,
            task_ids=data.get("task_ids"),
            overdue_only=data["overdue_only"],
            created_by=request_user(request),
        )
        plan = _plan(request, proposal, "batch plan")
        response = Response(PlanProposalSerializer(plan).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("staff-plan-detail", args=[plan.pk], request=request)
        return response


class StaffReplanView(APIView):
    permission_classes = STAFF

    @extend_schema(request=None, responses={201: PlanProposalSerializer})
    def post(self, request: Request, pk: int) -> Response:
        absence = booking_selectors.staff_absence(
            user=request.user, absence_id=pk, capability=CHANGE
        )
        proposal = services.propose_replan(absence=absence, created_by=request_user(request))
        plan = _plan(request, proposal, "re-plan")
        return Response(PlanProposalSerializer(plan).data, status=status.HTTP_201_CREATED)


class StaffPlanListView(APIView):
    permission_classes = STAFF

    @extend_schema(parameters=[PlanFilterSerializer], responses=PlanProposalSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(PlanFilterSerializer, request.query_params)
        plans = selectors.staff_plans(user=request.user, filters=filters, action="plan list")
        return Response(PlanProposalSerializer(plans, many=True).data)


class StaffPlanDetailView(APIView):
    permission_classes = STAFF

    @extend_schema(responses=PlanProposalSerializer)
    def get(self, request: Request, pk: int) -> Response:
        plan = selectors.staff_plan(user=request.user, plan_id=pk, action="plan")
        return Response(PlanProposalSerializer(plan).data)


class StaffPlanApplyView(APIView):
    permission_classes = STAFF

    @extend_schema(request=None, responses=PlanProposalSerializer)
    def post(self, request: Request, pk: int) -> Response:
        plan = selectors.staff_plan(
            user=request.user, plan_id=pk, action="apply plan", capability=CHANGE
        )
        applied = services.apply_proposal(proposal=plan, actor=staff_actor(request_user(request)))
        return Response(PlanProposalSerializer(applied).data)


class StaffPlanDiscardView(APIView):
    permission_classes = STAFF

    @extend_schema(request=None, responses=PlanProposalSerializer)
    def post(self, request: Request, pk: int) -> Response:
        plan = selectors.staff_plan(
            user=request.user, plan_id=pk, action="discard plan", capability=CHANGE
        )
        discarded = services.discard_proposal(proposal=plan, user=request_user(request))
        return Response(PlanProposalSerializer(discarded).data)
