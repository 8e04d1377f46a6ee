"""Batch planning: deadlines, priorities, hard constraints, explanations, reproducibility."""

import random

from cores.solver import (
    Appointment,
    AppointmentType,
    Instance,
    ObjectiveWeights,
    Preferences,
    Reason,
    Requirement,
    SolveParams,
    SolveStatus,
    greedy_plan,
    plan_batch,
)
from tests.cores.solver.builders import (
    CONSULT,
    FAST,
    GASTRO,
    at,
    block,
    clinician,
    room,
    task,
)


def _starts(result) -> dict[str, int]:
    return {a.item_id: a.start for a in result.assignments}


def test_all_deadlines_are_met_when_possible_even_where_first_fit_fails():
    doctor = clinician("dr-a", block(0, 9, 10), block(1, 9, 10))
    flexible = task("a-flexible", latest=at(1, 9), deadline=at(1, 12))
    away_tomorrow = task(
        "b-away-tomorrow", latest=at(1, 9), deadline=at(1, 12), unavailable=(block(1, 0, 24),)
    )
    instance = Instance((doctor,), (CONSULT,), (flexible, away_tomorrow))
    result = plan_batch(instance, params=FAST)
    assert _starts(result) == {"a-flexible": at(1, 9), "b-away-tomorrow": at(0, 9)}
    assert result.stats.status == SolveStatus.OPTIMAL
    baseline = greedy_plan(instance)
    assert _starts(baseline) == {"a-flexible": at(0, 9)}
    assert baseline.reasons()["b-away-tomorrow"].reason == Reason.CAPACITY_TAKEN


def test_the_higher_priority_task_gets_the_only_slot_before_the_deadline():
    doctor = clinician("dr-a", block(0, 9, 10), block(3, 9, 10))
    low = task("low", deadline=at(1, 12), priority=0)
    high = task("high", deadline=at(1, 12), priority=2)
    result = plan_batch(Instance((doctor,), (CONSULT,), (low, high)), params=FAST)
    by_id = result.by_id()
    assert by_id["high"].start == at(0, 9)
    assert by_id["high"].deadline_met
    assert by_id["low"].start == at(3, 9)
    assert not by_id["low"].deadline_met


def test_when_not_all_fit_the_higher_priority_task_is_placed():
    doctor = clinician("dr-a", block(0, 9, 10))
    result = plan_batch(
        Instance((doctor,), (CONSULT,), (task("low"), task("high", priority=1))), params=FAST
    )
    assert _starts(result) == {"high": at(0, 9)}
    assert result.reasons()["low"].reason == Reason.CAPACITY_TAKEN


def test_patient_availability_decides_between_equal_slots():
    doctor = clinician("dr-a", block(0, 9, 10), block(0, 14, 15))
    afternoon = task("t1", available=(block(0, 12, 17),))
    result = plan_batch(Instance((doctor,), (CONSULT,), (afternoon,)), params=FAST)
    assert _starts(result) == {"t1": at(0, 14)}
    assert result.assignments[0].fits_availability


def test_compactness_keeps_a_free_block_in_one_piece():
    doctor = clinician("dr-a", block(0, 9, 12))
    result = plan_batch(Instance((doctor,), (CONSULT,), (task("t1"),)), params=FAST)
    assert _starts(result) == {"t1": at(0, 9)}


def test_distinct_resources_and_buffers_are_respected():
    pair = AppointmentType("pair", 30, (GASTRO, Requirement("clinician")), buffer_after=30)
    doctors = (clinician("dr-a", block(0, 9, 11)), clinician("dr-b", block(0, 9, 11)))
    tasks = (task("t1", type_id="pair"), task("t2", type_id="pair"))
    result = plan_batch(Instance(doctors, (pair,), tasks), params=FAST)
    starts = sorted(a.start for a in result.assignments)
    assert starts == [at(0, 9), at(0, 10)]
    assert all(sorted(a.resource_ids) == ["dr-a", "dr-b"] for a in result.assignments)


def test_identical_rooms_are_pooled_and_handed_out_once_each():
    doctors = tuple(clinician(f"dr-{n}", block(0, 9, 10)) for n in range(3))
    rooms = tuple(room(f"room-{n}", block(0, 8, 16)) for n in range(3))
    visit = AppointmentType("visit", 60, (GASTRO, Requirement("room", "consult")))
    tasks = tuple(task(f"t{n}", type_id="visit") for n in range(3))
    result = plan_batch(Instance(doctors + rooms, (visit,), tasks), params=FAST)
    assert {a.start for a in result.assignments} == {at(0, 9)}
    used = [resource for a in result.assignments for resource in a.resource_ids]
    assert sorted(used) == ["dr-0", "dr-1", "dr-2", "room-0", "room-1", "room-2"]


