"""Pure scheduling core: intervals, weekly working-hour rules and slot search.

No Django imports here: only the standard library, ``zoneinfo`` and ``python-dateutil``.
All datetimes produced by this package are aware and in UTC.
"""

from planning.core.calendar import WeeklyRule, expand_rules
from planning.core.intervals import Interval, merge, subtract
from planning.core.slots import (
    Requirement,
    ResourceCalendar,
    Slot,
    SlotQuery,
    assign_resources,
    find_slot_starts,
    find_slots,
)

__all__ = [
    "Interval",
    "Requirement",
    "ResourceCalendar",
    "Slot",
    "SlotQuery",
    "WeeklyRule",
    "assign_resources",
    "expand_rules",
    "find_slot_starts",
    "find_slots",
    "merge",
    "subtract",
]
