from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from cores.calendar import WeeklyRule, expand_rules
from cores.intervals import Interval

OSLO = ZoneInfo("Europe/Oslo")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def u(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def local_window(a: date, b: date) -> Interval:
    """From local midnight of a to local midnight of b, in Oslo."""
    return Interval(
        datetime.combine(a, time(0), tzinfo=OSLO), datetime.combine(b, time(0), tzinfo=OSLO)
    )


def rule(
    weekday: int,
    start: str,
    end: str,
    valid_from: date,
    valid_until: date | None = None,
    interval_weeks: int = 1,
) -> WeeklyRule:
    return WeeklyRule(
        weekday,
        time.fromisoformat(start),
        time.fromisoformat(end),
        valid_from,
        valid_until=valid_until,
        interval_weeks=interval_weeks,
    )


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("weekday", [-1, 7])
def test_weekday_out_of_range(weekday):
    with pytest.raises(ValueError, match="weekday"):
        WeeklyRule(weekday, time(9), time(17), date(2026, 1, 1))


@pytest.mark.parametrize(("start", "end"), [(time(9), time(9)), (time(17), time(9))])
def test_end_must_be_after_start(start, end):
    with pytest.raises(ValueError, match="after start"):
        WeeklyRule(MON, start, end, date(2026, 1, 1))


def test_valid_until_before_valid_from():
    with pytest.raises(ValueError, match="valid_until"):
        WeeklyRule(MON, time(9), time(17), date(2026, 1, 10), valid_until=date(2026, 1, 9))


def test_interval_weeks_must_be_positive():
    with pytest.raises(ValueError, match="interval_weeks"):
        WeeklyRule(MON, time(9), time(17), date(2026, 1, 1), interval_weeks=0)


def test_aware_times_rejected():
    with pytest.raises(ValueError, match="naive"):
        WeeklyRule(MON, time(9, tzinfo=UTC), time(17, tzinfo=UTC), date(2026, 1, 1))


# ------------------------------------------------------------------------------ expand


def test_weekly_monday_rule_in_winter():
    # valid_from is a Thursday; the first Monday is 2026-01-05. Oslo is UTC+1 in January.
    result = expand_rules(
        [rule(MON, "08:00", "16:00", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 1, 1), date(2026, 1, 19)),
    )
    assert result == [
        Interval(u(2026, 1, 5, 7), u(2026, 1, 5, 15)),
        Interval(u(2026, 1, 12, 7), u(2026, 1, 12, 15)),
    ]
    assert all(iv.start.tzinfo is UTC for iv in result)


def test_valid_from_and_valid_until_are_inclusive():
    result = expand_rules(
        [rule(WED, "10:00", "11:00", date(2026, 1, 7), valid_until=date(2026, 1, 21))],
        tz=OSLO,
        window=local_window(date(2026, 1, 1), date(2026, 2, 1)),
    )
    assert [iv.start for iv in result] == [u(2026, 1, 7, 9), u(2026, 1, 14, 9), u(2026, 1, 21, 9)]


def test_rule_outside_validity_gives_nothing():
    result = expand_rules(
        [rule(WED, "10:00", "11:00", date(2026, 3, 1))],
        tz=OSLO,
        window=local_window(date(2026, 1, 1), date(2026, 2, 1)),
    )
    assert result == []


def test_every_second_week_counted_from_first_occurrence():
    # valid_from is Sunday 2026-01-04; first Monday on/after it is 2026-01-05, so the rule
    # applies on Jan 5, Jan 19 and Feb 2 (not on Jan 12/26, as week-of-dtstart counting
    # would give).
    result = expand_rules(
        [rule(MON, "09:00", "10:00", date(2026, 1, 4), interval_weeks=2)],
        tz=OSLO,
        window=local_window(date(2026, 1, 1), date(2026, 2, 8)),
    )
    assert [iv.start for iv in result] == [u(2026, 1, 5, 8), u(2026, 1, 19, 8), u(2026, 2, 2, 8)]


def test_every_second_week_keeps_phase_for_old_rules():
    # 2025-01-06 is a Monday; 2026-01-05 is 364 days = 26 fortnights later.
    result = expand_rules(
        [rule(MON, "09:00", "10:00", date(2025, 1, 6), interval_weeks=2)],
        tz=OSLO,
        window=local_window(date(2026, 1, 1), date(2026, 1, 31)),
    )
    assert [iv.start for iv in result] == [u(2026, 1, 5, 8), u(2026, 1, 19, 8)]


def test_every_third_week_phase_with_window_mid_cycle():
    # Tuesdays from 2026-01-06: Jan 6, Jan 27, Feb 17, Mar 10, ...
    result = expand_rules(
        [rule(TUE, "09:00", "10:00", date(2026, 1, 6), interval_weeks=3)],
        tz=OSLO,
        window=local_window(date(2026, 2, 1), date(2026, 3, 15)),
    )
    assert [iv.start for iv in result] == [u(2026, 2, 17, 8), u(2026, 3, 10, 8)]


def test_touching_and_overlapping_rules_are_merged():
    result = expand_rules(
        [
            rule(FRI, "08:00", "12:00", date(2026, 1, 1)),
            rule(FRI, "12:00", "14:00", date(2026, 1, 1)),
            rule(FRI, "13:30", "16:00", date(2026, 1, 1)),
        ],
        tz=OSLO,
        window=local_window(date(2026, 1, 9), date(2026, 1, 10)),
    )
    assert result == [Interval(u(2026, 1, 9, 7), u(2026, 1, 9, 15))]


def test_clipped_to_window():
    window = Interval(
        datetime(2026, 1, 5, 10, tzinfo=OSLO), datetime(2026, 1, 6, 9, 30, tzinfo=OSLO)
    )
    result = expand_rules(
        [
            rule(MON, "08:00", "16:00", date(2026, 1, 1)),
            rule(TUE, "08:00", "16:00", date(2026, 1, 1)),
        ],
        tz=OSLO,
        window=window,
    )
    assert result == [
        Interval(u(2026, 1, 5, 9), u(2026, 1, 5, 15)),
        Interval(u(2026, 1, 6, 7), u(2026, 1, 6, 8, 30)),
    ]


def test_occurrence_starting_at_window_end_is_excluded():
    window = local_window(date(2026, 1, 5), date(2026, 1, 6))
    result = expand_rules([rule(TUE, "00:00", "08:00", date(2026, 1, 1))], tz=OSLO, window=window)
    assert result == []


def test_sunday_rule_stays_0900_local_on_spring_forward_day():
    # 2026-03-29: clocks go 02:00 CET -> 03:00 CEST. 09:00 is 08:00 UTC before, 07:00 after.
    result = expand_rules(
        [rule(SUN, "09:00", "17:00", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 3, 21), date(2026, 4, 6)),
    )
    assert result == [
        Interval(u(2026, 3, 22, 8), u(2026, 3, 22, 16)),
        Interval(u(2026, 3, 29, 7), u(2026, 3, 29, 15)),
        Interval(u(2026, 4, 5, 7), u(2026, 4, 5, 15)),
    ]
    assert [iv.start.astimezone(OSLO).time() for iv in result] == [time(9)] * 3


def test_sunday_rule_stays_0900_local_on_fall_back_day():
    # 2026-10-25: clocks go 03:00 CEST -> 02:00 CET.
    result = expand_rules(
        [rule(SUN, "09:00", "17:00", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 10, 17), date(2026, 11, 2)),
    )
    assert result == [
        Interval(u(2026, 10, 18, 7), u(2026, 10, 18, 15)),
        Interval(u(2026, 10, 25, 8), u(2026, 10, 25, 16)),
        Interval(u(2026, 11, 1, 8), u(2026, 11, 1, 16)),
    ]
    assert [iv.end.astimezone(OSLO).time() for iv in result] == [time(17)] * 3


def test_night_rule_across_fall_back_is_four_hours():
    # 01:00 CEST (23:00 UTC the day before) to 04:00 CET (03:00 UTC).
    result = expand_rules(
        [rule(SUN, "01:00", "04:00", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 10, 25), date(2026, 10, 26)),
    )
    assert result == [Interval(u(2026, 10, 24, 23), u(2026, 10, 25, 3))]


def test_night_rule_across_spring_forward_is_two_hours():
    # 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC).
    result = expand_rules(
        [rule(SUN, "01:00", "04:00", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 3, 29), date(2026, 3, 30)),
    )
    assert result == [Interval(u(2026, 3, 29, 0), u(2026, 3, 29, 2))]


def test_rule_ending_in_skipped_hour_boundary_is_dropped():
    # On 2026-03-29 02:30 does not exist; with fold=0 it reads as 02:30 CET = 01:30 UTC,
    # while 03:00 is 03:00 CEST = 01:00 UTC: the occurrence is empty and skipped.
    # The next Sunday (CEST) it is 00:30-01:00 UTC.
    result = expand_rules(
        [rule(SUN, "02:30", "03:00", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 3, 29), date(2026, 4, 6)),
    )
    assert result == [Interval(u(2026, 4, 5, 0, 30), u(2026, 4, 5, 1, 0))]


def test_rule_inside_skipped_hour_reads_with_winter_offset():
    # fold=0: non-existent 02:15-02:45 are read with the offset before the change (CET),
    # i.e. 01:15-01:45 UTC (03:15-03:45 CEST).
    result = expand_rules(
        [rule(SUN, "02:15", "02:45", date(2026, 1, 1))],
        tz=OSLO,
        window=local_window(date(2026, 3, 29), date(2026, 3, 30)),
    )
    assert result == [Interval(u(2026, 3, 29, 1, 15), u(2026, 3, 29, 1, 45))]


def test_weekday_rules_across_dst_weekend():
    rules = [rule(d, "09:00", "17:00", date(2026, 1, 1)) for d in (SAT, SUN, MON)]
    result = expand_rules(rules, tz=OSLO, window=local_window(date(2026, 3, 28), date(2026, 3, 31)))
    assert result == [
        Interval(u(2026, 3, 28, 8), u(2026, 3, 28, 16)),
        Interval(u(2026, 3, 29, 7), u(2026, 3, 29, 15)),
        Interval(u(2026, 3, 30, 7), u(2026, 3, 30, 15)),
    ]
