"""The texts of the notices, rendered when they are sent: in the patient's language as it is
then, with times on the clinic's clock written as that language writes them.

A notice names no diagnosis and no sensitive type: only the type's patient-facing name, the
time, and a link to the patient's own pages, where they log in to see the rest.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from notifications.models import Channel, Notification, Purpose


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def _when(at: datetime | None, tz: ZoneInfo) -> str:
    return "" if at is None else date_format(at.astimezone(tz), "DATETIME_FORMAT")


def _subject(purpose: str) -> str:
    return {
        Purpose.BOOKED: gettext("Your appointment"),
        Purpose.MOVED: gettext("Your appointment has been moved"),
        Purpose.CANCELLED: gettext("Your appointment has been cancelled"),
        Purpose.REMINDER: gettext("Reminder of your appointment"),
    }[Purpose(purpose)]


def _body(notification: Notification, preparations: int) -> str:
    appointment = notification.appointment
    tz = notification.clinic.tz
    facts = {
        "what": appointment.appointment_type.display_name,
        "when": _when(notification.starts_at, tz),
        "before": _when(notification.previous_starts_at, tz),
        "link": settings.PATIENT_PAGES_URL,
    }
    purpose = Purpose(notification.purpose)
    if purpose is Purpose.BOOKED:
        text = gettext("You have an appointment: %(what)s, %(when)s.") % facts
        if preparations:
            text += " " + ngettext(
                "There is %(count)d thing to prepare before it.",
                "There are %(count)d things to prepare before it.",
                preparations,
            ) % {"count": preparations}
        see = gettext("See the time, the place and what to prepare: %(link)s")
    elif purpose is Purpose.MOVED:
        text = gettext("Your appointment %(what)s has been moved from %(before)s to %(when)s.")
        text %= facts
        see = gettext("See the new time, or choose another: %(link)s")
    elif purpose is Purpose.CANCELLED:
        text = gettext("Your appointment %(what)s, %(when)s, has been cancelled.") % facts
        see = gettext("See your appointments: %(link)s")
    else:
        text = gettext("Reminder: you have an appointment: %(what)s, %(when)s.") % facts
        see = gettext("See the place and what to prepare: %(link)s")
    return f"{text} {see % facts}"


def render(notification: Notification, *, preparations: int = 0) -> Text:
    """The notice's text in its patient's language (nb, nn or en). `preparations`: how many
    preparations a booking's notice tells of."""
    language = notification.appointment.patient.preferred_language
    with translation.override(language):
        body = _body(notification, preparations)
        if notification.channel == Channel.EMAIL:
            body = "\n\n".join((body, gettext("This message cannot be answered.")))
        return Text(subject=_subject(notification.purpose), body=body)
