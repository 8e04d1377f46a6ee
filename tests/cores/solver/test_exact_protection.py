"""Offers' protection held to an independent exact reference on many small random clinics.

The reference is written from the definitions, not from the solver's code: every placement of
a task is a start and a tuple of distinct resources (no pools), two placements conflict when
they share a resource over overlapping resource spans or a patient over overlapping
appointments, and a CP-SAT model picks one placement per task with no two in conflict.

- The protected tasks: the more urgent ones (earlier deadline or higher priority than the
  asking task), in urgency order, each kept if it fits before its deadline together with all
  those kept before it.
- A start is safe when, for some resources the asking task could use there, the protected
  tasks still all fit with that appointment booked.

Every offered start must be safe with the resources offered (no offer takes needed capacity),
and every start that was held back must be unsafe (none withheld needlessly).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import permutations

from ortools.sat.python import cp_model

from cores.solver import AppointmentType, BookingTask, Instance, Requirement, Resource, offers
from cores.solver.protection import is_more_urgent
from tests.cores.solver.builders import at

SEED = 20261204
INSTANCES = 120

TYPES = (
    AppointmentType("any", 30, (Requirement("clinician"),), grid_minutes=15),
    AppointmentType("senior", 30, (Requirement("clinician", "senior"),), grid_minutes=30),
    AppointmentType(
        "scope",
        30,
        (Requirement("clinician"), Requirement("room")),
        buffer_after=15,
        grid_minutes=15,
    ),
    AppointmentType("pair", 45, (Requirement("clinician", count=2),), grid_minutes=15),
)


@dataclass(frozen=True)
class _Placement:
    start: int
    resources: tuple[str, ...]
    span: tuple[int, int]
    patient_span: tuple[int, int]
    patient: str


def _random_instance(rng: random.Random) -> Instance:
    resources = []
    for number in range(rng.randint(2, 3)):
        tags = frozenset({"senior"} if number == 0 or rng.random() < 0.3 else set())
        free = []
        for day in range(2):
            first = rng.choice([8, 8.5, 9])
            free.append((at(day, 0) + round(first * 60), at(day, 0) + round((first + 1.5) * 60)))
        resources.append(Resource(f"dr-{number}", "clinician", tags, tuple(free)))
    resources.append(Resource("room-0", "room", frozenset(), ((at(0, 8), at(1, 11)),)))
    tasks = []
    for number in range(rng.randint(3, 7)):
        first_day = rng.randint(0, 1)
        earliest = at(first_day, rng.choice([8, 9]))
        latest = earliest + rng.choice([0, 30, 60, 90, 1440])
        deadline = min(latest, earliest + rng.choice([0, 30, 60, 1440]))
        patient = f"p{number}" if rng.random() < 0.85 else "p0"
        tasks.append(
            BookingTask(
                id=f"t{number}",
                patient_id=patient,
                type_id=rng.choices(["any", "senior", "scope", "pair"], [4, 2, 2, 1])[0],
                earliest_start=earliest,
                latest_start=latest,
                deadline=deadline,
                priority=rng.choice([0, 0, 1]),
            )
        )
    asking = BookingTask(
        id="x",
        patient_id=rng.choice(["px", "px", "p1"]),
        type_id=rng.choice(["any", "any", "scope", "senior"]),
        earliest_start=at(0, 8),
        latest_start=at(1, 11),
        deadline=at(1, 11),
        priority=0,
    )
    return Instance(tuple(resources), TYPES, (*tasks, asking))


def _placements(instance: Instance, task: BookingTask, last: int) -> list[_Placement]:
    """Every start in the window (up to ``last``) on the type's grid, with every tuple of
    distinct resources that are free over the resource span."""
    kind = {t.id: t for t in instance.appointment_types}[task.type_id]
    result = []
    for start in range(task.earliest_start, min(task.latest_start, last) + 1):
        if start % kind.grid_minutes:
            continue
        span = kind.resource_span(start)
        free = [
            r for r in instance.resources if any(b <= span[0] and span[1] <= e for b, e in r.free)
        ]
        needs = [req for req in kind.requirements for _ in range(req.count)]
        for chosen in permutations(free, len(needs)):
            if all(req.matches(r.kind, r.tags) for req, r in zip(needs, chosen, strict=True)):
                resources = tuple(r.id for r in chosen)
                result.append(
                    _Placement(start, resources, span, kind.patient_span(start), task.patient_id)
                )
    return result


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _clash(a: _Placement, b: _Placement) -> bool:
    shared = set(a.resources) & set(b.resources)
    if shared and _overlap(a.span, b.span):
        return True
    return a.patient == b.patient and _overlap(a.patient_span, b.patient_span)


def _feasible(choices: list[list[_Placement]]) -> bool:
    """One placement from every list, no two clashing."""
    if any(not options for options in choices):
        return False
    model = cp_model.CpModel()
    variables = [[model.new_bool_var("") for _ in options] for options in choices]
    for row in variables:
        model.add_exactly_one(row)
    flat = [
        (i, p, v)
        for i, (o, r) in enumerate(zip(choices, variables, strict=True))
        for p, v in zip(o, r, strict=True)
    ]
    for index, (i, a, va) in enumerate(flat):
        for j, b, vb in flat[index + 1 :]:
            if i != j and _clash(a, b):
                model.add_bool_or([va.Not(), vb.Not()])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    assert status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    return status == cp_model.OPTIMAL


def _urgency(task: BookingTask) -> tuple[int, int, int, str]:
    return (task.deadline, -task.priority, task.earliest_start, task.id)


def _protected(instance: Instance, asking: BookingTask) -> list[list[_Placement]]:
    urgent = sorted(
        (t for t in instance.tasks if t.id != asking.id and is_more_urgent(t, asking)),
        key=_urgency,
    )
    kept: list[list[_Placement]] = []
    for task in urgent:
        options = _placements(instance, task, task.deadline)
        if _feasible([*kept, options]):
            kept.append(options)
    return kept


def test_offers_never_take_needed_capacity_and_never_withhold_needlessly():
    rng = random.Random(SEED)
    violations, needless, withheld, offered = [], [], 0, 0
    for number in range(INSTANCES):
        instance = _random_instance(rng)
        asking = instance.tasks[-1]
        protected = _protected(instance, asking)
        result = offers(instance, "x", k=500, max_per_day=500, min_gap_minutes=0)
        by_start = {o.start: o for o in result.offers}
        starts = {p.start for p in _placements(instance, asking, asking.latest_start)}
        # The patient's own other bookings: none in these instances, so every start counts.
        for start in sorted(starts):
            options = [p for p in _placements(instance, asking, start) if p.start == start]
            if start in by_start:
                offered += 1
                taken = [p for p in options if p.resources == by_start[start].resource_ids]
                assert taken, (number, start)
                if not _feasible([*protected, taken]):
                    violations.append((number, start))
            else:
                withheld += 1
                if any(_feasible([*protected, [p]]) for p in options):
                    needless.append((number, start))
        assert result.undecided == 0, number
    assert offered > 500  # the instances are not trivial
    assert withheld > 50
    assert violations == []
    assert needless == []
