from typing import Any

from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from booking.api import fields
from booking.api.serializers import PatientSummarySerializer
from cores import solver
from patients.models import Referral, ReferralPriority, ReferralStatus
from planning.errors import NothingToPlan, PlannerFailed
from planning.models import (
    BookingTask,
    BookingTaskStatus,
    PlanItem,
    PlanKind,
    PlanProposal,
    PlanStatus,
)
from planning.services import WINDOW_PASSED, OfferPage

_FAILURES = {error.code: error for error in (NothingToPlan, PlannerFailed)}

MAX_OFFERS_PER_PAGE = 50

# What a patient is told when no time can be offered; staff also see the solver's detail.
PATIENT_REASONS = {
    solver.Reason.NO_TIME_MATCHES_FILTER.value: gettext_lazy(
        "No free times match your choice of days or time of day. Please try other days."
    ),
    WINDOW_PASSED: gettext_lazy(
        "The period for choosing a time is over. Please contact the clinic."
    ),
}
NO_TIMES = gettext_lazy("There are no free times to offer right now. Please contact the clinic.")


class BookingTaskSerializer(serializers.ModelSerializer[BookingTask]):
    patient = PatientSummarySerializer()
    appointment_type = serializers.SerializerMethodField()
    clinic = serializers.CharField(source="clinic.name")
    appointment_starts_at = serializers.DateTimeField(
        source="appointment.starts_at", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = BookingTask
        fields = [
            "id",
            "patient",
            "appointment_type",
            "clinic",
            "earliest_date",
            "latest_date",
            "respond_by",
            "status",
            "appointment",
            "appointment_starts_at",
        ]

    def get_appointment_type(self, task: BookingTask) -> dict[str, Any]:
        return {"id": task.appointment_type_id, "name": task.appointment_type.display_name}


class StaffBookingTaskSerializer(BookingTaskSerializer):
    class Meta(BookingTaskSerializer.Meta):
        fields = [*BookingTaskSerializer.Meta.fields, "deadline", "priority", "referral", "note"]

    def get_appointment_type(self, task: BookingTask) -> dict[str, Any]:
        return {"id": task.appointment_type_id, "name": task.appointment_type.name}


class ReferralSerializer(serializers.ModelSerializer[Referral]):
    patient = PatientSummarySerializer()

    class Meta:
        model = Referral
        fields = ["id", "patient", "clinic", "received_on", "care_deadline", "priority", "status"]


class ReferralCreateSerializer(serializers.Serializer[Any]):
    national_id = serializers.RegexField(
        r"^[0-9]{11}$",
        error_messages={"invalid": _("Enter the 11 digits of the national identity number.")},
    )
    clinic = fields.IdField()
    received_on = fields.DateField()
    care_deadline = fields.DateField(help_text="The legal deadline for care (frist).")
    priority = serializers.ChoiceField(
        choices=ReferralPriority.choices, default=ReferralPriority.NORMAL
    )


class ReferralFilterSerializer(serializers.Serializer[Any]):
    clinic = fields.IdField(required=False)
    patient = fields.IdField(required=False)
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)


class BookingTaskCreateSerializer(serializers.Serializer[Any]):
    patient = fields.IdField()
    appointment_type = fields.IdField()
    referral = fields.IdField(help_text="The referral the task is for, in the type's clinic.")
    earliest_date = fields.DateField()
    latest_date = fields.DateField()
    respond_by = fields.DateField()
    deadline = fields.DateField(required=False)
    priority = serializers.IntegerField(required=False, min_value=1, max_value=3)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class StaffTaskFilterSerializer(serializers.Serializer[Any]):
    clinic = fields.IdField(required=False)
    patient = fields.IdField(required=False)
    status = serializers.ChoiceField(choices=BookingTaskStatus.choices, required=False)


