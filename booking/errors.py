"""Every way a booking can be refused, each with its own code and a message a patient understands.

The messages are translated (nb, nn, en) through Django's gettext; the API sends `code` for
programs and `detail` in the requester's language for people.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class BookingError(Exception):
    code = "booking_error"
    http_status = 422
    message: str | Promise = _("The booking could not be completed.")

    def __init__(self, message: str | Promise | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class SlotUnavailable(BookingError):
    code = "slot_unavailable"
    http_status = 409
    message = _("This time is no longer available. Please choose another time.")


class AppointmentTypeChanged(BookingError):
    """The type was changed (or removed) after it was read, so the booking would follow rules
    that are no longer the clinic's."""

    code = "appointment_type_changed"
    http_status = 409
    message = _(
        "The clinic changed this appointment type while you were booking. Please try again."
    )


class PatientBusy(BookingError):
    code = "patient_has_overlapping_appointment"
    http_status = 409
    message = _("You already have an appointment at this time.")


class NotSelfBookable(BookingError):
    code = "not_self_bookable"
    http_status = 403
    message = _("This type of appointment cannot be booked online. Please contact the clinic.")


class AppointmentTypeInactive(BookingError):
    code = "appointment_type_inactive"
    message = _("This type of appointment is no longer offered.")


class NoticeTooShort(BookingError):
    code = "notice_too_short"
    message = _("This time is too soon. Please choose a later time.")


class BeyondBookingHorizon(BookingError):
    code = "beyond_booking_horizon"
    message = _("This time is too far ahead. Please choose an earlier time.")


class NotOnGrid(BookingError):
    code = "not_on_grid"
    message = _(
        "Appointments of this type start on fixed times. Please choose one of the offered times."
    )


class TimeInPast(BookingError):
    code = "time_in_past"
    message = _("This time has already passed.")


class ChangeCutoffPassed(BookingError):
    code = "change_cutoff_passed"
    message = _(
        "It is too late to change or cancel this appointment online. Please contact the clinic."
    )


class MaxChangesReached(BookingError):
    code = "max_changes_reached"
    message = _(
        "You have changed this appointment as many times as allowed. Please contact the clinic."
    )


class AppointmentNotChangeable(BookingError):
    code = "appointment_not_changeable"
    http_status = 409
    message = _("This appointment can no longer be changed.")


class SameTime(BookingError):
    code = "same_time"
    message = _("The appointment already has this time.")


class WaitlistOfferClosed(BookingError):
    code = "waitlist_offer_closed"
    http_status = 409
    message = _("This earlier time is no longer offered. You keep the time you have.")
