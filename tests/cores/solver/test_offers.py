"""Offers for one booking task: hard constraints, protection of urgent tasks, spread."""

import importlib
from itertools import permutations

import pytest

from cores.intervals import subtract_spans
from cores.solver import (
    Appointment,
    AppointmentType,
    BookingTask,
    Instance,
    PartOfDay,
    Reason,
    Requirement,
    offer_at,
    offers,
)
from tests.cores.solver.builders import CONSULT, GASTRO, at, block, clinician, room, task

JOINT = AppointmentType(
    "joint",
    30,
    (GASTRO, Requirement("room", "consult"), Requirement("clinician")),
    buffer_after=15,
)

# The module, not the function of the same name the package exports.
offers_module = importlib.import_module("cores.solver.offers")


def _joint_instance() -> Instance:
    resources = (
        clinician("dr-a", block(0, 8, 12), block(1, 8, 10)),
        clinician("dr-b", block(0, 10, 14)),
        clinician("dr-c", block(0, 9, 11), block(1, 8, 12), tags=("cardio",)),
        room("r1", block(0, 8, 16)),
        room("r2", block(1, 9, 10)),
    )
    booked = (Appointment("a1", "p-x", "consult", at(0, 9), ("dr-a",)),)
    wanted = task(
        "t1",
        type_id="joint",
        earliest=at(0, 8),
        latest=at(1, 11),
        unavailable=(block(0, 10.5, 11),),
    )
    return Instance(resources, (CONSULT, JOINT), (wanted,), booked)


def _brute_force_starts(instance: Instance) -> set[int]:
    """Every 15-minute start where the patient is free and three distinct, matching resources
    are free for the 45-minute resource span (computed without the solver's code).
    """
    wanted = instance.tasks[0]
    free = {
        r.id: subtract_spans(r.free, [(at(0, 9), at(0, 10))] if r.id == "dr-a" else [])
        for r in instance.resources
    }
    resources = {r.id: r for r in instance.resources}
    found = set()
    for start in range(wanted.earliest_start, wanted.latest_start + 1, 15):
        if any(start < end and start + 30 > begin for begin, end in wanted.unavailable):
            continue
        span = (start, start + 45)
        usable = [
            i for i, blocks in free.items() if any(b <= span[0] and span[1] <= e for b, e in blocks)
        ]
        for gastro, room_id, other in permutations(usable, 3):
            if (
                "gastro" in resources[gastro].tags
                and resources[gastro].kind == "clinician"
                and resources[room_id].kind == "room"
                and resources[other].kind == "clinician"
            ):
                found.add(start)
                break
    return found


def test_offers_are_exactly_the_feasible_times_when_spreading_is_switched_off():
    instance = _joint_instance()
    result = offers(instance, "t1", k=200, max_per_day=200, min_gap_minutes=0)
    expected = _brute_force_starts(instance)
    assert expected  # the instance is not trivial
    assert {offer.start for offer in result.offers} == expected


def test_every_offer_respects_resources_window_and_patient():
    instance = _joint_instance()
    resources = {r.id: r for r in instance.resources}
    result = offers(instance, "t1", k=200, max_per_day=200, min_gap_minutes=0)
    for offer in result.offers:
        gastro, room_id, other = offer.resource_ids
        assert len(set(offer.resource_ids)) == 3
        assert "gastro" in resources[gastro].tags
        assert resources[room_id].kind == "room"
        assert resources[other].kind == "clinician"
        assert at(0, 8) <= offer.start <= at(1, 11)
        assert not (offer.start < at(0, 11) and offer.end > at(0, 10, 30))
        if "dr-a" in offer.resource_ids:
            assert offer.start + 45 <= at(0, 9) or offer.start >= at(0, 10)


def _one_slot_a_day(*tasks, days: int = 5) -> Instance:
    doctor = clinician("dr-a", *(block(d, 9, 10) for d in range(days)))
    return Instance((doctor,), (CONSULT,), tasks)


