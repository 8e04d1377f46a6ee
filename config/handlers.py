"""What the site answers when no view does: under /api/ the API's own JSON error body, so a
program gets the same shape for a URL that matches nothing (say an id of -1) as for an id that
does not exist; elsewhere Django's pages (the surfaces' own ones come with the pages)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"code": "server_error", "detail": _("Something went wrong on our side.")},
            status=500,
        )
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its token (a page open for hours, cookies off): a page that says
    what to do, in the user's language; JSON for the API."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"code": "csrf_failed", "detail": _("Please try again.")}, status=403)
    return render(request, "403_csrf.html", status=403)
