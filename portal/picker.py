"""The time picker both choosing (a booking task's offers) and changing (free times) use: the
days that have times, each with its count, then the times of one day."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone


@dataclass(frozen=True)
class DayTimes:
    day: date
    times: list[datetime]

    @property
    def count(self) -> int:
        return len(self.times)


def by_day(times: Iterable[datetime]) -> list[DayTimes]:
    """The times grouped by their local day, days and times in order."""
    days: dict[date, list[datetime]] = defaultdict(list)
    for moment in times:
        local = timezone.localtime(moment)
        days[local.date()].append(local)
    return [DayTimes(day, sorted(found)) for day, found in sorted(days.items())]


def query(filters: dict[str, Any], **changes: Any) -> str:
    """The picker's query string for these filters, with some changed."""
    merged = {**filters, **changes}
    params: list[tuple[str, Any]] = [("ukedag", d) for d in merged.get("weekdays") or []]
    if merged.get("part_of_day"):
        params.append(("del", merged["part_of_day"].value))
    if merged.get("more", 1) > 1:
        params.append(("flere", merged["more"]))
    if merged.get("day"):
        params.append(("dag", merged["day"].isoformat()))
    return "?" + urlencode(params) if params else ""