def test_the_only_slot_before_an_urgent_deadline_is_not_offered_to_a_less_urgent_task():
    urgent = task("urgent", deadline=at(0, 12))
    calm = task("calm", deadline=at(4, 23))
    instance = _one_slot_a_day(urgent, calm)
    result = offers(instance, "calm")
    assert [o.start for o in result.offers] == [at(d, 9) for d in (1, 2, 3, 4)]
    assert result.withheld == 1
    unprotected = offers(instance, "calm", protect=False)
    assert unprotected.offers[0].start == at(0, 9)


def test_a_slot_is_offered_when_the_urgent_task_can_move_to_another_slot():
    urgent = task("urgent", deadline=at(1, 12), priority=3)
    calm = task("calm", deadline=at(4, 23))
    result = offers(_one_slot_a_day(urgent, calm), "calm")
    assert [o.start for o in result.offers] == [at(d, 9) for d in range(5)]
    assert result.withheld == 0


def test_two_urgent_tasks_keep_both_slots_before_their_deadline():
    first = task("urgent-1", deadline=at(1, 12))
    second = task("urgent-2", deadline=at(1, 12))
    calm = task("calm", deadline=at(4, 23))
    result = offers(_one_slot_a_day(first, second, calm), "calm")
    assert [o.start for o in result.offers] == [at(d, 9) for d in (2, 3, 4)]


def test_a_less_urgent_pending_task_does_not_block_anything():
    later = task("later", deadline=at(4, 23))
    asking = task("asking", deadline=at(2, 12))
    result = offers(_one_slot_a_day(later, asking), "asking")
    assert result.offers[0].start == at(0, 9)


def _open_days(*tasks, days: int = 10) -> Instance:
    doctor = clinician("dr-a", *(block(d, 8, 16) for d in range(days)))
    return Instance((doctor,), (CONSULT,), tasks)


def test_offers_are_spread_over_days_and_mix_morning_and_afternoon():
    result = offers(_open_days(task("t1", latest=at(9, 16), deadline=at(9, 16))), "t1")
    assert len(result.offers) == 6
    assert sorted(o.day for o in result.offers) == [0, 1, 2, 3, 4, 5]
    mornings = sum(o.part_of_day == PartOfDay.MORNING for o in result.offers)
    assert mornings == 3


def test_offers_fit_stated_availability_when_possible():
    mornings = tuple(block(d, 8, 12) for d in range(10))
    wanted = task("t1", latest=at(9, 16), deadline=at(9, 16), available=mornings)
    result = offers(_open_days(wanted), "t1")
    assert len(result.offers) == 6
    assert all(o.fits_availability and o.end <= at(o.day, 12) for o in result.offers)


def test_times_before_the_deadline_come_first():
    wanted = task("t1", latest=at(9, 16), deadline=at(1, 16))
    result = offers(_open_days(wanted), "t1", k=4)
    assert all(o.deadline_met for o in result.offers)
    assert sorted(o.day for o in result.offers) == [0, 0, 1, 1]


def test_paging_and_filters():
    wanted = task("t1", latest=at(9, 16), deadline=at(9, 16))
    instance = _open_days(wanted)
    first = offers(instance, "t1")
    second = offers(instance, "t1", offset=6)
    assert first.has_more
    assert not {o.start for o in first.offers} & {o.start for o in second.offers}
    wednesdays = offers(instance, "t1", weekdays=[2], part_of_day=PartOfDay.AFTERNOON)
    assert {o.day for o in wednesdays.offers} == {2, 9}
    assert all(o.start % 1440 >= 12 * 60 for o in wednesdays.offers)


def test_no_offers_come_with_a_reason():
    away = task("t1", latest=at(4, 16), unavailable=(block(0, 0, 120),))
    result = offers(_open_days(away), "t1")
    assert result.offers == ()
    assert result.reason is not None
    assert result.reason.reason == Reason.PATIENT_UNAVAILABLE