class PlanFilterSerializer(serializers.Serializer[Any]):
    clinic = fields.IdField(required=False)
    kind = serializers.ChoiceField(choices=PlanKind.choices, required=False)
    status = serializers.ChoiceField(choices=PlanStatus.choices, required=False)
    absence = fields.IdField(required=False)


class OffersQuerySerializer(serializers.Serializer[Any]):
    offset = serializers.IntegerField(required=False, min_value=0, max_value=1000, default=0)
    count = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_OFFERS_PER_PAGE, default=None
    )
    weekday = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        help_text="Only these weekdays (0 = Monday); repeat the parameter for several.",
    )
    part_of_day = serializers.ChoiceField(
        choices=[p.value for p in solver.PartOfDay], required=False
    )


class OfferSerializer(serializers.Serializer[Any]):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    fits_availability = serializers.BooleanField()


class StaffOfferSerializer(OfferSerializer):
    deadline_met = serializers.BooleanField()
    resource_ids = serializers.ListField(child=serializers.IntegerField())


class OfferPageSerializer(serializers.Serializer[Any]):
    offers = OfferSerializer(many=True)
    has_more = serializers.BooleanField()
    next_offset = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)


class StaffOfferPageSerializer(OfferPageSerializer):
    offers = StaffOfferSerializer(many=True)
    detail = serializers.CharField(allow_blank=True)


def offer_page_data(page: OfferPage, offset: int) -> dict[str, Any]:
    message = ""
    if not page.offers:
        message = str(PATIENT_REASONS.get(page.reason, NO_TIMES))
    return {
        "offers": page.offers,
        "has_more": page.has_more,
        "next_offset": offset + len(page.offers) if page.has_more else None,
        "reason": page.reason,
        "message": message,
        "detail": page.detail,
    }


class ChooseSerializer(serializers.Serializer[Any]):
    starts_at = fields.DateTimeField()
    after_more_times = serializers.BooleanField(
        default=False,
        help_text="True when the time was not among the first offers shown (offset 0, the "
        "type's offers_count): the leaders' offer acceptance counts it.",
    )


class BatchPlanSerializer(serializers.Serializer[Any]):
    task_ids = serializers.ListField(
        child=fields.IdField(), required=False, max_length=5000, allow_empty=False
    )
    overdue_only = serializers.BooleanField(default=False)


class PlanItemSerializer(serializers.ModelSerializer[PlanItem]):
    patient = PatientSummarySerializer()

    class Meta:
        model = PlanItem
        fields = [
            "id",
            "patient",
            "booking_task",
            "appointment",
            "old_starts_at",
            "old_resource_ids",
            "starts_at",
            "ends_at",
            "resource_ids",
            "deadline_met",
            "days_moved",
            "unplaced_reason",
            "unplaced_detail",
        ]


class PlanProposalSerializer(serializers.ModelSerializer[PlanProposal]):
    items = PlanItemSerializer(many=True)
    summary = serializers.SerializerMethodField()
    failure_detail = serializers.SerializerMethodField(
        help_text="Why the plan could not be made, for people (status failed)."
    )

    class Meta:
        model = PlanProposal
        fields = [
            "id",
            "clinic",
            "kind",
            "status",
            "absence",
            "solver_status",
            "objective",
            "best_bound",
            "wall_time_s",
            "failure",
            "failure_detail",
            "created_at",
            "decided_at",
            "summary",
            "items",
        ]

    def get_failure_detail(self, proposal: PlanProposal) -> str | None:
        failure = _FAILURES.get(proposal.failure)
        return None if failure is None else str(failure.message)

    def get_summary(self, proposal: PlanProposal) -> dict[str, int]:
        items = list(proposal.items.all())
        placed = [i for i in items if i.starts_at is not None]
        return {
            "items": len(items),
            "placed": len(placed),
            "unplaced": len(items) - len(placed),
            "deadlines_missed": sum(not i.deadline_met for i in placed),
            "moved_to_other_day": sum(i.days_moved != 0 for i in placed),
        }
