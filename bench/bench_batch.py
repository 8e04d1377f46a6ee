"""Batch planning benchmark: 2,000 booking tasks, 50 clinicians, 20 rooms, 6 weeks.

Run: ``python -m bench.bench_batch [--time-limit 60]``. Prints the greedy baseline and CP-SAT
side by side: objective, ratio, time to the first plan, time to within 2 % of the bound, final
gap, deadlines met, peak memory. The instance is generated with ``random.Random(2026)``.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
import tracemalloc

from bench._fragments import fragmented_day
from cores.solver import (
    AppointmentType,
    BookingTask,
    Instance,
    PartOfDay,
    PlanResult,
    Preferences,
    Requirement,
    Resource,
    SolveParams,
    greedy_plan,
    plan_batch,
)

DAY = 1440
HOUR = 60
WEEKS = 6
SPECIALTIES = ("cardio", "gastro", "neuro", "ortho", "derm")
CLINICIANS_PER_SPECIALTY = 10
CONSULT_ROOMS = 14
PROCEDURE_ROOMS = 6
TASKS = 2000
SEED = 2026


def working_days() -> list[int]:
    return [d for d in range(7 * WEEKS) if d % 7 < 5]


def clinicians(rng: random.Random) -> list[Resource]:
    result = []
    for specialty in SPECIALTIES:
        for number in range(CLINICIANS_PER_SPECIALTY):
            free = []
            for day in working_days():
                if rng.random() < 0.08:
                    continue
                free.extend(fragmented_day(rng, day, (8 * HOUR, 15 * HOUR + 30), 0.78))
            tags = frozenset({specialty})
            result.append(Resource(f"{specialty}-dr{number}", "clinician", tags, tuple(free)))
    return result


def rooms(rng: random.Random) -> list[Resource]:
    result = []
    for number in range(CONSULT_ROOMS):
        free = []
        for day in working_days():
            free.extend(fragmented_day(rng, day, (7 * HOUR + 30, 16 * HOUR), 0.45))
        result.append(Resource(f"consult-{number}", "room", frozenset({"consult"}), tuple(free)))
    for number in range(PROCEDURE_ROOMS):
        free = [(d * DAY + 8 * HOUR, d * DAY + 15 * HOUR + 30) for d in working_days()]
        tags = frozenset({"procedure"})
        result.append(Resource(f"procedure-{number}", "room", tags, tuple(free)))
    return result


def appointment_types() -> list[AppointmentType]:
    result = []
    for s in SPECIALTIES:
        doctor = Requirement("clinician", s)
        result += [
            AppointmentType(f"new-{s}", 45, (doctor, Requirement("room", "consult"))),
            AppointmentType(f"followup-{s}", 30, (doctor,)),
            AppointmentType(
                f"procedure-{s}", 60, (doctor, Requirement("room", "procedure")), buffer_after=15
            ),
            AppointmentType(f"phone-{s}", 15, (doctor,)),
            AppointmentType(
                f"joint-{s}",
                60,
                (doctor, Requirement("clinician"), Requirement("room", "consult")),
            ),
        ]
    return result


TYPE_MIX = (
    ("new", 0.35),
    ("followup", 0.30),
    ("procedure", 0.15),
    ("phone", 0.15),
    ("joint", 0.05),
)


Times = tuple[tuple[int, int], ...]


def patient_times(
    rng: random.Random, first_day: int, last_day: int
) -> tuple[Times, Times, Preferences]:
    """Stated availability (mornings or afternoons), a few days away, weekday wishes."""
    available: Times = ()
    unavailable: Times = ()
    preferences = Preferences()
    days = range(first_day, last_day + 1)
    draw = rng.random()
    if draw < 0.15:
        available = tuple((d * DAY + 8 * HOUR, d * DAY + 12 * HOUR) for d in days)
    elif draw < 0.30:
        available = tuple((d * DAY + 12 * HOUR, d * DAY + 16 * HOUR) for d in days)
    elif draw < 0.40:
        preferences = Preferences(weekdays=frozenset(rng.sample(range(5), 2)))
    elif draw < 0.45:
        preferences = Preferences(part_of_day=PartOfDay.MORNING)
    if rng.random() < 0.2:
        away = rng.randint(first_day, last_day)
        unavailable = ((away * DAY, (away + rng.randint(1, 5)) * DAY),)
    return available, unavailable, preferences


def tasks(rng: random.Random) -> list[BookingTask]:
    days = working_days()
    result = []
    for number in range(TASKS):
        specialty = rng.choice(SPECIALTIES)
        kind = rng.choices([k for k, _ in TYPE_MIX], [w for _, w in TYPE_MIX])[0]
        priority = rng.choices([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1])[0]
        first_index = rng.randint(0, 20)
        deadline_index = min(len(days) - 1, first_index + rng.randint(3, 10) - priority)
        last_index = min(len(days) - 1, deadline_index + 10)
        first_day, last_day = days[first_index], days[last_index]
        deadline_day = days[deadline_index]
        available, unavailable, preferences = patient_times(rng, first_day, last_day)
        result.append(
            BookingTask(
                id=f"task-{number:04d}",
                patient_id=f"patient-{rng.randint(0, 1900):04d}",
                type_id=f"{kind}-{specialty}",
                earliest_start=first_day * DAY,
                latest_start=last_day * DAY + 16 * HOUR,
                deadline=deadline_day * DAY + 16 * HOUR,
                priority=priority,
                available=available,
                unavailable=unavailable,
                preferences=preferences,
            )
        )
    return result


def build_instance(seed: int = SEED) -> Instance:
    rng = random.Random(seed)
    resources = clinicians(rng) + rooms(rng)
    return Instance(tuple(resources), tuple(appointment_types()), tuple(tasks(rng)))


def deadlines_met(result: PlanResult) -> int:
    return sum(a.deadline_met for a in result.assignments)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def python_heap_peak_mib(instance: Instance, workers: int) -> float:
    """Peak of Python allocations while building and briefly solving (tracemalloc slows Python
    down a lot, so this is a separate run; CP-SAT's own memory shows in the process RSS).
    """
    tracemalloc.start()
    plan_batch(instance, params=SolveParams(time_limit_s=20, num_workers=workers))
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    instance = build_instance()
    print(
        f"instance: {len(instance.tasks)} tasks, {len(instance.resources)} resources, "
        f"{len(working_days())} working days"
    )
    started = time.perf_counter()
    greedy = greedy_plan(instance)
    greedy_time = time.perf_counter() - started
    params = SolveParams(time_limit_s=args.time_limit, num_workers=args.workers, random_seed=1)
    started = time.perf_counter()
    planned = plan_batch(instance, params=params)
    total = time.perf_counter() - started
    rss = peak_rss_mb()
    report(greedy, greedy_time, planned, total)
    print(f"process peak RSS {rss:.0f} MiB (Python + CP-SAT)")
    print(f"Python heap peak {python_heap_peak_mib(instance, args.workers):.0f} MiB (tracemalloc)")


def report(greedy: PlanResult, greedy_time: float, planned: PlanResult, total: float) -> None:
    stats = planned.stats
    bound = stats.best_bound or 0.0
    greedy_objective = greedy.stats.objective or 0.0
    objective = stats.objective or 0.0
    rows = [
        ("objective (sum of scores)", f"{greedy_objective:,.0f}", f"{objective:,.0f}"),
        ("ratio to CP-SAT", f"{greedy_objective / objective:.4f}", "1.0000"),
        ("CP-SAT best bound", f"{bound:,.0f}", f"{bound:,.0f}"),
        ("gap to bound", f"{(bound - greedy_objective) / bound:.3%}", f"{stats.gap or 0:.3%}"),
        ("placed", str(len(greedy.assignments)), str(len(planned.assignments))),
        ("deadlines met", str(deadlines_met(greedy)), str(deadlines_met(planned))),
        ("fit stated availability", *(str(fits(r)) for r in (greedy, planned))),
        ("wall time s", f"{greedy_time:.2f}", f"{total:.2f}"),
    ]
    print(f"{'':28}{'greedy':>16}{'CP-SAT':>16}")
    for name, left, right in rows:
        print(f"{name:28}{left:>16}{right:>16}")
    print(
        f"status {stats.status}; {stats.num_candidates:,} candidates; "
        f"model built after {stats.build_time_s:.2f} s"
    )
    greedy_at = stats.first_solution_s("greedy")
    first = stats.first_solution_s("cp-sat")
    print(f"greedy plan (the CP-SAT hint) ready after {greedy_at:.2f} s")
    print(f"first CP-SAT plan after {first:.2f} s" if first is not None else "no CP-SAT plan")
    for gap in (0.02, 0.01):
        at = stats.time_to_gap_s(gap)
        print(f"within {gap:.0%} of the bound after {at:.2f} s" if at else f"never {gap:.0%}")
    best_possible = bound - objective
    print(
        f"loss view: the bound allows at most {best_possible:,.0f} more score "
        f"(greedy leaves {bound - greedy_objective:,.0f}); one met deadline of priority p "
        f"is worth {1000:,} x (1 + p)"
    )


def fits(result: PlanResult) -> int:
    return sum(a.fits_availability for a in result.assignments)


if __name__ == "__main__":
    main()
