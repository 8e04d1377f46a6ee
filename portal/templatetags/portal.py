"""Dates and times as patients read them, in their language and the clinic's time zone:
"tirsdag 8. desember" and "kl. 14.45", "Tuesday 8 December" and "14:45"."""

from datetime import date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.models import Appointment
from portal.forms import WEEKDAYS

register = template.Library()


@register.filter
def day(value: date | datetime) -> str:
    """The weekday, day and month: "tirsdag 8. desember"."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return formats.date_format(value, "MONTH_DAY_FORMAT")


@register.filter
def clock(value: datetime) -> str:
    """The time of day: "kl. 14.45" in Norwegian, "14:45" in English."""
    return _("at %(time)s") % {"time": formats.time_format(timezone.localtime(value))}


@register.filter
def when(value: datetime) -> str:
    """Day and time: "tirsdag 8. desember kl. 14.45"."""
    return f"{day(value)} {clock(value)}"


@register.filter
def full_date(value: date | datetime) -> str:
    """With the year: "tirsdag 8. desember 2026"."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")


@register.filter
def done_count(appointment: Appointment) -> int:
    """How many of the appointment's preparations are done (they are read with it)."""
    return len([task for task in appointment.preparation_tasks.all() if task.is_done])


# What a staff read of the access log was, in words a patient understands (by the action's
# beginning, as the selectors write it).
_READS = [
    ("attendance list", gettext_lazy("The day's list of appointments")),
    ("booking task list", gettext_lazy("The list of booking tasks")),
    ("booking task offers", gettext_lazy("The times offered to you")),
    ("cancel booking task", gettext_lazy("A booking task, to cancel it")),
    ("create booking task", gettext_lazy("Your referral, to ask you to choose a time")),
    ("booking task", gettext_lazy("A booking task")),
    ("referral list", gettext_lazy("The list of referrals")),
    ("referral", gettext_lazy("Your referral")),
    ("patient lookup", gettext_lazy("Your name, looked up to register a referral")),
    ("plan list", gettext_lazy("Plans for booking tasks and moved appointments")),
    ("apply plan", gettext_lazy("A plan, to carry it out")),
    ("discard plan", gettext_lazy("A plan, to discard it")),
    ("batch plan", gettext_lazy("A plan for booking tasks")),
    ("re-plan", gettext_lazy("A plan to move appointments")),
    ("plan", gettext_lazy("A plan for booking tasks and moved appointments")),
    ("book", gettext_lazy("Your appointment, to book it for you")),
    ("reschedule", gettext_lazy("Your appointment, to move it")),
    ("cancel", gettext_lazy("Your appointment, to cancel it")),
]


@register.filter
def what_was_read(action: str) -> str:
    for start, words in _READS:
        if action.startswith(start):
            return str(words)
    return action


@register.filter
def weekday_name(weekday: int) -> str:
    return str(dict(WEEKDAYS).get(weekday, weekday))
