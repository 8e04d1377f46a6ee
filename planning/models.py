"""Booking tasks (timeoppgaver) and the plans the solver proposes for them.

A booking task asks a patient to choose a time for an appointment type between two dates. If
the patient has not chosen by the task's due date, the clinic's batch plan assigns a time.
When an absence hits booked appointments, a re-plan proposal moves them; a secretary previews
and applies it, and each moved patient gets a booking task to accept the new time or choose
another.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from booking.models import Absence, Appointment, AppointmentType, Clinic
from patients.models import Patient, Referral, ReferralPriority


class BookingTaskStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the patient's choice")
    CHOSEN = "chosen", _("The patient chose a time")
    ASSIGNED = "assigned", _("The clinic assigned a time")
    MOVED = "moved", _("Moved by the clinic; the patient may accept or choose another time")
    CANCELLED = "cancelled", _("Cancelled")


# Tasks that still wait for someone to act: they take part in protection and batch planning.
PENDING_TASK_STATUSES = (BookingTaskStatus.OPEN,)
# The patient may pick a time (or another time) for these.
CHOOSABLE_TASK_STATUSES = (BookingTaskStatus.OPEN, BookingTaskStatus.MOVED)


class BookingTask(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="booking_tasks")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="booking_tasks")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="booking_tasks"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="booking_tasks"
    )
    earliest_date = models.DateField(help_text=_("The appointment may be on this day or later."))
    latest_date = models.DateField(help_text=_("The appointment must be on this day or earlier."))
    deadline = models.DateField(help_text=_("Legal deadline for care (frist)."))
    respond_by = models.DateField(
        help_text=_("Due date: if the patient has not chosen by then, the clinic assigns a time.")
    )
    priority = models.PositiveSmallIntegerField(
        choices=ReferralPriority.choices, default=ReferralPriority.NORMAL
    )
    status = models.CharField(
        max_length=10, choices=BookingTaskStatus.choices, default=BookingTaskStatus.OPEN
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="booking_tasks"
    )
    note = models.CharField(max_length=500, blank=True)
    chosen_after_more_times = models.BooleanField(
        null=True,
        blank=True,
        help_text=_(
            "Whether the patient chose a time beyond the first times offered; empty until "
            "the patient chooses."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["respond_by", "id"]
        indexes = [models.Index(fields=["clinic", "status", "respond_by"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(latest_date__gte=F("earliest_date")),
                name="booking_task_latest_not_before_earliest",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=3), name="booking_task_priority_1_3"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BookingTaskStatus.values),
                name="booking_task_status_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[BookingTaskStatus.OPEN, BookingTaskStatus.CANCELLED])
                | Q(appointment__isnull=False),
                name="booking_task_decided_has_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} for {self.patient} ({self.status})"


class PlanKind(models.TextChoices):
    BATCH = "batch", _("Batch plan for booking tasks")
    REPLAN = "replan", _("Re-plan after an absence")


class PlanStatus(models.TextChoices):
    PLANNING = "planning", _("Being planned")
    FAILED = "failed", _("Failed")
    PROPOSED = "proposed", _("Proposed")
    APPLIED = "applied", _("Applied")
    DISCARDED = "discarded", _("Discarded")


class PlanProposal(models.Model):
    """What the solver proposes; nothing changes until it is applied."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="plan_proposals")
    kind = models.CharField(max_length=10, choices=PlanKind.choices)
    status = models.CharField(
        max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    absence = models.ForeignKey(
        Absence, null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_proposals"
    )
    # What a batch plan asked for, kept so a background job can make the plan later.
    requested_task_ids = models.JSONField(null=True, blank=True)
    overdue_only = models.BooleanField(default=False)
    # When a background job took the plan up; a second job leaves it alone.
    planning_started_at = models.DateTimeField(null=True, blank=True)
    solver_status = models.CharField(max_length=20, blank=True)
    objective = models.FloatField(null=True, blank=True)
    best_bound = models.FloatField(null=True, blank=True)
    wall_time_s = models.FloatField(default=0.0)
    failure = models.CharField(
        max_length=40, blank=True, help_text=_("The error code of why no plan could be made.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=PlanKind.BATCH, absence__isnull=True) | Q(kind=PlanKind.REPLAN),
                name="plan_proposal_absence_only_for_replan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} plan for {self.clinic} ({self.status})"


class PlanItem(models.Model):
    """One task or appointment in a proposal: its new time and resources, or why it has none.

    For a re-plan the old time and resources are kept, so applying can check that nothing
    changed since the preview.
    """

    proposal = models.ForeignKey(PlanProposal, on_delete=models.CASCADE, related_name="items")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    booking_task = models.ForeignKey(
        BookingTask, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    old_starts_at = models.DateTimeField(null=True, blank=True)
    old_resource_ids = models.JSONField(default=list, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    resource_ids = models.JSONField(default=list, blank=True)
    deadline_met = models.BooleanField(default=True)
    days_moved = models.IntegerField(default=0)
    unplaced_reason = models.CharField(max_length=60, blank=True)
    unplaced_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking_task__isnull=False) | Q(appointment__isnull=False),
                name="plan_item_has_task_or_appointment",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True, unplaced_reason__gt="")
                | Q(starts_at__isnull=False, ends_at__gt=F("starts_at"), unplaced_reason=""),
                name="plan_item_placed_or_explained",
            ),
        ]

    def __str__(self) -> str:
        subject = f"task {self.booking_task_id}" if self.booking_task_id else "appointment"
        return f"{subject} of proposal {self.proposal_id}: {self.starts_at or self.unplaced_reason}"
