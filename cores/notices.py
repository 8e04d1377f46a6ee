"""When a notice may go: quiet hours and the backoff between attempts. No Django.

Quiet hours are local wall-clock times (21:00-08:00 in Europe/Oslo): a notice due inside them
waits for their end on the local calendar, so 08:00 stays 08:00 on the nights the clocks change.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def _is_quiet(local: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # across midnight


def after_quiet_hours(at: datetime, *, start: time, end: time, tz: ZoneInfo) -> datetime:
    """`at` if it is outside the quiet hours [start, end) in `tz`, else the next `end` there."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    local = at.astimezone(tz)
    if not _is_quiet(local.time(), start, end):
        return at
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    # A wall-clock time on a date, in the zone: the zone gives that date's own UTC offset.
    return datetime.combine(day, end, tzinfo=tz)


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: base, 2 base, 4 base, ...,
    never more than cap."""
    if attempts < 1:
        raise ValueError("attempts counts failed attempts, from 1")
    return min(base * (1 << min(attempts - 1, 30)), cap)