def test_one_patient_is_never_booked_twice_at_the_same_time():
    doctors = (clinician("dr-a", block(0, 9, 10)), clinician("dr-b", block(0, 9, 11)))
    tasks = (task("t1", patient="p1"), task("t2", patient="p1"))
    result = plan_batch(Instance(doctors, (CONSULT,), tasks), params=FAST)
    assert sorted(a.start for a in result.assignments) == [at(0, 9), at(0, 10)]


def test_impossible_tasks_are_explained_with_task_and_constraint():
    doctor = clinician("dr-a", block(0, 9, 10), block(2, 9, 10))
    surgeon = AppointmentType("surgery", 60, (Requirement("clinician", "surgery"),))
    with_room = AppointmentType("with-room", 60, (GASTRO, Requirement("room", "consult")))
    tasks = (
        task("no-surgeon", type_id="surgery"),
        task("patient-away", unavailable=(block(0, 0, 24 * 5),)),
        task("in-the-past", latest=at(0, 9)),
        task("no-room-then", type_id="with-room"),
        task("doctor-off", earliest=at(1, 0), latest=at(1, 23)),
    )
    instance = Instance((doctor, room("r1", block(1, 8, 16))), (CONSULT, surgeon, with_room), tasks)
    reasons = plan_batch(instance, now=at(0, 12), params=FAST).reasons()
    assert reasons["no-surgeon"].reason == Reason.NO_MATCHING_RESOURCE
    assert "clinician[surgery]x1" in reasons["no-surgeon"].detail
    assert reasons["patient-away"].reason == Reason.PATIENT_UNAVAILABLE
    assert reasons["in-the-past"].reason == Reason.EMPTY_WINDOW
    assert reasons["no-room-then"].reason == Reason.RESOURCES_NEVER_FREE_TOGETHER
    assert reasons["doctor-off"].reason == Reason.NO_FREE_CAPACITY
    assert "clinician[gastro]x1" in reasons["doctor-off"].detail


def test_required_tasks_that_cannot_all_be_placed_are_named():
    doctors = (clinician("dr-a", block(0, 9, 10)), clinician("dr-b", block(1, 9, 10), tags=("x",)))
    other = AppointmentType("other", 60, (Requirement("clinician", "x"),))
    tasks = (task("t1"), task("t2"), task("t3", type_id="other"))
    result = plan_batch(
        Instance(doctors, (CONSULT, other), tasks),
        required_task_ids={"t1", "t2", "t3"},
        params=FAST,
    )
    assert result.stats.status == SolveStatus.INFEASIBLE
    placed = {a.item_id for a in result.assignments}
    assert "t3" in placed
    assert len(placed & {"t1", "t2"}) == 1
    (conflict,) = result.unplaced
    assert conflict.reason == Reason.REQUIRED_CONFLICT
    assert conflict.item_id in {"t1", "t2"}
    assert "required tasks t1, t2 cannot all be placed" in conflict.detail
    assert "dr-a" in conflict.detail


def _random_instance(seed: int) -> Instance:
    rng = random.Random(seed)
    doctors = tuple(
        clinician(
            f"dr-{n}",
            *(block(d, h, h + rng.choice((1, 2))) for d in range(5) for h in (8, 11, 13)),
        )
        for n in range(4)
    )
    tasks = tuple(
        task(
            f"t{n:02d}",
            earliest=at(rng.randint(0, 2), 0),
            deadline=at(rng.randint(1, 4), 16),
            priority=rng.randint(0, 3),
            available=(block(rng.randint(0, 4), 8, 12),) if rng.random() < 0.3 else (),
        )
        for n in range(40)
    )
    return Instance(doctors, (CONSULT,), tasks)


def test_the_same_seed_gives_the_same_plan():
    instance = _random_instance(11)
    params = SolveParams(time_limit_s=3, random_seed=3, deterministic=True)
    first = plan_batch(instance, params=params)
    second = plan_batch(instance, params=params)
    assert first.assignments == second.assignments
    assert first.stats.objective == second.stats.objective
    assert len(first.assignments) >= 30


def test_batch_is_never_worse_than_the_greedy_baseline():
    instance = _random_instance(5)
    planned = plan_batch(instance, params=FAST)
    baseline = greedy_plan(instance)
    assert planned.stats.objective is not None
    assert baseline.stats.objective is not None
    assert planned.stats.objective >= baseline.stats.objective
    assert planned.stats.best_bound is not None
    assert planned.stats.objective <= planned.stats.best_bound


