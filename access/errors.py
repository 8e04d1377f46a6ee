"""The access policy's two refusals. The API answers them 404 and 403 with the codes and texts it
always has (booking.api.errors); pages show their own 404 and 403 pages."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class AccessRefused(Exception):
    http_status = 403
    message: str | Promise = _("You do not have permission to perform this action.")

    def __init__(self, message: str | Promise | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class NotFound(AccessRefused):
    """No such object, or one the user may not see: the two are told apart by no one, so that
    walking ids reveals nothing."""

    http_status = 404
    message = _("Not found.")


class NotAllowed(AccessRefused):
    """The user may not do this at all: not staff, or a role that may not (a clinician changing
    configuration). Never used where it would tell that an object exists."""