def _busy_clinic(*tasks: BookingTask) -> Instance:
    """Three clinicians and two rooms with uneven bookings, so balance and compactness
    points differ from pool to pool."""
    with_room = AppointmentType("scope", 45, (GASTRO, Requirement("room", "consult")))
    resources = (
        clinician("dr-a", *(block(d, 8, 15) for d in range(5))),
        clinician("dr-b", *(block(d, 9, 16) for d in range(5))),
        clinician("dr-c", *(block(d, 8, 12) for d in range(5))),
        room("r1", *(block(d, 8, 16) for d in range(5))),
        room("r2", *(block(d, 10, 14) for d in range(5))),
    )
    booked = (
        Appointment("a1", "p-1", "consult", at(0, 10), ("dr-a",)),
        Appointment("a2", "p-2", "consult", at(0, 12), ("dr-a",)),
        Appointment("a3", "p-3", "scope", at(1, 9), ("dr-b", "r1")),
        Appointment("a4", "p-4", "scope", at(2, 11), ("dr-c", "r2")),
    )
    return Instance(resources, (CONSULT, with_room), tasks, booked)


@pytest.mark.parametrize("type_id", ["consult", "scope"])
def test_picking_each_requirements_best_pool_gives_the_offers_of_scoring_every_allocation(
    monkeypatch: pytest.MonkeyPatch, type_id: str
):
    instance = _busy_clinic(task("t1", type_id=type_id, latest=at(4, 14)))
    shortcut = offers(instance, "t1", k=40, max_per_day=40, min_gap_minutes=0)
    monkeypatch.setattr(offers_module, "_separable", lambda *args: False)
    scored = offers(instance, "t1", k=40, max_per_day=40, min_gap_minutes=0)
    assert len(shortcut.offers) == 40
    assert [(o.start, o.resource_ids) for o in shortcut.offers] == [
        (o.start, o.resource_ids) for o in scored.offers
    ]


def _every_start_checked_alone(instance: Instance, task_id: str) -> dict[int, tuple[str, ...]]:
    found = {}
    for start in range(0, at(5, 0), 5):
        offer = offer_at(instance, task_id, start)
        if offer is not None:
            assert offer.start == start
            found[start] = offer.resource_ids
    return found


@pytest.mark.parametrize(
    ("instance", "task_id"),
    [
        (_joint_instance(), "t1"),
        (_one_slot_a_day(task("urgent", deadline=at(0, 12)), task("calm")), "calm"),
        (_busy_clinic(task("t1", type_id="scope", latest=at(4, 14))), "t1"),
    ],
    ids=["three resources", "protected for an urgent task", "busy clinic"],
)
def test_one_start_checked_alone_gets_the_verdict_and_resources_of_the_whole_list(
    instance: Instance, task_id: str
):
    listed = offers(instance, task_id, k=2000, max_per_day=2000, min_gap_minutes=0)
    assert listed.offers
    assert _every_start_checked_alone(instance, task_id) == {
        o.start: o.resource_ids for o in listed.offers
    }


def test_a_start_taken_for_an_urgent_task_is_refused_when_checked_alone():
    instance = _one_slot_a_day(task("urgent", deadline=at(0, 12)), task("calm"))
    assert offer_at(instance, "calm", at(0, 9)) is None
    assert offer_at(instance, "calm", at(0, 9), protect=False) is not None
    assert offer_at(instance, "calm", at(1, 9)) is not None


ANY_CLINICIAN = AppointmentType("any", 30, (Requirement("clinician"),))
SENIOR_ONLY = AppointmentType("senior", 30, (Requirement("clinician", "senior"),))


