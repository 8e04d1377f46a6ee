"""Choosing a time for a booking task from the planning engine's offers: the days that have
times, then the times of a day, then a confirmation, then the receipt."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from booking.errors import BookingError, SlotUnavailable
from booking.services import patient_actor
from patients.models import Patient
from planning import selectors, services
from planning.errors import TaskNotChoosable
from planning.models import CHOOSABLE_TASK_STATUSES, BookingTask
from portal.acting import follow
from portal.forms import TimeFilterForm, parse_chosen_time
from portal.picker import by_day, query
from portal.views.common import PageRequest, patient_page, say_refusal

# Every acceptable time is listed by day, up to this many; the engine's first few (spread over
# days and parts of the day, never taking what more urgent patients need) are suggested.
MAX_TIMES = 600
DAYS_PER_PAGE = 10  # days listed at first, and more each time the patient asks
SUGGESTED = "forslag"  # `fra`: the time was one of the suggested (first offered) times


def _task(request: PageRequest, patient: Patient, task_id: int) -> BookingTask:
    """The task, of anyone the user may act for; the pages then act for its patient."""
    task = selectors.booking_task_for(user=request.user, task_id=task_id)
    follow(request, task.patient)
    return task


def _offered(task: BookingTask, filters: dict[str, Any]) -> services.OfferPage:
    return services.booking_task_offers(
        task=task,
        count=MAX_TIMES,
        weekdays=filters["weekdays"],
        part_of_day=filters["part_of_day"],
    )


@patient_page
def choose(request: PageRequest, patient: Patient, task_id: int) -> HttpResponse:
    task = _task(request, patient, task_id)
    if task.status not in CHOOSABLE_TASK_STATUSES:
        messages.info(request, _("A time has already been chosen for this."))
        return redirect("portal:overview")
    form = TimeFilterForm(request.GET)
    filters = form.cleaned()
    page = _offered(task, filters)
    all_days = by_day(o.starts_at for o in page.offers)
    chosen_day = next((d for d in all_days if d.day == filters["day"]), None)
    shown = all_days[: DAYS_PER_PAGE * filters["more"]]
    context = {
        "task": task,
        "form": form,
        "filters": filters,
        "suggested": sorted(o.starts_at for o in page.offers[: task.appointment_type.offers_count]),
        "days": shown,
        "chosen_day": chosen_day,
        "page": page,
        "can_show_more": len(all_days) > len(shown),
        "more_query": query(filters, more=filters["more"] + 1, day=None),
        "day_links": [(d, query(filters, day=d.day)) for d in shown],
        "confirm_url": reverse("portal:task-confirm", args=[task.pk]),
    }
    template = "portal/_times.html" if request.htmx and chosen_day else "portal/choose.html"
    return render(request, template, context)


@patient_page
def confirm(request: PageRequest, patient: Patient, task_id: int) -> HttpResponse:
    task = _task(request, patient, task_id)
    source = request.POST if request.method == "POST" else request.GET
    moment = parse_chosen_time(source.get("tid"))
    picker = reverse("portal:task-choose", args=[task.pk])
    if moment is None:
        messages.error(request, _("Please choose one of the times."))
        return redirect(picker)
    if request.method != "POST":
        context = {"task": task, "moment": moment, "suggested": source.get("fra") == SUGGESTED}
        return render(request, "portal/confirm.html", context)
    try:
        appointment = services.booking_task_choose(
            task=task,
            starts_at=moment,
            actor=patient_actor(user=request.user, patient=task.patient),
            after_more_times=source.get("fra") != SUGGESTED,
        )
    except SlotUnavailable:
        messages.warning(request, _("This time was just taken. Here are other times."))
        return redirect(picker)
    except TaskNotChoosable as error:
        say_refusal(request, error)
        return redirect("portal:overview")
    except BookingError as error:
        say_refusal(request, error)
        return redirect(picker)
    return redirect(reverse("portal:appointment", args=[appointment.pk]) + "?ny=1")


@require_POST
@patient_page
def keep(request: PageRequest, patient: Patient, task_id: int) -> HttpResponse:
    """Keep the time the clinic moved the appointment to."""
    task = _task(request, patient, task_id)
    try:
        services.booking_task_accept(task=task)
    except BookingError as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("You keep the new time."))
    return redirect("portal:overview")
