"""One appointment: its time, place and preparations; change it, cancel it, put it in a
calendar, or ask for an earlier time."""

from datetime import datetime, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import selectors, services
from booking.calendar_file import appointment_ics
from booking.errors import BookingError, SlotUnavailable, WaitlistOfferClosed
from booking.models import CHANGEABLE_STATUSES, Appointment, WaitlistOffer
from patients.models import Patient
from portal.acting import follow
from portal.forms import MAX_MORE, CancelForm, TimeFilterForm, parse_chosen_time
from portal.picker import by_day, query
from portal.views.common import PageRequest, patient_page, say_refusal

CHANGE_WEEKS = 4  # weeks of free times shown at a time when changing


def _appointment(request: PageRequest, appointment_id: int) -> Appointment:
    appointment = selectors.appointment_for(user=request.user, appointment_id=appointment_id)
    follow(request, appointment.patient)
    return appointment


def _may_change(appointment: Appointment, request: PageRequest) -> str:
    """Why the patient may not change or cancel it online, or "" if they may."""
    actor = services.patient_actor(user=request.user, patient=appointment.patient)
    try:
        services.check_patient_may_change(appointment=appointment, actor=actor, now=timezone.now())
    except BookingError as error:
        return str(error.message)
    return ""


@patient_page
def detail(request: PageRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    context = {
        "appointment": appointment,
        "new": "ny" in request.GET,
        "not_changeable": _may_change(appointment, request),
        "holding": appointment.status in CHANGEABLE_STATUSES,
        "on_waitlist": hasattr(appointment, "waitlist_entry"),
    }
    return render(request, "portal/appointment.html", context)


@patient_page
def calendar_file(request: PageRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    link = request.build_absolute_uri(reverse("portal:appointment", args=[appointment.pk]))
    response = HttpResponse(appointment_ics(appointment, link), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="time-{appointment.pk}.ics"'
    return response


@patient_page
def change(request: PageRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    refusal = _may_change(appointment, request)
    if refusal:
        context = {"appointment": appointment, "why": refusal}
        return render(request, "portal/cannot_change.html", context)
    form = TimeFilterForm(request.GET)
    filters = form.cleaned()
    start = timezone.now()
    times = selectors.available_starts(
        appointment_type=appointment.appointment_type,
        start=start,
        end=start + timedelta(weeks=CHANGE_WEEKS * filters["more"]),
        patient=appointment.patient,
    )
    times = [
        t
        for t in times
        if (filters["weekdays"] is None or timezone.localtime(t).weekday() in filters["weekdays"])
        and (filters["part_of_day"] is None or _part(t) == filters["part_of_day"].value)
    ]
    days = by_day(times)
    context = {
        "appointment": appointment,
        "form": form,
        "filters": filters,
        "days": days,
        "chosen_day": next((d for d in days if d.day == filters["day"]), None),
        "day_links": [(d, query(filters, day=d.day)) for d in days],
        "more_query": query(filters, more=filters["more"] + 1, day=None),
        "can_show_more": filters["more"] < MAX_MORE,
        "confirm_url": reverse("portal:appointment-change-confirm", args=[appointment.pk]),
    }
    return render(request, "portal/change.html", context)


def _part(moment: datetime) -> str:
    return "morning" if timezone.localtime(moment).hour < 12 else "afternoon"


@patient_page
def change_confirm(request: PageRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    source = request.POST if request.method == "POST" else request.GET
    moment = parse_chosen_time(source.get("tid"))
    picker = reverse("portal:appointment-change", args=[appointment.pk])
    if moment is None:
        messages.error(request, _("Please choose one of the times."))
        return redirect(picker)
    if request.method != "POST":
        context = {"appointment": appointment, "moment": moment}
        return render(request, "portal/change_confirm.html", context)
    try:
        services.appointment_reschedule(
            appointment=appointment,
            starts_at=moment,
            actor=services.patient_actor(user=request.user, patient=appointment.patient),
        )
    except SlotUnavailable:
        messages.warning(request, _("This time was just taken. Here are other times."))
        return redirect(picker)
    except BookingError as error:
        say_refusal(request, error)
        return redirect("portal:appointment", appointment.pk)
    messages.success(request, _("Your appointment has been moved."))
    return redirect("portal:appointment", appointment.pk)


@patient_page
def cancel(request: PageRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    appointment = _appointment(request, appointment_id)
    refusal = _may_change(appointment, request)
    if refusal:
        context = {"appointment": appointment, "why": refusal}
        return render(request, "portal/cannot_change.html", context)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(
                appointment=appointment,
                actor=services.patient_actor(user=request.user, patient=appointment.patient),
                reason=form.cleaned_data["reason"],
            )
        except BookingError as error:
            say_refusal(request, error)
            return redirect("portal:appointment", appointment.pk)
        messages.success(request, _("Your appointment is cancelled."))
        return redirect("portal:overview")
    return render(request, "portal/cancel.html", {"appointment": appointment, "form": form})


@patient_page
def waitlist(request: PageRequest, patient: Patient, appointment_id: int) -> HttpResponse:
    """Join or leave the waitlist for an earlier time, and accept one that is offered."""
    appointment = _appointment(request, appointment_id)
    now = timezone.now()
    offers = list(selectors.open_waitlist_offers(appointment, now))
    if request.method == "POST":
        return _waitlist_post(request, appointment, offers)
    context = {
        "appointment": appointment,
        "on_waitlist": hasattr(appointment, "waitlist_entry"),
        "offers": offers,
        "not_changeable": _may_change(appointment, request),
    }
    return render(request, "portal/waitlist.html", context)


def _waitlist_post(
    request: PageRequest, appointment: Appointment, offers: list[WaitlistOffer]
) -> HttpResponse:
    actor = services.patient_actor(user=request.user, patient=appointment.patient)
    action = request.POST.get("handling")
    try:
        if action == "bli-med":
            services.waitlist_join(appointment=appointment, actor=actor)
            messages.success(request, _("We will tell you if an earlier time frees up."))
        elif action == "forlat":
            services.waitlist_leave(appointment=appointment)
            messages.info(request, _("You are no longer on the waitlist."))
        elif action == "ta-imot":
            offer = next((o for o in offers if str(o.pk) == request.POST.get("tilbud")), None)
            if offer is None:
                raise WaitlistOfferClosed
            services.waitlist_offer_accept(offer=offer, actor=actor)
            messages.success(request, _("Your appointment has been moved to the earlier time."))
            return redirect("portal:appointment", appointment.pk)
    except SlotUnavailable:
        messages.warning(
            request, _("Someone else took this earlier time first. You keep the time you have.")
        )
    except BookingError as error:
        say_refusal(request, error)
    return redirect("portal:appointment-waitlist", appointment.pk)
