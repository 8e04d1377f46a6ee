"""Who may do what. Patients act for themselves and for the people they hold a valid proxy for
(a parent for a child under 16, a power of attorney): both may see, book, change and cancel
within the type's rules (patients.selectors). Staff act in the clinics they are members of,
each membership with one role, and the role says what they may do there."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    SECRETARY = "secretary", _("Secretary")
    CLINICIAN = "clinician", _("Clinician")
    LEADER = "leader", _("Leader")


class Capability(StrEnum):
    # See the clinic: its configuration, calendars, appointments, booking tasks and plans, and
    # the patients in its care.
    READ = "read"
    # Change the clinic: configuration, absences, referrals, booking tasks, plans, and
    # appointments booked, moved or cancelled on a patient's behalf.
    CHANGE = "change"
    # The leaders' re-planning statistics.
    VIEW_STATISTICS = "view_statistics"


CAPABILITIES: dict[StaffRole, frozenset[Capability]] = {
    StaffRole.SECRETARY: frozenset({Capability.READ, Capability.CHANGE}),
    StaffRole.CLINICIAN: frozenset({Capability.READ}),
    StaffRole.LEADER: frozenset({Capability.READ, Capability.CHANGE, Capability.VIEW_STATISTICS}),
}


def roles_that_may(capability: Capability) -> tuple[StaffRole, ...]:
    return tuple(role for role, may in CAPABILITIES.items() if capability in may)
