"""The overview: what is coming, what to choose, what to prepare, what the clinic moved."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from booking import selectors as booking
from booking.models import CHANGEABLE_STATUSES, HOLDING_STATUSES
from insights.selectors import may_view_statistics
from patients.models import Patient
from patients.selectors import proxy_subjects
from planning import selectors as planning
from planning.models import BookingTaskStatus
from portal.acting import acting_for
from portal.views.common import PageRequest, patient_page


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The front page: a patient's overview; a leader with no patient record of their own
    (one login for everyone) goes on to the statistics."""
    if acting_for(request) is None and may_view_statistics(request.user):
        return redirect("insights:dashboard")
    return _patient_overview(request)


@patient_page
def _patient_overview(request: PageRequest, patient: Patient) -> HttpResponse:
    now = timezone.now()
    appointments = list(booking.appointments_of(user=request.user, patient_id=patient.pk))
    tasks = list(planning.booking_tasks_of(user=request.user, patient_id=patient.pk))
    upcoming = [a for a in appointments if a.starts_at >= now and a.status in HOLDING_STATUSES]
    past = [a for a in appointments if a.starts_at < now or a.status not in HOLDING_STATUSES]
    context = {
        "patient": patient,
        "upcoming": upcoming,
        "past": sorted(past, key=lambda a: a.starts_at, reverse=True)[:10],
        "open_tasks": [t for t in tasks if t.status == BookingTaskStatus.OPEN],
        "moved": [t for t in tasks if t.status == BookingTaskStatus.MOVED],
        "changeable": CHANGEABLE_STATUSES,
        "others": proxy_subjects(user=request.user),
    }
    return render(request, "portal/overview.html", context)
