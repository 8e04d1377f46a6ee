import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cores.calendar import WeeklyRule, expand_rules
from cores.intervals import Interval, merge
from cores.slots import (
    Requirement,
    ResourceCalendar,
    Slot,
    SlotQuery,
    assign_resources,
    find_slot_starts,
    find_slots,
)

OSLO = ZoneInfo("Europe/Oslo")
CLINICIAN = Requirement("clinician")
ROOM = Requirement("room")


def o(h: int, mi: int = 0, d: int = 5, mo: int = 1, fold: int = 0) -> datetime:
    """Local Oslo time; default day Monday 2026-01-05 (CET, UTC+1)."""
    return datetime(2026, mo, d, h, mi, tzinfo=OSLO, fold=fold)


def u(mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, mo, d, h, mi, tzinfo=UTC)


def iv(a: datetime, b: datetime) -> Interval:
    return Interval(a, b)


def cal(
    rid: int,
    kind: str = "clinician",
    tags: tuple[str, ...] = (),
    working: tuple[Interval, ...] = (),
    busy: tuple[Interval, ...] = (),
) -> ResourceCalendar:
    return ResourceCalendar(rid, kind, frozenset(tags), working, busy)


DAY = iv(o(0), o(0, d=6))


def q(
    requirements: tuple[Requirement, ...] = (CLINICIAN,),
    minutes: int = 30,
    window: Interval = DAY,
    grid: int = 5,
    before: int = 0,
    after: int = 0,
) -> SlotQuery:
    return SlotQuery(
        requirements=requirements,
        duration=timedelta(minutes=minutes),
        window=window,
        tz=OSLO,
        grid=timedelta(minutes=grid),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
    )


def local_hm(starts: list[datetime]) -> list[str]:
    return [s.astimezone(OSLO).strftime("%H:%M") for s in starts]


# ------------------------------------------------------------------------ grid and window


def test_results_are_utc_instants_on_the_grid():
    starts = find_slot_starts(q(grid=15), [cal(1, working=(iv(o(9), o(10)),))])
    assert starts == [u(1, 5, 8), u(1, 5, 8, 15), u(1, 5, 8, 30)]
    assert all(s.tzinfo is UTC for s in starts)


def test_grid_15_with_odd_free_block_edges():
    starts = find_slot_starts(q(grid=15), [cal(1, working=(iv(o(9, 10), o(10, 20)),))])
    assert local_hm(starts) == ["09:15", "09:30", "09:45"]


def test_default_grid_is_5_minutes():
    query = SlotQuery((CLINICIAN,), timedelta(minutes=30), DAY, OSLO)
    starts = find_slot_starts(query, [cal(1, working=(iv(o(9), o(9, 45)),))])
    assert local_hm(starts) == ["09:00", "09:05", "09:10", "09:15"]


def test_grid_45_counts_minutes_from_local_midnight():
    starts = find_slot_starts(q(minutes=15, grid=45), [cal(1, working=(iv(o(9), o(12)),))])
    assert local_hm(starts) == ["09:00", "09:45", "10:30", "11:15"]


def test_grid_7_restarts_at_local_midnight():
    # 23:55 is minute 1435 = 7 * 205; after midnight the count restarts at 00:00.
    working = (iv(o(23, 50), o(0, 20, d=6)),)
    starts = find_slot_starts(
        q(minutes=5, grid=7, window=iv(o(0), o(0, d=7))), [cal(1, working=working)]
    )
    assert starts == [o(23, 55), o(0, 0, d=6), o(0, 7, d=6), o(0, 14, d=6)]


def test_window_end_is_exclusive_for_starts():
    window = iv(o(9), o(9, 30))
    starts = find_slot_starts(q(grid=15, window=window), [cal(1, working=(iv(o(9), o(12)),))])
    assert local_hm(starts) == ["09:00", "09:15"]


