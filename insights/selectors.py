"""Who may see the leaders' statistics, and what their filters may offer: the leaders'
clinics (where their role may view statistics), and those clinics' types and clinicians.
Whether a chosen clinic, type or clinician is one of them is `figures.scope_for`'s to say."""

from django.db.models import QuerySet

from access.roles import Capability
from access.users import AnyUser
from booking.models import AppointmentType, Clinic, Resource, ResourceKind
from booking.selectors import require_staff, staff_clinics

STATISTICS = Capability.VIEW_STATISTICS


def may_view_statistics(user: AnyUser) -> bool:
    return staff_clinics(user, capability=STATISTICS).exists()


def require_leader(user: AnyUser) -> None:
    """NotAllowed unless the user may view statistics in at least one clinic."""
    require_staff(user, capability=STATISTICS)


def statistics_clinics(user: AnyUser) -> QuerySet[Clinic]:
    return staff_clinics(user, capability=STATISTICS).order_by("name", "pk")


def statistics_types(user: AnyUser) -> QuerySet[AppointmentType]:
    return (
        AppointmentType.objects.filter(clinic__in=staff_clinics(user, capability=STATISTICS))
        .select_related("clinic")
        .order_by("clinic__name", "name", "pk")
    )


def statistics_clinicians(user: AnyUser) -> QuerySet[Resource]:
    return (
        Resource.objects.filter(
            clinic__in=staff_clinics(user, capability=STATISTICS), kind=ResourceKind.CLINICIAN
        )
        .select_related("clinic")
        .order_by("clinic__name", "name", "pk")
    )
