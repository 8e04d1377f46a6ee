"""Preparations to tick off, when the patient can come, how they hear from the clinic, and
who among the staff has read their data."""

from itertools import groupby

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.selectors import access_log_for
from booking import selectors as booking
from booking import services as booking_services
from patients import services as patient_services
from patients.models import Patient
from patients.selectors import availability_of
from portal.forms import AvailabilityWindowForm, NotificationForm, UnavailablePeriodForm
from portal.views.common import PageRequest, patient_page

LOG_PAGE_SIZE = 20


@patient_page
def preparations(request: PageRequest, patient: Patient) -> HttpResponse:
    tasks = booking.preparation_tasks_of(user=request.user, patient_id=patient.pk).order_by(
        "appointment__starts_at", "due_date", "pk"
    )
    grouped = [
        (appointment, list(rows))
        for appointment, rows in groupby(tasks, key=lambda task: task.appointment)
    ]
    return render(request, "portal/preparations.html", {"grouped": grouped})


@require_POST
@patient_page
def preparation_mark(request: PageRequest, patient: Patient, task_id: int) -> HttpResponse:
    task = booking.preparation_task_for(user=request.user, task_id=task_id)
    done = request.POST.get("gjort") == "ja"
    booking_services.preparation_task_mark(
        task=task,
        done=done,
        actor=booking_services.patient_actor(user=request.user, patient=task.appointment.patient),
    )
    if request.htmx:
        return render(request, "portal/_preparation.html", {"task": task})
    messages.success(request, _("Marked as done.") if done else _("Marked as not done."))
    if request.POST.get("tilbake") == "time":
        return redirect("portal:appointment", task.appointment_id)
    return redirect("portal:preparations")


@patient_page
def availability(request: PageRequest, patient: Patient) -> HttpResponse:
    window_form = AvailabilityWindowForm(prefix="vindu")
    period_form = UnavailablePeriodForm(prefix="borte")
    if request.method == "POST":
        what = request.POST.get("handling")
        if what == "vindu":
            window_form = AvailabilityWindowForm(request.POST, prefix="vindu")
            if window_form.is_valid():
                patient_services.availability_window_add(
                    patient=patient, **window_form.cleaned_data
                )
                messages.success(
                    request, _("Saved. New times offered to you take it into account.")
                )
                return redirect("portal:availability")
        elif what == "borte":
            period_form = UnavailablePeriodForm(request.POST, prefix="borte")
            if period_form.is_valid():
                patient_services.unavailable_period_add(patient=patient, **period_form.cleaned_data)
                messages.success(
                    request, _("Saved. New times offered to you take it into account.")
                )
                return redirect("portal:availability")
        elif what in ("fjern-vindu", "fjern-borte"):
            return _remove(request, patient, what)
    windows, periods = availability_of(patient=patient)
    context = {
        "windows": windows,
        "periods": periods,
        "window_form": window_form,
        "period_form": period_form,
    }
    return render(
        request,
        "portal/availability.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def _remove(request: PageRequest, patient: Patient, what: str) -> HttpResponse:
    try:
        row_id = int(request.POST.get("id", ""))
    except ValueError:
        return redirect("portal:availability")
    if what == "fjern-vindu":
        patient_services.availability_window_remove(patient=patient, window_id=row_id)
    else:
        patient_services.unavailable_period_remove(patient=patient, period_id=row_id)
    messages.success(request, _("Removed."))
    return redirect("portal:availability")


@patient_page
def notifications(request: PageRequest, patient: Patient) -> HttpResponse:
    initial = {
        "notify_by_sms": patient.notify_by_sms,
        "notify_by_email": patient.notify_by_email,
        "preferred_language": patient.preferred_language,
    }
    form = NotificationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        patient_services.preferences_update(patient=patient, **form.cleaned_data)
        messages.success(request, _("Your choices are saved."))
        return redirect("portal:notifications")
    context = {"form": form, "patient": patient}
    return render(request, "portal/notifications.html", context, status=400 if form.errors else 200)


@patient_page
def access_log(request: PageRequest, patient: Patient) -> HttpResponse:
    reads = access_log_for(user=request.user, patient_id=patient.pk)
    page = Paginator(reads, LOG_PAGE_SIZE).get_page(request.GET.get("side"))
    return render(request, "portal/access_log.html", {"page": page})
