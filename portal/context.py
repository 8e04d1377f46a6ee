from typing import Any

from django.http import HttpRequest

from portal.acting import acting_for as current_patient
from portal.acting import is_acting_for_someone_else


def acting_for(request: HttpRequest) -> dict[str, Any]:
    """For every page: whom the user acts for, so the banner can say so."""
    if (
        not request.user.is_authenticated
        or not request.path.startswith("/")
        or (request.path.startswith(("/api/", "/admin/", "/static/")))
    ):
        return {}
    return {
        "acting_for": current_patient(request),
        "acting_for_someone_else": is_acting_for_someone_else(request),
    }
