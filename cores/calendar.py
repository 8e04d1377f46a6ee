"""Recurring weekly working hours expanded into concrete intervals.

Rules are expressed in local wall-clock time; each occurrence is placed in the given
``ZoneInfo`` (``fold=0``), so a 09:00-17:00 rule stays 09:00-17:00 local time on both
sides of a daylight-saving change. The resulting intervals are stored in UTC (see
:mod:`cores.intervals`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule  # type: ignore[import-untyped, unused-ignore]

from cores.intervals import Interval, Span, merge_sorted_spans

__all__ = ["WeeklyRule", "expand_rules"]


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """A resource works on ``weekday`` (0=Monday) from ``start`` to ``end`` local time.

    ``valid_until`` is inclusive. With ``interval_weeks=n`` the rule applies every n-th
    week counted from its first occurrence on/after ``valid_from``. ``start``/``end`` are
    naive wall-clock times and ``end`` must be after ``start`` (no overnight shifts;
    split them into two rules).
    """

    weekday: int
    start: time
    end: time
    valid_from: date
    valid_until: date | None = None
    interval_weeks: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("WeeklyRule start/end must be naive local wall-clock times")
        if self.end.replace(fold=0) <= self.start.replace(fold=0):
            raise ValueError(f"WeeklyRule end {self.end} must be after start {self.start}")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("WeeklyRule valid_until must not be before valid_from")
        if self.interval_weeks < 1:
            raise ValueError(f"interval_weeks must be >= 1, got {self.interval_weeks}")

    def first_occurrence(self) -> date:
        """The first date on/after ``valid_from`` that falls on ``weekday``."""
        return self.valid_from + timedelta(days=(self.weekday - self.valid_from.weekday()) % 7)


def _occurrence_dates(rule: WeeklyRule, first_needed: date, last_needed: date) -> list[date]:
    first = rule.first_occurrence()
    last = last_needed if rule.valid_until is None else min(rule.valid_until, last_needed)
    period_days = 7 * rule.interval_weeks
    if first < first_needed:
        # Jump whole periods ahead so old rules do not iterate from their distant start;
        # this keeps the every-n-th-week phase anchored at the true first occurrence.
        first += timedelta(days=((first_needed - first).days // period_days) * period_days)
    if first > last:
        return []
    occurrences: Iterable[datetime] = rrule(
        WEEKLY,
        interval=rule.interval_weeks,
        byweekday=rule.weekday,
        dtstart=datetime.combine(first, time(0)),
        until=datetime.combine(last, time(0)),
    )
    return [occ.date() for occ in occurrences]


def expand_rules(rules: Iterable[WeeklyRule], *, tz: ZoneInfo, window: Interval) -> list[Interval]:
    """Concrete working intervals of ``rules`` in ``tz``, merged and clipped to ``window``.

    Each occurrence date is combined with the rule's local start/end times in ``tz``
    (``fold=0``: an ambiguous time means its first occurrence, a non-existent time is
    read with the offset in force before the change). An occurrence that becomes empty
    that way (for example 02:30-03:00 on a spring-forward day) is skipped.
    """
    # One day of margin on each side: the window bounds may sit on other local dates.
    first_needed = window.start.astimezone(tz).date() - timedelta(days=1)
    last_needed = window.end.astimezone(tz).date() + timedelta(days=1)
    spans: list[Span[datetime]] = []
    for rule in rules:
        start_t = rule.start.replace(fold=0)
        end_t = rule.end.replace(fold=0)
        for day in _occurrence_dates(rule, first_needed, last_needed):
            start = datetime.combine(day, start_t, tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, end_t, tzinfo=tz).astimezone(UTC)
            start = max(start, window.start)
            end = min(end, window.end)
            if start < end:
                spans.append((start, end))
    spans.sort()
    return [Interval(s, e) for s, e in merge_sorted_spans(spans)]
