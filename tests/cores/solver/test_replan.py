"""Re-planning after an absence: only affected appointments move, as little as possible."""

from cores.solver import (
    Absence,
    Appointment,
    AppointmentType,
    Instance,
    Reason,
    ReplanWeights,
    Requirement,
    SolveParams,
    SolveStatus,
    greedy_replan,
    replan,
)
from tests.cores.solver.builders import CONSULT, FAST, GASTRO, at, block, clinician, room

WEEK = tuple(block(d, 8, 16) for d in range(5))


def _appointment(appointment_id: str, start: int, doctor: str, **extra) -> Appointment:
    return Appointment(
        appointment_id, f"patient-{appointment_id}", "consult", start, (doctor,), **extra
    )


def _clinic(*appointments: Appointment, peer_free=WEEK, sick_free=WEEK) -> Instance:
    doctors = (clinician("dr-sick", *sick_free), clinician("dr-peer", *peer_free))
    return Instance(doctors, (CONSULT,), (), appointments)


SICK_MORNING = [Absence("dr-sick", at(0, 8), at(0, 12))]


def test_only_appointments_hit_by_the_absence_are_moved():
    hit = _appointment("hit", at(0, 9), "dr-sick")
    afternoon = _appointment("afternoon", at(0, 13), "dr-sick")
    peer = _appointment("peer", at(0, 9), "dr-peer")
    result = replan(_clinic(hit, afternoon, peer), SICK_MORNING, params=FAST)
    assert result.affected_ids == ("hit",)
    assert [m.appointment_id for m in result.moves] == ["hit"]


def test_a_peer_on_the_same_day_is_preferred_to_another_day_or_a_later_hour():
    hit = _appointment("hit", at(0, 9), "dr-sick")
    peer_at_eight = _appointment("peer-8", at(0, 8), "dr-peer")
    peer_at_nine = _appointment("peer-9", at(0, 9), "dr-peer")
    result = replan(_clinic(hit, peer_at_eight, peer_at_nine), SICK_MORNING, params=FAST)
    (move,) = result.moves
    assert move.new_start == at(0, 10)
    assert move.new_resource_ids == ("dr-peer",)
    assert move.same_day
    assert move.cost == 5 + 4  # a changed clinician and four quarter hours


def test_the_same_time_with_a_peer_costs_only_the_change_of_clinician():
    result = replan(_clinic(_appointment("hit", at(0, 9), "dr-sick")), SICK_MORNING, params=FAST)
    (move,) = result.moves
    assert (move.new_start, move.new_resource_ids, move.cost) == (at(0, 9), ("dr-peer",), 5)


def test_when_no_peer_is_free_the_own_clinician_on_the_nearest_day_is_chosen():
    hit = _appointment("hit", at(0, 9), "dr-sick")
    clinic = _clinic(hit, peer_free=())
    result = replan(clinic, [Absence("dr-sick", at(0, 0), at(1, 0))], params=FAST)
    (move,) = result.moves
    assert (move.new_start, move.new_resource_ids) == (at(1, 9), ("dr-sick",))
    assert move.days_moved == 1


def test_the_patient_unavailability_is_respected():
    hit = _appointment("hit", at(0, 9), "dr-sick", unavailable=(block(0, 0, 24),))
    result = replan(_clinic(hit), SICK_MORNING, params=FAST)
    (move,) = result.moves
    assert move.new_start == at(1, 9)
    assert move.new_resource_ids == ("dr-sick",)


def test_a_deadline_breach_is_avoided_by_moving_earlier():
    hit = _appointment("hit", at(1, 9), "dr-sick", deadline=at(1, 12))
    morning_off = [Absence("dr-sick", at(1, 0), at(2, 0))]
    not_monday = tuple(block(d, 8, 16) for d in range(1, 5))
    clinic = _clinic(hit, peer_free=(block(0, 14, 15),), sick_free=not_monday)
    result = replan(clinic, morning_off, window=(at(0, 0), at(4, 16)), params=FAST)
    (move,) = result.moves
    assert move.new_start == at(0, 14)
    assert move.deadline_met


