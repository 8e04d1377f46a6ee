"""Writes of the outbox: the notices a change of an appointment causes, in its transaction;
sending the due ones; delivery reports; and staff's retry and "handled" for failed ones.

Sending: a batch of due notices (NOTIFICATIONS_DISPATCH_BATCH) is claimed in a transaction
(`select_for_update(skip_locked)` on PostgreSQL, so dispatchers running at once take different
rows; SQLite's write lock serialises them), each is sent while its row stays locked, and what
happened to each is written in the same transaction. A dispatcher that dies before its commit
leaves the rows waiting, and they are sent again: a duplicate can only come from a death
between a channel's answer and the commit of its batch (at most a batch's worth; a batch of
1 narrows it to one notice, at a cost in speed). A move of an appointment waits for a
reminder of it being sent (the drop of its waiting reminders needs the row), so no reminder of
an old time goes out after the move.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from booking.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    EventKind,
    PreparationTask,
)
from cores.notices import after_quiet_hours, retry_delay
from notifications.channels import Backend, Message, PermanentFailure, backend_for, close
from notifications.models import Channel, Notification, NotificationStatus, Purpose
from notifications.texts import render
from patients.models import Patient

logger = logging.getLogger(__name__)

PURPOSE_OF_EVENT = {
    EventKind.CREATED: Purpose.BOOKED,
    EventKind.RESCHEDULED: Purpose.MOVED,
    EventKind.CANCELLED: Purpose.CANCELLED,
}
# Appointments in these statuses get reminders (the others are over, or never were).
REMINDED_STATUSES = (AppointmentStatus.PENDING, AppointmentStatus.BOOKED)
PENDING = NotificationStatus.PENDING


# --- Writing the notices a change causes ------------------------------------------------------


def wanted_channels(patient: Patient) -> list[Channel]:
    """The channels the patient wants notices by (the patient pages' "notices" page)."""
    return [
        channel
        for channel, wanted in (
            (Channel.SMS, patient.notify_by_sms),
            (Channel.EMAIL, patient.notify_by_email),
        )
        if wanted
    ]


def _quiet_hours() -> tuple[time, time, ZoneInfo]:
    start, end = settings.NOTIFICATIONS_QUIET_HOURS
    return (
        time.fromisoformat(start),
        time.fromisoformat(end),
        ZoneInfo(settings.NOTIFICATIONS_QUIET_TIME_ZONE),
    )


def first_allowed(channel: str, at: datetime) -> datetime:
    """When a notice by this channel due at `at` may go: no SMS in the quiet hours."""
    if channel != Channel.SMS:
        return at
    start, end, tz = _quiet_hours()
    return after_quiet_hours(at, start=start, end=end, tz=tz)


def _notice(
    appointment: Appointment,
    channel: Channel,
    purpose: Purpose,
    due_at: datetime,
    *,
    lead_hours: int = 0,
    previous_starts_at: datetime | None = None,
) -> Notification:
    return Notification(
        appointment=appointment,
        clinic_id=appointment.clinic_id,
        channel=channel,
        purpose=purpose,
        starts_at=appointment.starts_at,
        previous_starts_at=previous_starts_at,
        lead_hours=lead_hours,
        due_at=due_at,
        next_attempt_at=first_allowed(channel, due_at),
    )


def _reminders(
    appointment: Appointment, channels: Sequence[Channel], now: datetime
) -> list[Notification]:
    """A reminder per channel and per lead time of the type, for the appointment's current
    time; none whose time has passed."""
    if appointment.status not in REMINDED_STATUSES:
        return []
    reminders = []
    for hours in sorted(set(appointment.appointment_type.reminder_hours), reverse=True):
        due_at = appointment.starts_at - timedelta(hours=hours)
        if due_at <= now:
            continue
        reminders += [
            _notice(appointment, channel, Purpose.REMINDER, due_at, lead_hours=hours)
            for channel in channels
        ]
    return reminders


def drop_pending_reminders(appointment: Appointment) -> int:
    """The appointment's time changed or it was cancelled: its waiting reminders are for a time
    that no longer holds, and are never sent. One being sent right now holds its row lock, and
    this waits for it (then it is no longer waiting, and stays as sent)."""
    return Notification.objects.filter(
        appointment=appointment, purpose=Purpose.REMINDER, status=PENDING
    ).update(status=NotificationStatus.DROPPED, last_error="the appointment changed")


def notices_for_change(appointment: Appointment, event: AppointmentEvent) -> list[Notification]:
    """booking.followers: a notice per channel the patient wants for a booking, move or
    cancellation, and the reminders for the appointment's new time. For a new appointment it
    reads nothing from the database (the booking fast path's one statement writes the rows)."""
    purpose = PURPOSE_OF_EVENT.get(EventKind(event.kind))
    if purpose is None:
        return []
    if purpose is not Purpose.BOOKED:
        drop_pending_reminders(appointment)
    channels = wanted_channels(appointment.patient)
    now = timezone.now()
    notices = [
        _notice(appointment, channel, purpose, now, previous_starts_at=event.old_starts_at)
        for channel in channels
    ]
    return notices + _reminders(appointment, channels, now)


# --- Sending -----------------------------------------------------------------------------------


def _claim(now: datetime, size: int) -> list[Notification]:
    """Lock up to `size` due notices that no other dispatcher holds, first due first."""
    return list(
        Notification.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("appointment__appointment_type", "appointment__patient", "clinic")
        .filter(status=PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")[:size]
    )


def _preparation_counts(batch: Sequence[Notification]) -> dict[int, int]:
    """How many preparations each booking's notice tells of, by appointment."""
    booked = {n.appointment_id for n in batch if n.purpose == Purpose.BOOKED}
    if not booked:
        return {}
    return dict(
        PreparationTask.objects.filter(appointment_id__in=booked)
        .values("appointment_id")
        .annotate(count=Count("id"))
        .values_list("appointment_id", "count")
    )


def _is_stale(notification: Notification, now: datetime) -> bool:
    """A reminder of a time the appointment no longer has, or of one that has passed."""
    appointment = notification.appointment
    return notification.purpose == Purpose.REMINDER and (
        appointment.status not in REMINDED_STATUSES
        or appointment.starts_at != notification.starts_at
        or appointment.starts_at <= now
    )


def _recipient(notification: Notification) -> str:
    patient = notification.appointment.patient
    return patient.phone if notification.channel == Channel.SMS else patient.email


def _message(notification: Notification, preparations: int) -> Message:
    text = render(notification, preparations=preparations)
    return Message(
        reference=str(notification.pk),
        recipient=_recipient(notification),
        subject=text.subject,
        text=text.body,
    )


# What sending changes on a row: written for the whole batch in one statement.
DISPATCH_FIELDS = ["status", "attempts", "last_error", "next_attempt_at", "sent_at"]


def _save(notification: Notification, **changes: object) -> None:
    assert set(changes) <= set(DISPATCH_FIELDS)
    for name, value in changes.items():
        setattr(notification, name, value)


def _failed(notification: Notification, error: str, now: datetime, *, permanent: bool) -> None:
    attempts = notification.attempts + 1
    if permanent or attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        _save(notification, status=NotificationStatus.FAILED, attempts=attempts, last_error=error)
        return
    delay = retry_delay(
        attempts,
        base=timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_S),
        cap=timedelta(seconds=settings.NOTIFICATIONS_RETRY_CAP_S),
    )
    _save(
        notification,
        attempts=attempts,
        last_error=error,
        next_attempt_at=first_allowed(notification.channel, now + delay),
    )


def _deliver(
    notification: Notification, now: datetime, preparations: int, backends: dict[str, Backend]
) -> None:
    if _is_stale(notification, now):
        _save(notification, status=NotificationStatus.DROPPED, last_error="the time is no longer")
        return
    allowed = first_allowed(notification.channel, now)
    if allowed > now:
        _save(notification, next_attempt_at=allowed)
        return
    message = _message(notification, preparations)
    if not message.recipient:
        _failed(
            notification, f"the patient has no {notification.channel} address", now, permanent=True
        )
        return
    try:
        if notification.channel not in backends:
            backends[notification.channel] = backend_for(notification.channel)
        backends[notification.channel].send(message)
    except PermanentFailure as exc:
        _failed(notification, str(exc)[:500], now, permanent=True)
    except Exception as exc:  # every other failure may pass: try again later
        logger.warning("Notification %s not sent: %r", notification.pk, exc)
        _failed(notification, repr(exc)[:500], now, permanent=False)
    else:
        _save(
            notification,
            status=NotificationStatus.SENT,
            attempts=notification.attempts + 1,
            sent_at=now,
            last_error="",
        )


def _commit_without_waiting_for_the_disk() -> None:
    """PostgreSQL: this transaction's commit returns before its WAL is on disk (the server
    writes it within a fraction of a second). A dispatcher that dies loses nothing by it; only
    a crash of the server itself in that fraction could forget that a notice was sent, and send
    it again. Waiting for the disk on every notice would cost more than the sending."""
    if connection.vendor == "postgresql":
        with connection.cursor() as db:
            db.execute("SET LOCAL synchronous_commit TO OFF")


def dispatch_batch(*, now: datetime | None = None, size: int | None = None) -> int:
    """Claim a batch of due notices and send each (or drop, defer or fail it), in one
    transaction that holds their rows until what happened to each is written. Returns how many
    it handled: 0 if none is due."""
    size = size or settings.NOTIFICATIONS_DISPATCH_BATCH
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        now = now or timezone.now()
        batch = _claim(now, size)
        counts = _preparation_counts(batch)
        backends: dict[str, Backend] = {}  # made when first needed, one per channel
        try:
            for notification in batch:
                _deliver(notification, now, counts.get(notification.appointment_id, 0), backends)
        finally:
            for backend in backends.values():
                close(backend)
        Notification.objects.bulk_update(batch, DISPATCH_FIELDS)
    return len(batch)


def dispatch_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Send the notices due at `now` (the clock's time, as each batch is claimed, without it),
    at most `limit` of them. Returns how many were handled. Safe to run in many places at once."""
    handled = 0
    while limit is None or handled < limit:
        size = settings.NOTIFICATIONS_DISPATCH_BATCH
        done = dispatch_batch(now=now, size=size if limit is None else min(size, limit - handled))
        if not done:
            break
        handled += done
    return handled


# --- Delivery reports and staff's follow-up -----------------------------------------------------


def delivery_report(
    *, reference: str, delivered: bool, detail: str = "", now: datetime | None = None
) -> bool:
    """The gateway's report on an SMS: delivered or failed. Only a sent SMS takes a report, so
    a repeated report (gateways repeat them) changes nothing. Returns whether it changed one."""
    if not reference.isdecimal():
        return False
    now = now or timezone.now()
    changed = Notification.objects.filter(
        pk=int(reference), channel=Channel.SMS, status=NotificationStatus.SENT
    ).update(
        status=NotificationStatus.DELIVERED if delivered else NotificationStatus.FAILED,
        delivered_at=now if delivered else None,
        last_error="" if delivered else (detail or "the gateway could not deliver it")[:500],
    )
    return changed == 1


def notification_retry(*, notification: Notification, now: datetime | None = None) -> Notification:
    """Send a failed notice again, from its first attempt. A reminder of a time that no longer
    holds is still dropped when its turn comes."""
    now = now or timezone.now()
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.FAILED).update(
        status=PENDING,
        attempts=0,
        last_error="",
        next_attempt_at=first_allowed(notification.channel, now),
        handled_at=None,
        handled_by=None,
    )
    notification.refresh_from_db()
    return notification


def notification_mark_handled(
    *, notification: Notification, user: User, now: datetime | None = None
) -> Notification:
    """A secretary has dealt with a failed notice some other way (a phone call, a letter)."""
    Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.FAILED, handled_at=None
    ).update(handled_at=now or timezone.now(), handled_by=user)
    notification.refresh_from_db()
    return notification
