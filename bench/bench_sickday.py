"""Sick-day re-planning benchmark.

One clinician is absent for four days; the 40 appointments booked with them are re-planned onto
9 peers (same specialty) whose calendars are 80 % booked, within 10 working days. Prints the
first-fit baseline and CP-SAT side by side: total cost, ratio, moves to another day, deadline
breaches, solve time, time to the first plan and to a proven optimum, gap.

Run: ``python -m bench.bench_sickday``. The instance comes from ``random.Random(2026)``.
"""

from __future__ import annotations

import random
import time

from cores.solver import (
    Absence,
    Appointment,
    AppointmentType,
    Instance,
    ReplanResult,
    Requirement,
    Resource,
    SolveParams,
    greedy_replan,
    replan,
)

DAY = 1440
HOUR = 60
START, END = 8 * HOUR, 15 * HOUR + 30
PEERS = 9
LOAD = 0.8
SICK_DAYS = 4
SEED = 2026


def working_days() -> list[int]:
    return [d for d in range(14) if d % 7 < 5]


def appointment_types() -> tuple[AppointmentType, ...]:
    doctor = (Requirement("clinician", "gastro"),)
    return (
        AppointmentType("control", 15, doctor),
        AppointmentType("followup", 30, doctor),
        AppointmentType("new", 45, doctor),
    )


DURATIONS = {"control": 15, "followup": 30, "new": 45}


def peer_day(rng: random.Random, clinician: str, day: int, counter: list[int]) -> list[Appointment]:
    """Existing appointments filling about ``LOAD`` of one working day."""
    booked: list[Appointment] = []
    cursor = day * DAY + START
    end = day * DAY + END
    while cursor < end:
        kind = rng.choice(list(DURATIONS))
        length = DURATIONS[kind]
        if cursor + length > end:
            break
        if rng.random() < LOAD:
            counter[0] += 1
            booked.append(
                Appointment(
                    f"peer-{counter[0]:04d}",
                    f"peer-patient-{counter[0]:04d}",
                    kind,
                    cursor,
                    (clinician,),
                    fixed=True,
                )
            )
            cursor += length
        else:
            cursor += 15
    return booked


def sick_appointments(rng: random.Random) -> list[Appointment]:
    result: list[Appointment] = []
    for day in working_days()[:SICK_DAYS]:
        cursor = day * DAY + START
        for _ in range(10):
            kind = rng.choice(["control", "followup", "followup", "new"])
            number = len(result)
            unavailable: tuple[tuple[int, int], ...] = ()
            if rng.random() < 0.3:
                away = rng.choice(working_days())
                unavailable = ((away * DAY, (away + 1) * DAY),)
            available: tuple[tuple[int, int], ...] = ()
            if rng.random() < 0.2:
                available = tuple((d * DAY + START, d * DAY + 12 * HOUR) for d in working_days())
            result.append(
                Appointment(
                    id=f"sick-{number:02d}",
                    patient_id=f"patient-{number:02d}",
                    type_id=kind,
                    start=cursor,
                    resource_ids=("dr-sick",),
                    deadline=(day + rng.randint(0, 6)) * DAY + END if rng.random() < 0.4 else None,
                    priority=rng.choice([0, 0, 1, 2]),
                    available=available,
                    unavailable=unavailable,
                )
            )
            cursor += DURATIONS[kind]
    return result


def build_instance(seed: int = SEED) -> tuple[Instance, list[Absence]]:
    rng = random.Random(seed)
    hours = tuple((d * DAY + START, d * DAY + END) for d in working_days())
    resources = [Resource("dr-sick", "clinician", frozenset({"gastro"}), hours)]
    appointments: list[Appointment] = []
    counter = [0]
    for number in range(PEERS):
        clinician = f"dr-peer-{number}"
        resources.append(Resource(clinician, "clinician", frozenset({"gastro"}), hours))
        for day in working_days():
            appointments.extend(peer_day(rng, clinician, day, counter))
    appointments.extend(sick_appointments(rng))
    absence = Absence("dr-sick", 0, working_days()[SICK_DAYS - 1] * DAY + DAY)
    instance = Instance(tuple(resources), appointment_types(), (), tuple(appointments))
    return instance, [absence]


def summary(result: ReplanResult) -> dict[str, str]:
    moves = result.moves
    return {
        "total cost": f"{result.total_cost:,}",
        "re-planned": f"{len(moves)}/{len(result.affected_ids)}",
        "moved to another day": str(sum(not m.same_day for m in moves)),
        "days moved (sum)": str(sum(m.days_moved for m in moves)),
        "deadline breaches": str(sum(not m.deadline_met for m in moves)),
        "peer changed": str(sum(m.new_resource_ids != m.old_resource_ids for m in moves)),
    }


def main() -> None:
    instance, absences = build_instance()
    window = (0, working_days()[-1] * DAY + END)
    started = time.perf_counter()
    greedy = greedy_replan(instance, absences, window=window)
    greedy_time = time.perf_counter() - started
    started = time.perf_counter()
    planned = replan(instance, absences, window=window, params=SolveParams(time_limit_s=60))
    solve_time = time.perf_counter() - started
    left, right = summary(greedy), summary(planned)
    print(
        f"instance: {len(planned.affected_ids)} affected appointments, {PEERS} peers at "
        f"{LOAD:.0%} load, {len(working_days())} working days, "
        f"{planned.stats.num_candidates:,} candidates"
    )
    print(f"{'':28}{'first-fit':>14}{'CP-SAT':>14}")
    for name in left:
        print(f"{name:28}{left[name]:>14}{right[name]:>14}")
    ratio = greedy.total_cost / planned.total_cost if planned.total_cost else float("inf")
    print(f"{'cost ratio first-fit/CP-SAT':28}{ratio:>14.3f}{1:>14.3f}")
    print(f"{'solve time s':28}{greedy_time:>14.3f}{solve_time:>14.3f}")
    stats = planned.stats
    first = stats.first_solution_s()
    optimal_at = stats.time_to_gap_s(0.0)
    print(f"status {stats.status}, gap {stats.gap:.4%}")
    print(f"first CP-SAT plan after {first:.3f} s" if first is not None else "no CP-SAT plan")
    print(
        f"proven optimal after {optimal_at:.3f} s"
        if optimal_at is not None and stats.status == "optimal"
        else "not proven optimal"
    )


if __name__ == "__main__":
    main()
