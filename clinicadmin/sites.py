"""The admin site of the clinics' staff.

Staff of this product are users with a clinic membership (booking.StaffMembership), not
Django's `is_staff` users; both may log in here. Patients and anonymous users are sent to the
login page, and a patient's password is refused there like a wrong one. What each may see and
change once in is the ModelAdmins' (clinicadmin.admin), through the booking selectors.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from access.users import AnyUser
from booking import selectors


def may_enter(user: AnyUser) -> bool:
    """A member of a clinic, in any role, or one of Django's own staff users (a superuser)."""
    if not user.is_active:
        return False
    return bool(getattr(user, "is_staff", False)) or selectors.staff_clinics(user).exists()


class StaffLoginForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user: User) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # active; not Django's is_staff
        if not may_enter(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class ClinicAdminSite(admin.AdminSite):
    site_header = _("Timevalg: the clinic's settings")
    site_title = _("Timevalg")
    index_title = _("The clinic's settings")
    site_url = None  # the patients' pages are not the staff's
    login_form = StaffLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_enter(request.user)
