"""One error shape for the whole API: `code` for programs, `detail` in the user's language."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from booking.errors import BookingError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BookingError):
        return Response({"code": exc.code, "detail": str(exc.message)}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response({"code": "invalid", "detail": exc.messages}, status=400)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("code", getattr(response.data["detail"], "code", "error"))
    return response


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
        raise NotAuthenticated
    return user