def test_a_fixed_appointment_keeps_its_time_and_only_swaps_clinician():
    hit = _appointment("hit", at(0, 9), "dr-sick", fixed=True)
    result = replan(_clinic(hit), SICK_MORNING, params=FAST)
    (move,) = result.moves
    assert (move.new_start, move.new_resource_ids) == (at(0, 9), ("dr-peer",))


def test_a_fixed_appointment_without_a_free_peer_is_explained():
    hit = _appointment("hit", at(0, 9), "dr-sick", fixed=True)
    result = replan(_clinic(hit, peer_free=()), SICK_MORNING, params=FAST)
    assert result.moves == ()
    (reason,) = result.unplaced
    assert reason.item_id == "hit"
    assert reason.reason == Reason.FIXED_TIME_UNAVAILABLE


def test_replan_beats_first_fit_and_is_proven_optimal():
    first = _appointment("first", at(0, 9), "dr-sick")
    away = (block(0, 10.5, 24), block(1, 0, 24 * 4))
    second = _appointment("second", at(0, 10), "dr-sick", unavailable=away)
    peer_free = (block(0, 9, 10), block(2, 9, 11))
    clinic = _clinic(first, second, peer_free=peer_free, sick_free=WEEK)
    absence = [Absence("dr-sick", at(0, 0), at(2, 0))]
    baseline = greedy_replan(clinic, absence)
    planned = replan(clinic, absence, params=FAST)
    assert planned.stats.status == SolveStatus.OPTIMAL
    assert planned.by_id()["second"].new_start == at(0, 9)
    assert baseline.unplaced[0].item_id == "second"
    assert planned.unplaced == ()
    assert planned.total_cost < baseline.total_cost


def test_the_same_seed_gives_the_same_replan():
    hits = tuple(_appointment(f"hit-{h}", at(0, h), "dr-sick") for h in range(8, 12))
    params = SolveParams(time_limit_s=2, random_seed=5, deterministic=True)
    first = replan(_clinic(*hits), SICK_MORNING, params=params)
    second = replan(_clinic(*hits), SICK_MORNING, params=params)
    assert first.moves == second.moves
    assert len(first.moves) == 4


def test_a_fixed_appointment_off_the_grid_without_a_free_peer_is_explained_by_the_peer():
    hit = _appointment("hit", at(0, 9, 10), "dr-sick", fixed=True)
    result = replan(_clinic(hit, peer_free=()), SICK_MORNING, params=FAST)
    assert result.moves == ()
    (reason,) = result.unplaced
    assert reason.reason == Reason.FIXED_TIME_UNAVAILABLE
    assert "free at the fixed start" in reason.detail


def test_a_fixed_appointment_off_the_grid_moves_to_a_free_peer():
    hit = _appointment("hit", at(0, 9, 10), "dr-sick", fixed=True)
    result = replan(_clinic(hit), SICK_MORNING, params=FAST)
    (move,) = result.moves
    assert (move.new_start, move.new_resource_ids) == (at(0, 9, 10), ("dr-peer",))


def test_the_reported_cost_is_the_cost_of_the_returned_resources():
    """Two rooms alike in every way; both appointments come from room-1 and can only go to
    the one free hour, so one of them has to change room and pay for it."""
    visit = AppointmentType("visit", 60, (GASTRO, Requirement("room", "consult")))
    rooms = (room("room-1", *WEEK), room("room-2", *WEEK))
    peers = tuple(clinician(f"dr-peer-{n}", block(0, 13, 14)) for n in range(2))
    appointments = (
        Appointment("a", "patient-a", "visit", at(0, 9), ("dr-sick", "room-1")),
        Appointment("b", "patient-b", "visit", at(0, 11), ("dr-sick", "room-1")),
    )
    instance = Instance((clinician("dr-sick", *WEEK), *peers, *rooms), (visit,), (), appointments)
    weights = ReplanWeights()
    all_day = [Absence("dr-sick", at(0, 0), at(1, 0))]
    result = replan(instance, all_day, window=(at(0, 0), at(0, 16)), params=FAST)
    assert len(result.moves) == 2
    for move in result.moves:
        changed = len(set(move.old_resource_ids) - set(move.new_resource_ids))
        quarters = -(-abs(move.new_start - move.old_start) // 15)
        assert move.cost == weights.resource_changed * changed + quarters
    assert result.total_cost == sum(m.cost for m in result.moves)