def _mixed_instance(seed: int) -> Instance:
    """Pooled rooms, buffers, two-clinician visits, existing bookings, shared patients."""
    rng = random.Random(seed)
    hours = tuple(block(d, 8, 16) for d in range(3))
    doctors = tuple(
        clinician(f"dr-{n}", *(block(d, 8 + rng.randint(0, 2), 16) for d in range(3)))
        for n in range(3)
    )
    rooms = tuple(room(f"room-{n}", *hours) for n in range(3))
    types = (
        CONSULT,
        AppointmentType("visit", 45, (GASTRO, Requirement("room", "consult")), buffer_before=15),
        AppointmentType(
            "joint", 30, (GASTRO, Requirement("clinician")), buffer_after=15, grid_minutes=30
        ),
    )
    booked = tuple(
        Appointment(
            f"old-{n}", f"p{n % 7}", "visit", at(rng.randint(0, 2), 10), (f"dr-{n}", f"room-{n}")
        )
        for n in range(3)
    )
    tasks = tuple(
        task(
            f"t{n:02d}",
            type_id=rng.choice(["consult", "visit", "joint"]),
            patient=f"p{rng.randint(0, 9)}",
            latest=at(2, 15),
            deadline=at(rng.randint(0, 2), 16),
            priority=rng.randint(0, 2),
            unavailable=(block(rng.randint(0, 2), 12, 14),),
        )
        for n in range(30)
    )
    return Instance(doctors + rooms, types, tasks, booked)


def _violations(instance: Instance, result) -> list[str]:
    """Independent check of every hard constraint of a plan."""
    types = instance.type_by_id()
    tasks = {t.id: t for t in instance.tasks}
    resources = {r.id: r for r in instance.resources}
    busy: dict[str, list[tuple[int, int]]] = {r: [] for r in resources}
    patients: dict[str, list[tuple[int, int]]] = {}
    for a in instance.appointments:
        kind = types[a.type_id]
        for rid in a.resource_ids:
            busy[rid].append(kind.resource_span(a.start))
        patients.setdefault(a.patient_id, []).append(kind.patient_span(a.start))
    problems = []
    for a in result.assignments:
        t = tasks[a.item_id]
        kind = types[t.type_id]
        span, own = kind.resource_span(a.start), kind.patient_span(a.start)
        if not t.earliest_start <= a.start <= t.latest_start:
            problems.append(f"{a.item_id} outside window")
        if any(
            own[0] < e and s < own[1] for s, e in [*t.unavailable, *patients.get(t.patient_id, [])]
        ):
            problems.append(f"{a.item_id} patient unavailable or double booked")
        patients.setdefault(t.patient_id, []).append(own)
        if len(set(a.resource_ids)) != len(a.resource_ids):
            problems.append(f"{a.item_id} resource used twice")
        expected = [req for req in kind.requirements for _ in range(req.count)]
        for req, rid in zip(expected, a.resource_ids, strict=True):
            resource = resources[rid]
            if not req.matches(resource.kind, resource.tags):
                problems.append(f"{a.item_id} {rid} does not match {req.label}")
            if not any(s <= span[0] and span[1] <= e for s, e in resource.free):
                problems.append(f"{a.item_id} {rid} not working")
            if any(span[0] < e and s < span[1] for s, e in busy[rid]):
                problems.append(f"{a.item_id} {rid} double booked")
            busy[rid].append(span)
    return problems


def test_plans_respect_every_hard_constraint():
    for seed in (1, 2, 3):
        instance = _mixed_instance(seed)
        for result in (plan_batch(instance, params=FAST), greedy_plan(instance)):
            assert len(result.assignments) >= 10
            assert _violations(instance, result) == []


def test_two_distinct_clinicians_with_only_one_in_the_clinic_is_no_matching_resource():
    joint = AppointmentType("joint", 30, (GASTRO, Requirement("clinician")))
    doctor = clinician("dr-a", block(0, 8, 16))
    instance = Instance((doctor,), (joint,), (task("t1", type_id="joint"),))
    for result in (plan_batch(instance, params=FAST), greedy_plan(instance)):
        reason = result.reasons()["t1"]
        assert reason.reason == Reason.NO_MATCHING_RESOURCE
        assert "2 distinct" in reason.detail


def test_continuity_counts_only_for_the_task_that_gets_its_preferred_clinician():
    """Two clinicians alike in every way, two tasks preferring dr-a, one hour: one of them
    gets dr-b and must not score the continuity of dr-a."""
    doctors = (clinician("dr-a", block(0, 9, 10)), clinician("dr-b", block(0, 9, 10)))
    wish = Preferences(resource_ids=frozenset({"dr-a"}))
    tasks = (task("t1", preferences=wish), task("t2", preferences=wish))
    weights = ObjectiveWeights()
    for result in (
        plan_batch(Instance(doctors, (CONSULT,), tasks), weights=weights, params=FAST),
        greedy_plan(Instance(doctors, (CONSULT,), tasks), weights=weights),
    ):
        by_doctor = {a.resource_ids: a.score for a in result.assignments}
        assert by_doctor[("dr-a",)] - by_doctor[("dr-b",)] == weights.continuity