def _senior_and_junior() -> Instance:
    """Both clinicians are free 08:00-08:30 on day 1 (and all morning on day 2). U1 needs any
    clinician at 08:00 on day 1, U2 the senior then; X may wait until day 2. The greedy
    reference plan gives U1 the senior (the first pool) and cannot place U2."""
    resources = (
        clinician("senior", block(1, 8, 8.5), block(2, 8, 12), tags=("gastro", "senior")),
        clinician("junior", block(1, 8, 8.5), block(2, 8, 12)),
    )
    u1 = task("u1", type_id="any", earliest=at(1, 8), latest=at(1, 8), deadline=at(1, 8))
    u2 = task("u2", type_id="senior", earliest=at(1, 8), latest=at(1, 8), deadline=at(1, 8))
    x = task("x", type_id="any", earliest=at(1, 8), latest=at(2, 11), deadline=at(2, 11))
    return Instance(resources, (ANY_CLINICIAN, SENIOR_ONLY), (u1, u2, x))


def test_an_offer_is_withheld_when_the_urgent_tasks_fit_together_only_without_it():
    instance = _senior_and_junior()
    result = offers(instance, "x", k=50, max_per_day=50, min_gap_minutes=0)
    starts = {o.start for o in result.offers}
    assert at(1, 8) not in starts
    assert at(2, 8) in starts
    assert result.withheld == 1
    assert result.unprotected_task_ids == ()
    assert offer_at(instance, "x", at(1, 8)) is None
    assert offer_at(instance, "x", at(1, 8), protect=False) is not None


def test_an_offer_is_withheld_when_it_takes_the_patients_own_urgent_appointment_time():
    """The asking patient also has a more urgent task that can only be at 09:00 on day 0:
    another clinician is free then, but the patient is not (the greedy test looked only at
    resources)."""
    resources = (
        clinician("dr-a", block(0, 9, 10), block(1, 9, 10)),
        clinician("dr-b", block(0, 9, 10)),
    )
    urgent = task("urgent", patient="p", earliest=at(0, 9), latest=at(0, 9), deadline=at(0, 9))
    asking = task("asking", patient="p", earliest=at(0, 9), latest=at(1, 9))
    instance = Instance(resources, (CONSULT,), (urgent, asking))
    assert offer_at(instance, "asking", at(0, 9)) is None
    assert offer_at(instance, "asking", at(0, 9), exact=False) is not None
    assert [o.start for o in offers(instance, "asking").offers] == [at(1, 9)]


def test_an_undecided_check_withholds_the_offer_and_leaves_the_task_unprotected():
    from cores.solver.context import PlanningContext
    from cores.solver.exact import Allowance, ExactBudget
    from cores.solver.items import task_item
    from cores.solver.protection import Protection

    instance = _senior_and_junior()
    context = PlanningContext(instance)
    items = {t.id: task_item(context, t, None) for t in instance.tasks}

    def protection(budget: ExactBudget) -> Protection:
        return Protection(
            context,
            [items["u1"], items["u2"]],
            exact=True,
            patient_id=items["x"].patient_id,
            budget=budget,
        )

    # No exact work at all: U2, which first fit cannot place, is undecided and unprotected.
    starved = protection(ExactBudget(per_request=0))
    assert starved.unprotected_ids == ("u2",)
    assert starved.undecided_ids == ("u2",)
    # The plan decided (both protected), then no budget left for the offer: withheld.
    decided = protection(ExactBudget())
    assert decided.unprotected_ids == ()
    decided._allowance = Allowance(ExactBudget(per_request=0))
    span = (at(1, 8), at(1, 8, 30))
    junior = context.pool_of_resource["junior"]
    assert decided.first_safe(span, span, [((0, junior, 1),)]) is None
    assert decided.undecided == 1


def test_a_repeated_request_is_answered_as_the_first():
    offers_module._cache.clear()
    instance = _busy_clinic(task("t1", type_id="scope", latest=at(4, 14)))
    cold = offers(instance, "t1", k=20)
    warm = offers(instance, "t1", k=20)
    assert cold.offers == warm.offers
    assert (cold.withheld, cold.undecided) == (warm.withheld, warm.undecided)