def test_buffer_before_may_reach_before_window_start():
    window = iv(o(9, 30), o(9, 45))
    starts = find_slot_starts(
        q(minutes=60, before=30, window=window), [cal(1, working=(iv(o(9), o(12)),))]
    )
    assert local_hm(starts) == ["09:30", "09:35", "09:40"]


def test_window_outside_working_hours_is_empty():
    window = iv(o(16), o(20))
    assert find_slot_starts(q(), [cal(1, working=(iv(o(9), o(16)),))]) != []
    assert find_slot_starts(q(window=window), [cal(1, working=(iv(o(9), o(16)),))]) == []


# ------------------------------------------------------------------------------- buffers


def test_buffers_around_existing_allocation():
    # Free 09:00-10:00 and 10:30-12:00; need 10 min before and 15 after a 30 min visit:
    # s in [09:10, 09:15] or [10:40, 11:15].
    calendar = cal(1, working=(iv(o(9), o(12)),), busy=(iv(o(10), o(10, 30)),))
    starts = find_slot_starts(q(before=10, after=15), [calendar])
    assert local_hm(starts) == [
        "09:10",
        "09:15",
        "10:40",
        "10:45",
        "10:50",
        "10:55",
        "11:00",
        "11:05",
        "11:10",
        "11:15",
    ]


def test_buffers_at_day_edges():
    # 08:00-16:00, 60 min + 15 before + 30 after on a 15 min grid: 08:15 ... 14:30.
    starts = find_slot_starts(
        q(minutes=60, grid=15, before=15, after=30), [cal(1, working=(iv(o(8), o(16)),))]
    )
    assert len(starts) == 26
    assert starts[0] == o(8, 15)
    assert starts[-1] == o(14, 30)


def test_blocked_interval_includes_buffers():
    query = q(before=10, after=5)
    blocked = query.blocked(o(9))
    assert blocked == Interval(u(1, 5, 7, 50), u(1, 5, 8, 35))
    assert blocked.start.tzinfo is UTC


def test_blocked_is_elapsed_time_across_spring_forward():
    # 01:30 CET + 60 min = 00:30 UTC + 1h = 01:30 UTC = 03:30 CEST.
    blocked = q(minutes=60).blocked(o(1, 30, d=29, mo=3))
    assert blocked == Interval(u(3, 29, 0, 30), u(3, 29, 1, 30))
    assert blocked.end.astimezone(OSLO).strftime("%H:%M") == "03:30"


def test_blocked_is_elapsed_time_across_fall_back():
    # First 02:30 (CEST, 00:30 UTC) + 60 min is the second 02:30 (CET, 01:30 UTC);
    # naive wall-clock arithmetic would give 03:30 CET (02:30 UTC).
    blocked = q(minutes=60).blocked(o(2, 30, d=25, mo=10))
    assert blocked == Interval(u(10, 25, 0, 30), u(10, 25, 1, 30))


# ------------------------------------------------------------- absences and allocations


def test_existing_allocations_are_avoided():
    calendar = cal(
        1, working=(iv(o(9), o(11)),), busy=(iv(o(9, 30), o(10)), iv(o(10, 15), o(10, 45)))
    )
    starts = find_slot_starts(q(minutes=15, grid=15), [calendar])
    assert local_hm(starts) == ["09:00", "09:15", "10:00", "10:45"]


def test_absent_resource_is_not_used():
    absent = cal(1, working=(iv(o(8), o(16)),), busy=(iv(o(0), o(0, d=6)),))
    present = cal(2, working=(iv(o(13), o(14)),))
    query = q(minutes=60, grid=60)
    assert find_slot_starts(query, [absent, present]) == [o(13)]
    assert find_slots(query, [absent, present]) == [Slot(o(13), o(14), (2,))]


def test_absence_spanning_the_lunch_break():
    # Working 09-12 and 13-16; absent 11:00-14:00 and booked 15:00-15:30.
    calendar = cal(
        1,
        working=(iv(o(9), o(12)), iv(o(13), o(16))),
        busy=(iv(o(11), o(14)), iv(o(15), o(15, 30))),
    )
    starts = find_slot_starts(q(grid=30), [calendar])
    assert local_hm(starts) == ["09:00", "09:30", "10:00", "10:30", "14:00", "14:30", "15:30"]


