"""One error shape for the whole API: `code` for programs, `detail` in the user's language."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from access.errors import NotAllowed, NotFound
from booking.errors import BookingError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The access policy's refusals answer as DRF's own 404 and 403 (the same codes and texts
    as before the policy left the views); a refused booking with its own code and message."""
    if isinstance(exc, RequestDataTooBig):
        _discard_body(context["request"])
        return error_response(
            "request_too_large",
            _("The request is too large: at most %(size)s MB.")
            % {"size": number_format(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000, 1)},
            413,
        )
    if isinstance(exc, TooManyFieldsSent):
        return error_response(
            "too_many_fields",
            _("The request has too many fields: at most %(n)d.")
            % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS},
            400,
        )
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


# A body up to this size is read and thrown away before refusing it as too large, so the
# client, still sending, gets the answer instead of a connection reset. Larger ones are
# cut off (a reverse proxy should refuse those first).
MAX_DISCARDED_BODY = 64 * 1024 * 1024


def _discard_body(request: Any) -> None:
    """Read what is left of a refused request's body, in chunks."""
    django_request = getattr(request, "_request", request)
    try:
        left = min(int(django_request.META.get("CONTENT_LENGTH") or 0), MAX_DISCARDED_BODY)
    except ValueError:
        return
    stream = django_request._stream
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            return
        left -= len(chunk)


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
