"""Whom the logged-in user is acting for on these pages: themself, or someone they hold a
valid proxy for (a parent for a child, a power of attorney). The choice lives in the session;
whether it is still allowed is the policy's to say (patients.selectors), at every request, so
an expired or revoked proxy ends the switch at the next page."""

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.errors import NotFound
from patients.models import Patient
from patients.selectors import own_patient, patient_for

SESSION_KEY = "portal_acting_for"
PROXY_ENDED = gettext_lazy("The proxy has ended: you can no longer act for this person.")


def acting_for(request: HttpRequest) -> Patient | None:
    """The patient the pages act for now; None for a user with no patient record of their
    own and no valid proxy chosen."""
    if hasattr(request, "_portal_patient"):
        return request._portal_patient  # type: ignore[no-any-return]
    chosen = request.session.get(SESSION_KEY)
    patient: Patient | None
    try:
        patient = patient_for(user=request.user, patient_id=chosen) if chosen else None
    except NotFound:
        request.session.pop(SESSION_KEY, None)
        messages.warning(
            request,
            PROXY_ENDED,
        )
        patient = None
    if patient is None:
        patient = own_patient(request.user)
    request._portal_patient = patient  # type: ignore[attr-defined]
    return patient


def is_acting_for_someone_else(request: HttpRequest) -> bool:
    patient = acting_for(request)
    return patient is not None and patient.user_id != request.user.pk


def act_for(request: HttpRequest, patient: Patient) -> None:
    """Switch to a patient the user may act for (the caller asked the policy)."""
    if patient.user_id == request.user.pk:
        request.session.pop(SESSION_KEY, None)
    else:
        request.session[SESSION_KEY] = patient.pk
    request.__dict__.pop("_portal_patient", None)


def follow(request: HttpRequest, owner: Patient) -> None:
    """The page is about someone else the user may act for (a link in a message, say):
    act for them, and say so."""
    current = acting_for(request)
    if current is not None and current.pk == owner.pk:
        return
    act_for(request, owner)
    if owner.user_id != request.user.pk:
        messages.info(request, _("You are now acting for %(name)s.") % {"name": owner.full_name})