def test_overlapping_and_unsorted_busy_intervals():
    calendar = cal(
        1,
        working=(iv(o(9), o(12)),),
        busy=(iv(o(10, 30), o(11)), iv(o(9, 30), o(10, 15)), iv(o(10), o(10, 20))),
    )
    starts = find_slot_starts(q(minutes=30, grid=10), [calendar])
    assert local_hm(starts) == ["09:00", "11:00", "11:10", "11:20", "11:30"]


def test_inputs_in_other_timezones_are_compared_by_instant():
    # Busy 08:00-09:00 UTC is 09:00-10:00 in Oslo.
    calendar = cal(1, working=(iv(o(9), o(11)),), busy=(iv(u(1, 5, 8), u(1, 5, 9)),))
    starts = find_slot_starts(q(grid=30), [calendar])
    assert local_hm(starts) == ["10:00", "10:30"]


def test_touching_working_intervals_form_one_block():
    calendar = cal(1, working=(iv(o(10), o(11)), iv(o(9), o(10))))
    starts = find_slot_starts(q(minutes=60, grid=30), [calendar])
    assert local_hm(starts) == ["09:00", "09:30", "10:00"]


# ------------------------------------------------------------------ multiple resources


def test_clinician_room_and_equipment_must_all_be_free():
    calendars = [
        cal(1, "clinician", working=(iv(o(9), o(12)),), busy=(iv(o(10), o(11)),)),
        cal(2, "room", working=(iv(o(8), o(16)),), busy=(iv(o(9), o(9, 30)),)),
        cal(3, "equipment", ("ultrasound",), working=(iv(o(9), o(11, 30)),)),
        cal(4, "equipment", ("xray",), working=(iv(o(8), o(16)),)),  # wrong tag
    ]
    query = q(requirements=(CLINICIAN, ROOM, Requirement("equipment", "ultrasound")), grid=30)
    assert local_hm(find_slot_starts(query, calendars)) == ["09:30", "11:00"]
    assert find_slots(query, calendars) == [
        Slot(o(9, 30), o(10), (1, 2, 3)),
        Slot(o(11), o(11, 30), (1, 2, 3)),
    ]


def test_missing_kind_gives_no_slots():
    calendars = [cal(1, working=(iv(o(8), o(16)),))]
    assert find_slot_starts(q(requirements=(CLINICIAN, ROOM)), calendars) == []


def test_count_two_needs_two_distinct_free_resources():
    calendars = [
        cal(1, working=(iv(o(9), o(10)),)),
        cal(2, working=(iv(o(9, 30), o(11)),)),
        cal(3, working=(iv(o(10), o(11)),)),
    ]
    query = q(requirements=(Requirement("clinician", count=2),), grid=30)
    assert local_hm(find_slot_starts(query, calendars)) == ["09:30", "10:00", "10:30"]
    # Best fit: the 60-minute blocks (1, then 3) before the 90-minute block of 2.
    assert find_slots(query, calendars) == [
        Slot(o(9, 30), o(10), (1, 2)),
        Slot(o(10), o(10, 30), (3, 2)),
        Slot(o(10, 30), o(11), (3, 2)),
    ]


def test_count_two_with_one_resource_is_impossible():
    query = q(requirements=(Requirement("room", count=2),))
    assert find_slot_starts(query, [cal(1, "room", working=(iv(o(8), o(16)),))]) == []


def test_same_resource_cannot_fill_two_overlapping_requirements():
    endoscopist = cal(1, tags=("endoscopist",), working=(iv(o(9), o(10)),))
    query = q(requirements=(Requirement("clinician", "endoscopist"), CLINICIAN), grid=30)
    assert find_slot_starts(query, [endoscopist]) == []
    assert find_slots(query, [endoscopist]) == []
    assert assign_resources(query, [endoscopist], o(9)) is None


