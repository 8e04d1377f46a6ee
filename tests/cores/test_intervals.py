from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cores.intervals import (
    Interval,
    block_containing,
    intersect_spans,
    merge,
    merge_spans,
    spans_overlap,
    subtract,
    subtract_spans,
)

OSLO = ZoneInfo("Europe/Oslo")


def u(hour: int, minute: int = 0, day: int = 5) -> datetime:
    """2026-01-<day> hour:minute UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def iv(a: tuple[int, int], b: tuple[int, int]) -> Interval:
    return Interval(u(*a), u(*b))


# --------------------------------------------------------------------------- Interval


def test_naive_start_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2026, 1, 5, 9), u(10))


def test_naive_end_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(u(9), datetime(2026, 1, 5, 10))


def test_empty_interval_rejected():
    with pytest.raises(ValueError, match="after start"):
        Interval(u(9), u(9))


def test_reversed_interval_rejected():
    with pytest.raises(ValueError, match="after start"):
        Interval(u(10), u(9))


def test_endpoints_normalised_to_utc():
    interval = Interval(datetime(2026, 1, 5, 9, tzinfo=OSLO), datetime(2026, 7, 6, 9, tzinfo=OSLO))
    assert interval.start.tzinfo is UTC
    assert interval.end.tzinfo is UTC
    assert (interval.start.hour, interval.end.hour) == (8, 7)  # CET +1, CEST +2
    assert interval == Interval(u(8), datetime(2026, 7, 6, 7, tzinfo=UTC))


def test_interval_over_repeated_hour_is_one_hour_long():
    # 02:30 happens twice on 2026-10-25 in Oslo: first in CEST (fold=0), then in CET.
    first = datetime(2026, 10, 25, 2, 30, tzinfo=OSLO)
    second = datetime(2026, 10, 25, 2, 30, tzinfo=OSLO, fold=1)
    interval = Interval(first, second)
    assert interval.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert interval.end - interval.start == timedelta(hours=1)


def test_overlaps():
    a = iv((9, 0), (10, 0))
    assert a.overlaps(iv((9, 59), (11, 0)))
    assert a.overlaps(iv((9, 15), (9, 30)))
    assert a.overlaps(iv((8, 0), (12, 0)))
    assert not a.overlaps(iv((10, 0), (11, 0)))  # touching after
    assert not a.overlaps(iv((8, 0), (9, 0)))  # touching before
    assert not a.overlaps(iv((11, 0), (12, 0)))


def test_contains():
    a = iv((9, 0), (10, 0))
    assert a.contains(a)
    assert a.contains(iv((9, 0), (9, 30)))
    assert a.contains(iv((9, 30), (10, 0)))
    assert not a.contains(iv((8, 59), (9, 30)))
    assert not a.contains(iv((9, 30), (10, 1)))
    assert not iv((9, 0), (9, 30)).contains(a)


def test_ordering_sorts_by_start_then_end():
    items = [iv((10, 0), (11, 0)), iv((9, 0), (12, 0)), iv((9, 0), (9, 30))]
    assert sorted(items) == [iv((9, 0), (9, 30)), iv((9, 0), (12, 0)), iv((10, 0), (11, 0))]


# ------------------------------------------------------------------------------ merge


def test_merge_empty():
    assert merge([]) == []


def test_merge_touching_overlapping_nested_and_unsorted():
    result = merge(
        [
            iv((13, 0), (14, 0)),
            iv((9, 0), (10, 0)),
            iv((10, 0), (10, 30)),  # touches the previous one
            iv((10, 15), (11, 0)),  # overlaps
            iv((9, 30), (9, 45)),  # nested
            iv((12, 0), (12, 59)),  # 1 minute gap before 13:00: stays separate
        ]
    )
    assert result == [iv((9, 0), (11, 0)), iv((12, 0), (12, 59)), iv((13, 0), (14, 0))]


def test_merge_mixed_timezones_compares_instants():
    # 10:00 Oslo (winter) == 09:00 UTC, so these two touch.
    result = merge(
        [
            Interval(datetime(2026, 1, 5, 9, tzinfo=OSLO), datetime(2026, 1, 5, 10, tzinfo=OSLO)),
            iv((9, 0), (10, 0)),
        ]
    )
    assert result == [iv((8, 0), (10, 0))]


def test_merge_accepts_generator_and_duplicates():
    result = merge(iv((9, 0), (10, 0)) for _ in range(3))
    assert result == [iv((9, 0), (10, 0))]


# --------------------------------------------------------------------------- subtract


def test_subtract_without_holes_merges_base():
    assert subtract([iv((10, 0), (11, 0)), iv((9, 0), (10, 0))], []) == [iv((9, 0), (11, 0))]


def test_subtract_hole_in_middle_splits():
    assert subtract([iv((9, 0), (12, 0))], [iv((10, 0), (10, 30))]) == [
        iv((9, 0), (10, 0)),
        iv((10, 30), (12, 0)),
    ]


def test_subtract_holes_at_edges_and_outside():
    result = subtract(
        [iv((9, 0), (12, 0))],
        [iv((8, 0), (9, 0)), iv((9, 0), (9, 15)), iv((11, 45), (12, 0)), iv((12, 0), (13, 0))],
    )
    assert result == [iv((9, 15), (11, 45))]


def test_subtract_hole_covering_everything():
    assert subtract([iv((9, 0), (10, 0)), iv((11, 0), (12, 0))], [iv((8, 0), (13, 0))]) == []


def test_subtract_hole_spanning_two_base_intervals():
    result = subtract(
        [iv((9, 0), (10, 0)), iv((11, 0), (12, 0))],
        [iv((9, 30), (11, 30))],
    )
    assert result == [iv((9, 0), (9, 30)), iv((11, 30), (12, 0))]


def test_subtract_overlapping_unsorted_holes():
    result = subtract(
        [iv((9, 0), (17, 0))],
        [iv((14, 0), (15, 0)), iv((10, 0), (11, 0)), iv((10, 30), (12, 0)), iv((14, 30), (14, 45))],
    )
    assert result == [iv((9, 0), (10, 0)), iv((12, 0), (14, 0)), iv((15, 0), (17, 0))]


def test_subtract_overlapping_base_intervals():
    result = subtract([iv((9, 0), (11, 0)), iv((10, 0), (12, 0))], [iv((10, 30), (10, 45))])
    assert result == [iv((9, 0), (10, 30)), iv((10, 45), (12, 0))]


def test_subtract_one_hole_after_many_bases():
    bases = [iv((h, 0), (h, 30)) for h in range(8, 16)]
    result = subtract(bases, [iv((15, 10), (15, 20))])
    assert len(result) == 9
    assert result[-2:] == [iv((15, 0), (15, 10)), iv((15, 20), (15, 30))]
    assert result[0] == iv((8, 0), (8, 30))


def test_subtract_large_input_exact_pieces():
    # 5000 one-hour base intervals, each with a hole in minutes 20-40: 10000 pieces.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    bases = [
        Interval(start + timedelta(hours=2 * k), start + timedelta(hours=2 * k + 1))
        for k in range(5000)
    ]
    holes = [
        Interval(
            start + timedelta(hours=2 * k, minutes=20), start + timedelta(hours=2 * k, minutes=40)
        )
        for k in range(5000)
    ]
    result = subtract(reversed(bases), holes)
    assert len(result) == 10000
    assert result[0] == Interval(start, start + timedelta(minutes=20))
    assert result[1] == Interval(start + timedelta(minutes=40), start + timedelta(hours=1))
    assert result[-1].end == start + timedelta(hours=9999)


# ------------------------------------------------------- spans (both cores' interval maths)


def test_spans_of_minutes_merge_subtract_and_intersect():
    assert merge_spans([(5, 8), (1, 3), (2, 4)]) == [(1, 4), (5, 8)]
    assert merge_spans([(1, 3), (3, 5)]) == [(1, 5)]  # touching spans are joined
    assert subtract_spans([(0, 10)], [(5, 7), (2, 3)]) == [(0, 2), (3, 5), (7, 10)]
    assert subtract_spans([(0, 4), (2, 10)], [(3, 8), (1, 2)]) == [(0, 1), (2, 3), (8, 10)]
    assert intersect_spans([(0, 5), (8, 12)], [(3, 9)]) == [(3, 5), (8, 9)]
    assert intersect_spans([(0, 5)], [(5, 9)]) == []


def test_spans_of_datetimes_use_the_same_functions():
    nine, ten, eleven = u(9), u(10), u(11)
    assert subtract_spans([(nine, eleven)], [(ten, eleven)]) == [(nine, ten)]
    assert intersect_spans([(nine, ten)], [(nine, eleven)]) == [(nine, ten)]


def test_span_overlap_and_the_block_containing_a_span():
    assert spans_overlap((0, 5), (4, 6))
    assert not spans_overlap((0, 5), (5, 6))  # touching is not overlapping
    blocks = [(0, 10), (20, 30)]
    starts = [0, 20]
    assert block_containing(blocks, starts, (22, 30)) == (20, 30)
    assert block_containing(blocks, starts, (8, 12)) is None
    assert block_containing(blocks, starts, (15, 18)) is None
