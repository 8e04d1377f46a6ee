"""The outbox: every notice to a patient is a row, written in the transaction of the change
that causes it, and sent by the dispatcher (notifications.dispatch) when it is due."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.models import Appointment, Clinic


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Purpose(models.TextChoices):
    BOOKED = "booked", _("Booked")
    MOVED = "moved", _("Moved")
    CANCELLED = "cancelled", _("Cancelled")
    REMINDER = "reminder", _("Reminder")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    DROPPED = "dropped", _("Not sent: no longer true")


class Notification(models.Model):
    # Lookups by appointment are for its reminders, which the unique key's index serves; an
    # index of its own would cost every booking one more index write per notice.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    # What the notice is about: the appointment's time when it was written (for a reminder, the
    # version of the time it reminds of), and the time before a move.
    starts_at = models.DateTimeField()
    previous_starts_at = models.DateTimeField(null=True, blank=True)
    # A reminder's hours before the appointment; 0 for the others.
    lead_hours = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    due_at = models.DateTimeField()
    # When the dispatcher may next try: due_at, later after a failure or in quiet hours.
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["next_attempt_at", "id"]
        indexes = [
            # The dispatcher's question: what is due now, first come first? Only waiting rows
            # are in it, in the order the dispatcher takes them (without the id, every claim
            # would sort all the rows due at one time).
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="notification_due",
            ),
            # Staff's question: which failed in my clinic?
            models.Index(
                fields=["clinic", "next_attempt_at"],
                condition=Q(status="failed"),
                name="notification_failed_by_clinic",
            ),
        ]
        constraints = [
            # One reminder per (what, which appointment, which version of its time): a second
            # for the same thing cannot be written. One dropped when the appointment moved
            # away does not count, so a move back to that time gets its reminders again.
            models.UniqueConstraint(
                fields=["appointment", "starts_at", "lead_hours", "channel"],
                condition=Q(purpose="reminder") & ~Q(status="dropped"),
                name="one_reminder_per_appointment_time",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notification_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values),
                name="notification_status_known",
            ),
            models.CheckConstraint(
                condition=Q(purpose="reminder", lead_hours__gt=0)
                | (~Q(purpose="reminder") & Q(lead_hours=0)),
                name="notification_lead_hours_only_for_reminders",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} by {self.channel} for appointment {self.appointment_id}"