def test_overlapping_requirements_with_a_second_clinician():
    calendars = [
        cal(2, working=(iv(o(9), o(10)),)),
        cal(1, tags=("endoscopist",), working=(iv(o(9), o(10)),)),
    ]
    query = q(requirements=(Requirement("clinician", "endoscopist"), CLINICIAN), grid=30)
    assert find_slots(query, calendars) == [
        Slot(o(9), o(9, 30), (1, 2)),
        Slot(o(9, 30), o(10), (1, 2)),
    ]


def test_overlapping_requirements_need_a_matching_at_each_start():
    # Endoscopists 1 (09-10) and 2 (09:30-10:30), generalist 3 (10-11); "endoscopist" +
    # "any clinician". 09:00 only 1 is free; 10:30 only 3; 09:30 (1, 2) and 10:00 (2, 3).
    calendars = [
        cal(1, tags=("endoscopist",), working=(iv(o(9), o(10)),)),
        cal(2, tags=("endoscopist",), working=(iv(o(9, 30), o(10, 30)),)),
        cal(3, working=(iv(o(10), o(11)),)),
    ]
    query = q(requirements=(Requirement("clinician", "endoscopist"), CLINICIAN), grid=30)
    assert local_hm(find_slot_starts(query, calendars)) == ["09:30", "10:00"]
    assert find_slots(query, calendars) == [
        Slot(o(9, 30), o(10), (1, 2)),
        Slot(o(10), o(10, 30), (2, 3)),
    ]


def test_overlapping_requirements_with_counts_and_a_room():
    # Needs 2 endoscopists + 1 further clinician + a room; 3 clinicians, of whom 2 are
    # endoscopists. Clinician 3 leaves at 10:00, so only 09:00 and 09:30 work.
    calendars = [
        cal(1, tags=("endoscopist",), working=(iv(o(9), o(12)),)),
        cal(2, tags=("endoscopist",), working=(iv(o(9), o(12)),)),
        cal(3, working=(iv(o(9), o(10)),)),
        cal(9, "room", working=(iv(o(8), o(16)),)),
    ]
    requirements = (Requirement("clinician", "endoscopist", count=2), CLINICIAN, ROOM)
    query = q(requirements=requirements, grid=30)
    assert find_slots(query, calendars) == [
        Slot(o(9), o(9, 30), (1, 2, 3, 9)),
        Slot(o(9, 30), o(10), (1, 2, 3, 9)),
    ]


# -------------------------------------------------------------------- assign_resources


def test_best_fit_prefers_shortest_free_block():
    calendars = [
        cal(1, "room", working=(iv(o(8), o(16)),)),
        cal(2, "room", working=(iv(o(8), o(16)),), busy=(iv(o(8), o(10)), iv(o(11), o(16)))),
    ]
    query = q(requirements=(ROOM,))
    assert assign_resources(query, calendars, o(10)) == (2,)
    assert assign_resources(query, calendars, o(12)) == (1,)


def test_best_fit_ties_broken_by_resource_id():
    calendars = [
        cal(4, "room", working=(iv(o(8), o(16)),)),
        cal(3, "room", working=(iv(o(8), o(16)),)),
    ]
    assert assign_resources(q(requirements=(ROOM,)), calendars, o(10)) == (3,)


def test_assign_ignores_grid_and_window():
    query = q(grid=15, window=iv(o(0, d=10), o(0, d=11)))
    assert assign_resources(query, [cal(1, working=(iv(o(9), o(10)),))], o(9, 7)) == (1,)


