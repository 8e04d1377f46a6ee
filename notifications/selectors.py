"""Reads of the outbox. Staff see the failed notices of their clinics, to follow them up; the
read shows patients' data and is logged like every staff read."""

from django.db.models import QuerySet

from access.users import AnyUser
from booking.selectors import record_reads, staff_clinic
from notifications.models import Notification, NotificationStatus


def failed_notifications(
    *, user: AnyUser, clinic_id: int, include_handled: bool = False
) -> list[Notification]:
    """The clinic's notices that could not be sent or delivered, newest first; those a
    secretary has marked handled only when asked for."""
    clinic = staff_clinic(user=user, clinic_id=clinic_id)
    failed: QuerySet[Notification] = Notification.objects.filter(
        clinic=clinic, status=NotificationStatus.FAILED
    ).select_related("appointment__patient", "appointment__appointment_type")
    if not include_handled:
        failed = failed.filter(handled_at=None)
    notifications = list(failed.order_by("-next_attempt_at", "-id"))
    record_reads(
        user, [(n.appointment.patient, clinic) for n in notifications], "failed notifications"
    )
    return notifications
