"""Logging out after a while without a page: patients often use shared or borrowed phones."""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from access.errors import NotAllowed, NotFound

LAST_SEEN = "portal_last_seen"
# The last page view is written to the session at most this often, not on every page.
REFRESH_EVERY = timedelta(minutes=1)
# The API has its own clients and sessions; the admin its own rules.
NOT_PAGES = ("/api/", "/api-auth/", "/admin/", "/static/")


class IdleLogoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(NOT_PAGES) or not request.user.is_authenticated:
            return self.get_response(request)
        now = timezone.now().timestamp()
        last_seen = request.session.get(LAST_SEEN)
        idle = timedelta(minutes=settings.PORTAL_IDLE_MINUTES).total_seconds()
        if last_seen is not None and now - last_seen > idle:
            logout(request)
            return redirect(f"{reverse('portal:login')}?utlopt=1")
        if last_seen is None or now - last_seen > REFRESH_EVERY.total_seconds():
            request.session[LAST_SEEN] = now
        return self.get_response(request)


class RefusalsAsPagesMiddleware:
    """The access policy's refusals as the pages' 404 and 403 (the API answers them itself)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, NotFound):
            raise Http404 from exception
        if isinstance(exception, NotAllowed):
            raise PermissionDenied from exception