def test_assign_rejects_starts_that_do_not_fit():
    calendars = [cal(1, working=(iv(o(9), o(12)),), busy=(iv(o(10), o(10, 30)),))]
    query = q(before=15)
    assert assign_resources(query, calendars, o(9, 10)) is None  # buffer before 09:00
    assert assign_resources(query, calendars, o(9, 15)) == (1,)
    assert assign_resources(query, calendars, o(9, 31)) is None  # ends 10:01, busy at 10:00
    assert assign_resources(query, calendars, o(11, 31)) is None  # ends after 12:00
    assert assign_resources(query, calendars, o(11, 30)) == (1,)
    assert assign_resources(query, calendars, o(11, 30) + timedelta(microseconds=1)) is None


def test_find_slots_limit():
    calendar = cal(
        1, working=(iv(o(9), o(11)),), busy=(iv(o(9, 30), o(10)), iv(o(10, 15), o(10, 45)))
    )
    query = q(minutes=15, grid=15)
    assert find_slots(query, [calendar], limit=2) == [
        Slot(o(9), o(9, 15), (1,)),
        Slot(o(9, 15), o(9, 30), (1,)),
    ]
    assert find_slots(query, [calendar], limit=0) == []


# ------------------------------------------------------------------ daylight saving time


def _weekend(mo: int, sat: int) -> Interval:
    return iv(o(0, d=sat, mo=mo), o(0, d=sat + 2, mo=mo))


def _dates(starts: list[datetime]) -> Counter[date]:
    return Counter(s.astimezone(OSLO).date() for s in starts)


def test_spring_forward_day_has_23_hourly_starts():
    weekend = _weekend(3, 28)
    starts = find_slot_starts(q(minutes=60, grid=60, window=weekend), [cal(1, working=(weekend,))])
    assert len(starts) == 47
    assert _dates(starts) == {date(2026, 3, 28): 24, date(2026, 3, 29): 23}
    sunday = [s for s in starts if s.astimezone(OSLO).date() == date(2026, 3, 29)]
    assert [s.astimezone(OSLO).hour for s in sunday] == [0, 1, *range(3, 24)]
    assert sunday[0] == u(3, 28, 23)
    assert sunday[-1] == u(3, 29, 21)


def test_fall_back_day_has_25_hourly_starts():
    weekend = _weekend(10, 24)
    starts = find_slot_starts(q(minutes=60, grid=60, window=weekend), [cal(1, working=(weekend,))])
    assert len(starts) == 49
    assert _dates(starts) == {date(2026, 10, 24): 24, date(2026, 10, 25): 25}
    sunday = [s for s in starts if s.astimezone(OSLO).date() == date(2026, 10, 25)]
    assert [s.astimezone(OSLO).hour for s in sunday] == [0, 1, 2, 2, *range(3, 24)]
    assert sunday[2:4] == [u(10, 25, 0), u(10, 25, 1)]  # 02:00 CEST, then 02:00 CET


@pytest.mark.parametrize(("mo", "sat", "sunday_count"), [(3, 28, 23 * 12), (10, 24, 25 * 12)])
def test_five_minute_grid_on_dst_sundays(mo, sat, sunday_count):
    weekend = _weekend(mo, sat)
    starts = find_slot_starts(q(minutes=5, window=weekend), [cal(1, working=(weekend,))])
    counts = _dates(starts)
    assert counts[date(2026, mo, sat)] == 288
    assert counts[date(2026, mo, sat + 1)] == sunday_count


def test_night_shift_on_spring_forward_sunday():
    rules = [WeeklyRule(6, time(1), time(4), date(2026, 1, 1))]
    window = iv(o(0, d=29, mo=3), o(0, d=30, mo=3))
    calendar = cal(1, working=tuple(expand_rules(rules, tz=OSLO, window=window)))
    starts = find_slot_starts(q(grid=30, window=window), [calendar])
    assert starts == [u(3, 29, 0), u(3, 29, 0, 30), u(3, 29, 1), u(3, 29, 1, 30)]
    assert local_hm(starts) == ["01:00", "01:30", "03:00", "03:30"]


