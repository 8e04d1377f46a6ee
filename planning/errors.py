"""Refusals of the planning services, with codes for programs and messages for people."""

from django.utils.translation import gettext_lazy as _

from booking.errors import BookingError


class TaskNotChoosable(BookingError):
    code = "booking_task_not_choosable"
    http_status = 409
    message = _("A time can no longer be chosen for this booking. Please contact the clinic.")


class TaskNotMoved(BookingError):
    code = "booking_task_not_moved"
    http_status = 409
    message = _("There is no new time to accept for this booking.")


class OutsideTaskWindow(BookingError):
    code = "outside_task_window"
    message = _("Please choose a time between the dates given in the invitation.")


class PlanNotProposed(BookingError):
    code = "plan_not_proposed"
    http_status = 409
    message = _("This plan is closed: it has been applied or discarded, or it could not be made.")


class PlanNotReady(BookingError):
    code = "plan_not_ready"
    http_status = 409
    message = _("This plan is still being made. Please wait a moment and look again.")


class PlanOutOfDate(BookingError):
    code = "plan_out_of_date"
    http_status = 409
    message = _(
        "The calendars changed after this plan was made, so nothing was changed. "
        "Please make a new plan."
    )


class NothingToPlan(BookingError):
    code = "nothing_to_plan"
    http_status = 422
    message = _("There is nothing to plan: no open booking tasks or affected appointments.")


class PlannerFailed(BookingError):
    code = "planner_error"
    http_status = 500
    message = _("The planner stopped with an error. Please try again, or plan by hand.")
