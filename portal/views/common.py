"""What every patient page shares: who it acts for, and refusals said in people's words."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from booking.errors import BookingError
from patients.models import Patient
from portal.acting import acting_for

View = Callable[..., HttpResponse]


class PageRequest(HttpRequest):
    """A request to a patient page: logged in (patient_page saw to it), with django-htmx's
    details of whether htmx sent it."""

    user: User
    htmx: HtmxDetails


def patient_page(view: Callable[..., HttpResponse]) -> View:
    """Logged in, and acting for a patient: the view gets that patient as `patient`. A user
    with no patient record of their own (staff) gets a page that says so."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        patient = acting_for(request)
        if patient is None:
            return render(request, "portal/no_patient.html", status=403)
        return view(request, patient, *args, **kwargs)

    return wrapper


def say_refusal(request: HttpRequest, error: BookingError) -> None:
    """A refusal of the booking rules, as the message at the top of the next page."""
    messages.error(request, str(error.message))


def patient_name(patient: Patient) -> str:
    return patient.full_name
