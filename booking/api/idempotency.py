"""Idempotency-Key for booking POSTs: a repeat returns the first answer and creates nothing new.

The key's record is inserted first, inside the same transaction as the booking, so a concurrent
repeat waits on the unique index and then replays the first answer instead of booking again.
Only successful answers are kept, for IdempotencyRecord.KEPT_FOR (a job in booking.tasks deletes
them after that); a refused request changed nothing and may simply be retried.
A replay first asks the view whether the user may still act on what the request names: the
first answer holds a patient's data, and a proxy may have ended since.
"""

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from booking.api.errors import error_response, idempotency_key_reused, request_user
from booking.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

Handler = Callable[..., Response]
# Raises (NotFound, PermissionDenied) unless the user may still act on what the request names.
Authorize = Callable[..., object]


class _Undo(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _replay(
    request: Request, key: str, fingerprint: str, authorize: Callable[[], object]
) -> Response | None:
    record = IdempotencyRecord.objects.filter(user=request_user(request), key=key).first()
    if record is None:
        return None
    if record.has_expired(timezone.now()):
        record.delete()  # after its expiry, a key's request is new again
        return None
    if record.request_fingerprint != fingerprint:
        return idempotency_key_reused()
    authorize()
    return Response(
        record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"}
    )


def _first_run(
    handler: Handler,
    view: Any,
    request: Request,
    key: str,
    fingerprint: str,
    *args: Any,
    **kwargs: Any,
) -> Response | None:
    """Run the handler once under the key; None if a concurrent request owns the key."""
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request_user(request),
                        key=key,
                        request_fingerprint=fingerprint,
                        status_code=0,
                        response_body={},
                    )
            except IntegrityError:
                return None
            response = handler(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                raise _Undo(response)
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, response_body=_as_json(response.data)
            )
            return response
    except _Undo as undo:
        return undo.response


def idempotent(authorize: Authorize) -> Callable[[Handler], Handler]:
    """Make a POST handler idempotent per user and key. `authorize(view, request, *args,
    **kwargs)` is the handler's own access check, run again before a stored answer is replayed."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                return handler(view, request, *args, **kwargs)
            if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
                return error_response(
                    "invalid_idempotency_key",
                    _("The Idempotency-Key header must be 1–200 printable characters."),
                    400,
                )
            fingerprint = _fingerprint(request)

            def may_still_act() -> object:
                return authorize(view, request, *args, **kwargs)

            replayed = _replay(request, key, fingerprint, may_still_act)
            if replayed is not None:
                return replayed
            response = _first_run(handler, view, request, key, fingerprint, *args, **kwargs)
            return (
                response
                or _replay(request, key, fingerprint, may_still_act)
                or idempotency_key_reused()
            )

        return wrapper

    return decorate
