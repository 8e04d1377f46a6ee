"""Logging in and out, the language, and whom the pages act for."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patients.selectors import own_patient, patient_for
from patients.services import preferences_update
from portal.acting import act_for
from portal.forms import LanguageForm


class LoginView(auth_views.LoginView):
    """One login page for everyone (demo users now; an ID-porten backend can be added in
    settings without touching the pages). A patient's own language follows them in."""

    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = "utlopt" in self.request.GET
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        patient = own_patient(form.get_user())
        if patient is not None:
            _remember_language(response, patient.preferred_language)
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("portal:login")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the pages' language; remembered in a cookie and in the patient's own profile."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return redirect("portal:overview")
    chosen = form.cleaned_data["language"]
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("portal:overview")
    response = HttpResponseRedirect(target)
    _remember_language(response, chosen)
    patient = own_patient(request.user)
    if patient is not None and patient.preferred_language != chosen:
        preferences_update(patient=patient, preferred_language=chosen)
    return response


def _remember_language(response: HttpResponse, language_code: str) -> None:
    translation.activate(language_code)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language_code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


@login_required
@require_POST
def act_for_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Act for someone the user holds a valid proxy for (404 for anyone else)."""
    patient = patient_for(user=request.user, patient_id=patient_id)
    act_for(request, patient)
    if patient.user_id != request.user.pk:
        messages.info(request, _("You are now acting for %(name)s.") % {"name": patient.full_name})
    return redirect("portal:overview")


@login_required
@require_POST
def act_for_self(request: HttpRequest) -> HttpResponse:
    own = own_patient(request.user)
    if own is not None:
        act_for(request, own)
    return redirect("portal:overview")