def test_night_shift_on_fall_back_sunday():
    rules = [WeeklyRule(6, time(1), time(4), date(2026, 1, 1))]
    window = iv(o(0, d=25, mo=10), o(0, d=26, mo=10))
    calendar = cal(1, working=tuple(expand_rules(rules, tz=OSLO, window=window)))
    starts = find_slot_starts(q(grid=30, window=window), [calendar])
    assert starts == [u(10, 24, 23) + timedelta(minutes=30 * k) for k in range(8)]
    assert local_hm(starts) == [
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]


@pytest.mark.parametrize(
    ("mo", "sat", "utc_hours"),
    [
        (3, 28, {28: range(8, 16), 29: range(7, 15), 30: range(7, 15)}),
        (10, 24, {24: range(7, 15), 25: range(8, 16), 26: range(8, 16)}),
    ],
)
def test_working_day_stays_0900_local_across_dst_weekend(mo, sat, utc_hours):
    window = iv(o(0, d=sat, mo=mo), o(0, d=sat + 3, mo=mo))
    rules = [WeeklyRule(day, time(9), time(17), date(2026, 1, 1)) for day in (5, 6, 0)]
    calendars = [
        cal(1, working=tuple(expand_rules(rules, tz=OSLO, window=window))),
        cal(2, "room", working=tuple(expand_rules(rules, tz=OSLO, window=window))),
    ]
    starts = find_slot_starts(q((CLINICIAN, ROOM), minutes=60, grid=60, window=window), calendars)
    assert starts == [u(mo, d, h) for d, hours in utc_hours.items() for h in hours]
    assert local_hm(starts) == [f"{h:02d}:00" for h in range(9, 17)] * 3


# ---------------------------------------------------------------------- invalid input


@pytest.mark.parametrize(
    "grid", [timedelta(0), timedelta(minutes=-5), timedelta(seconds=90), timedelta(seconds=30)]
)
def test_grid_must_be_positive_whole_minutes(grid):
    with pytest.raises(ValueError, match="grid"):
        SlotQuery((CLINICIAN,), timedelta(minutes=30), DAY, OSLO, grid=grid)


def test_duration_must_be_positive():
    with pytest.raises(ValueError, match="duration"):
        SlotQuery((CLINICIAN,), timedelta(0), DAY, OSLO)


def test_buffers_must_not_be_negative():
    with pytest.raises(ValueError, match="buffers"):
        SlotQuery((CLINICIAN,), timedelta(minutes=30), DAY, OSLO, buffer_after=timedelta(-1))


def test_requirements_must_not_be_empty():
    with pytest.raises(ValueError, match="requirement"):
        SlotQuery((), timedelta(minutes=30), DAY, OSLO)


def test_requirement_count_must_be_positive():
    with pytest.raises(ValueError, match="count"):
        Requirement("clinician", count=0)


def test_duplicate_resource_ids_rejected():
    calendars = [cal(1, working=(iv(o(9), o(10)),)), cal(1, "room", working=(iv(o(9), o(10)),))]
    with pytest.raises(ValueError, match="duplicate"):
        find_slot_starts(q(), calendars)


def test_naive_start_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        assign_resources(q(), [cal(1, working=(iv(o(9), o(10)),))], datetime(2026, 1, 5, 9))
    with pytest.raises(ValueError, match="timezone-aware"):
        q().blocked(datetime(2026, 1, 5, 9))


def test_negative_limit_rejected():
    with pytest.raises(ValueError, match="limit"):
        find_slots(q(), [], limit=-1)


def test_requirement_matches():
    room = cal(1, "room", ("procedure", "large"))
    assert Requirement("room").matches(room)
    assert Requirement("room", "procedure").matches(room)
    assert not Requirement("room", "small").matches(room)
    assert not Requirement("clinician").matches(room)


# ------------------------------------------------------- cross-check with brute force


