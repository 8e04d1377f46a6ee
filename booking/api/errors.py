"""One error shape for the whole API: `code` for programs, `detail` in the user's language."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from access.errors import NotAllowed, NotFound
from booking.errors import BookingError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The access policy's refusals answer as DRF's own 404 and 403 (the same codes and texts
    as before the policy left the views); a refused booking with its own code and message."""
    if isinstance(exc, NotFound):
        exc = exceptions.NotFound()
    elif isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, BookingError):
        return Response({"code": exc.code, "detail": str(exc.message)}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_body(exc), status=400)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(response.data["detail"], "code", "error"))
    return response


def validation_error_body(exc: DjangoValidationError) -> dict[str, Any]:
    """A service's refusal of its input: every message in `detail`, and those about one field
    under the field's name, as DRF's own field errors are."""
    body: dict[str, Any] = {"code": "invalid", "detail": exc.messages}
    if hasattr(exc, "error_dict"):
        body |= {
            field: messages
            for field, messages in exc.message_dict.items()
            if field not in ("code", "detail", "__all__")
        }
    return body


def error_response(code: str, detail: str, status: int) -> Response:
    return Response({"code": code, "detail": detail}, status=status)


def idempotency_key_reused() -> Response:
    return error_response(
        "idempotency_key_reused",
        _("This Idempotency-Key was already used for a different request."),
        422,
    )


def request_user(request: Any) -> User:
    """The logged-in user of a request that passed IsAuthenticated."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated
    return user
