"""The leaders' dashboard and its CSV export: check the question, ask figures for the scope
and the figures, show them. Who may see which clinic is the selectors' and the scope's."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from insights import figures, presenting, selectors
from insights.forms import DashboardForm


def _asked(request: HttpRequest) -> tuple[DashboardForm, figures.Scope | None]:
    """The form and, when its answers are valid, the scope they ask for (NotAllowed for
    anyone but a leader, NotFound for a clinic, type or clinician not theirs)."""
    selectors.require_leader(request.user)
    form = DashboardForm(user=request.user, query=request.GET)
    if not form.is_valid():
        return form, None
    try:
        return form, figures.scope_for(request.user, **form.scope_arguments())
    except figures.PeriodInvalid as invalid:
        form.add_error("til", str(invalid.message))
        return form, None


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, scope = _asked(request)
    page = presenting.page(figures.dashboard(scope)) if scope is not None else None
    query = request.GET.urlencode()
    context = {
        "form": form,
        "page": page,
        "csv_url": reverse("insights:export") + (f"?{query}" if query else ""),
    }
    return render(request, "insights/dashboard.html", context, status=200 if page else 400)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    form, scope = _asked(request)
    if scope is None:
        context = {"form": form, "page": None, "csv_url": ""}
        return render(request, "insights/dashboard.html", context, status=400)
    board = figures.dashboard(scope)
    name = f"statistikk-{scope.first.isoformat()}-{scope.last.isoformat()}-{scope.resolution}.csv"
    return HttpResponse(
        presenting.csv_text(board).encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