def _brute_force_starts(query: SlotQuery, calendars: list[ResourceCalendar]) -> list[datetime]:
    """Per grid point x per resource reference, written independently of the module."""
    grid_minutes = query.grid // timedelta(minutes=1)
    working = {c.resource_id: merge(c.working) for c in calendars}
    t = query.window.start
    feasible = []
    while t < query.window.end:
        local = t.astimezone(OSLO)
        if (local.hour * 60 + local.minute) % grid_minutes == 0:
            blocked = query.blocked(t)
            free = [
                c
                for c in calendars
                if any(w.contains(blocked) for w in working[c.resource_id])
                and not any(b.overlaps(blocked) for b in c.busy)
            ]
            places = [r for r in query.requirements for _ in range(r.count)]
            if _can_fill(places, free, set()):
                feasible.append(t)
        t += timedelta(minutes=1)
    return feasible


def _can_fill(places: list[Requirement], free: list[ResourceCalendar], used: set[int]) -> bool:
    if not places:
        return True
    return any(
        _can_fill(places[1:], free, used | {c.resource_id})
        for c in free
        if c.resource_id not in used and places[0].matches(c)
    )


def _random_instance(rng: random.Random) -> tuple[SlotQuery, list[ResourceCalendar]]:
    day0 = datetime(2026, 10, 24, 6, tzinfo=OSLO)  # includes the fall-back night

    def rand_interval(max_hours: int) -> Interval:
        start = day0 + timedelta(minutes=5 * rng.randrange(0, 12 * 44))
        return Interval(start, start + timedelta(minutes=5 * rng.randrange(1, 12 * max_hours)))

    calendars = []
    for rid in range(1, rng.randrange(4, 10)):
        kind = rng.choice(["clinician", "clinician", "room"])
        tags = frozenset(t for t in ("endo", "lab") if rng.random() < 0.5)
        working = tuple(rand_interval(16) for _ in range(rng.randrange(1, 5)))
        busy = tuple(rand_interval(2) for _ in range(rng.randrange(0, 6)))
        calendars.append(ResourceCalendar(rid, kind, tags, working, busy))
    options = [
        Requirement("clinician"),
        Requirement("clinician", "endo"),
        Requirement("clinician", "lab", count=2),
        Requirement("room"),
        Requirement("room", "endo"),
        Requirement("clinician", count=2),
    ]
    requirements = tuple(rng.sample(options, rng.randrange(1, 3)))
    window_start = day0 + timedelta(minutes=rng.randrange(0, 60 * 40))
    query = SlotQuery(
        requirements=requirements,
        duration=timedelta(minutes=rng.choice([5, 15, 30, 45, 60, 90])),
        window=Interval(window_start, window_start + timedelta(hours=rng.randrange(1, 10))),
        tz=OSLO,
        grid=timedelta(minutes=rng.choice([5, 10, 15, 20, 30, 45, 60])),
        buffer_before=timedelta(minutes=rng.choice([0, 0, 5, 10])),
        buffer_after=timedelta(minutes=rng.choice([0, 0, 5, 15])),
    )
    return query, calendars


def test_matches_brute_force_on_random_instances():
    rng = random.Random(1234)
    non_empty = 0
    for _ in range(150):
        query, calendars = _random_instance(rng)
        expected = _brute_force_starts(query, calendars)
        assert find_slot_starts(query, calendars) == expected
        non_empty += bool(expected)
        by_id = {c.resource_id: c for c in calendars}
        slots = find_slots(query, calendars)
        assert [s.start for s in slots] == expected
        for slot in slots:
            assert slot.end - slot.start == query.duration
            assert assign_resources(query, calendars, slot.start) == slot.resource_ids
            ids = slot.resource_ids
            assert len(set(ids)) == len(ids) == sum(r.count for r in query.requirements)
            places = [r for r in query.requirements for _ in range(r.count)]
            blocked = query.blocked(slot.start)
            for requirement, rid in zip(places, ids, strict=True):
                chosen = by_id[rid]
                assert requirement.matches(chosen)
                assert any(w.contains(blocked) for w in merge(chosen.working))
                assert not any(b.overlaps(blocked) for b in chosen.busy)
    assert non_empty >= 40  # the instances are not trivially empty
