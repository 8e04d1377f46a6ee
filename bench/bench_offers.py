"""Offers benchmark: times offered for one task while 500 other tasks wait in the same clinic.

Each of 200 repetitions asks offers for a different task (the other 500 pending tasks are the
competition) and computes everything from scratch, as a web request would. Prints p50/p95/max
latency and compares with the baseline "the K earliest free times": mean ranking score, fit to
the patient's availability, deadlines met, distinct days, and how many baseline offers would
take capacity that more urgent pending tasks need.

Run: ``python -m bench.bench_offers``. The instance comes from ``random.Random(2026)``.

``python -m bench.bench_offers --scale [--pending 500,2000,5000] [--repetitions N]``: the same
clinic grown with the number of pending tasks (clinicians and rooms scaled from 12 and 4 at
500 pending, so the load stays alike), offers with greedy and with exact protection side by
side: latency p50/p95, times withheld and undecided per request, and the offers that take
capacity the more urgent tasks need, judged by the exact check with a larger budget (an offer
the judge cannot decide is counted apart).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench._fragments import fragmented_day
from cores.solver import (
    AppointmentType,
    BookingTask,
    Instance,
    OffersResult,
    Requirement,
    Resource,
    earliest_offers,
    offer_at,
    offers,
)
from cores.solver.allocation import Allocation
from cores.solver.context import PlanningContext
from cores.solver.exact import ExactBudget, Verdict
from cores.solver.items import task_item
from cores.solver.protection import Protection, is_more_urgent

DAY = 1440
HOUR = 60
WEEKS = 8
CLINICIANS = 12
PENDING = 500
REPETITIONS = 200
SEED = 2026


def working_days() -> list[int]:
    return [d for d in range(7 * WEEKS) if d % 7 < 5]


def resources(rng: random.Random, clinicians: int = CLINICIANS, rooms: int = 4) -> list[Resource]:
    result = []
    for number in range(clinicians):
        free = []
        for day in working_days():
            if rng.random() > 0.1:
                free.extend(fragmented_day(rng, day, (8 * HOUR, 15 * HOUR + 30), 0.7))
        result.append(Resource(f"dr-{number:02d}", "clinician", frozenset({"gastro"}), tuple(free)))
    for number in range(rooms):
        free = []
        for day in working_days():
            free.extend(fragmented_day(rng, day, (8 * HOUR, 16 * HOUR), 0.4))
        result.append(Resource(f"room-{number}", "room", frozenset({"consult"}), tuple(free)))
    return result


def appointment_types() -> tuple[AppointmentType, ...]:
    doctor = Requirement("clinician", "gastro")
    return (
        AppointmentType("new", 45, (doctor, Requirement("room", "consult")), grid_minutes=15),
        AppointmentType("followup", 30, (doctor,), grid_minutes=15),
        AppointmentType(
            "scopy", 60, (doctor, Requirement("room", "consult")), buffer_after=15, grid_minutes=30
        ),
    )


def tasks(rng: random.Random, pending: int = PENDING) -> list[BookingTask]:
    days = working_days()
    result = []
    for number in range(pending + 1):
        first = rng.randint(0, 25)
        priority = rng.choices([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1])[0]
        deadline = min(len(days) - 1, first + rng.randint(4, 15) - priority)
        last = min(len(days) - 1, deadline + 10)
        available: tuple[tuple[int, int], ...] = ()
        if rng.random() < 0.3:
            noon = 12 * HOUR
            morning = rng.random() < 0.5
            available = tuple(
                (
                    d * DAY + (8 * HOUR if morning else noon),
                    d * DAY + (noon if morning else 16 * HOUR),
                )
                for d in days[first : last + 1]
            )
        result.append(
            BookingTask(
                id=f"task-{number:04d}" if pending >= 1000 else f"task-{number:03d}",
                patient_id=f"patient-{number:04d}",
                type_id=rng.choices(["new", "followup", "scopy"], [0.4, 0.4, 0.2])[0],
                earliest_start=days[first] * DAY,
                latest_start=days[last] * DAY + 16 * HOUR,
                deadline=days[deadline] * DAY + 16 * HOUR,
                priority=priority,
                available=available,
            )
        )
    return result


def build_instance(seed: int = SEED, pending: int = PENDING) -> Instance:
    """The clinic with ``pending`` other tasks; clinicians and rooms grow in proportion."""
    rng = random.Random(seed)
    clinicians = max(1, CLINICIANS * pending // PENDING)
    rooms = max(1, 4 * pending // PENDING)
    return Instance(
        tuple(resources(rng, clinicians, rooms)), appointment_types(), tuple(tasks(rng, pending))
    )


def protection_breaches(instance: Instance, task_id: str, result: OffersResult) -> int:
    """Offers that take capacity the more urgent pending tasks need (same check as offers)."""
    context = PlanningContext(instance)
    item = task_item(context, instance.task(task_id), None)
    others = [task_item(context, t, None) for t in instance.tasks if t.id != task_id]
    protection = Protection(context, [o for o in others if is_more_urgent(o, item)])
    breaches = 0
    for offer in result.offers:
        span = item.type.resource_span(offer.start)
        allocation = _allocation_of(context, offer.resource_ids)
        breaches += not protection.is_safe(span, allocation)
    return breaches


def _allocation_of(context: PlanningContext, resource_ids: tuple[str, ...]) -> Allocation:
    return tuple(
        (index, context.pool_of_resource[resource_id], 1)
        for index, resource_id in enumerate(resource_ids)
    )


def describe(results: list[OffersResult], instance: Instance) -> dict[str, str]:
    all_offers = [o for r in results for o in r.offers]
    count = len(all_offers)
    breaches = sum(protection_breaches(instance, r.task_id, r) for r in results)
    days = statistics.mean(len({o.day for o in r.offers}) for r in results)
    return {
        "offers per task": f"{count / len(results):.2f}",
        "mean offer score": f"{statistics.mean(o.score for o in all_offers):,.1f}",
        "fits availability": f"{sum(o.fits_availability for o in all_offers) / count:.1%}",
        "deadline met": f"{sum(o.deadline_met for o in all_offers) / count:.1%}",
        "distinct days per task": f"{days:.2f}",
        "afternoon share": f"{sum(o.part_of_day == 'afternoon' for o in all_offers) / count:.1%}",
        "offers breaking protection": str(breaches),
    }


def mean_score(results: list[OffersResult]) -> float:
    return statistics.mean(o.score for r in results for o in r.offers)


def timed(
    function, instance: Instance, task_ids: list[str]
) -> tuple[list[OffersResult], list[float]]:
    results, millis = [], []
    for task_id in task_ids:
        started = time.perf_counter()
        results.append(function(instance, task_id))
        millis.append((time.perf_counter() - started) * 1000)
    return results, millis


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def needed_capacity_taken(instance: Instance, results: list[OffersResult]) -> tuple[int, int]:
    """Offers that take capacity the more urgent tasks need, and offers the judge could not
    decide. The judge: the exact protected set, an offer is fine when the greedy test accepts
    it or the exact check (larger budget) finds the protected tasks an arrangement."""
    judge_budget = ExactBudget(
        max_free=40, max_candidates=20_000, max_rounds=6, grow_by=10, per_request=200_000
    )
    taken_needed = undecided = 0
    for result in results:
        if not result.offers:
            continue
        context = PlanningContext(instance)
        item = task_item(context, instance.task(result.task_id), None)
        others = [task_item(context, t, None) for t in instance.tasks if t.id != item.id]
        judge = Protection(
            context,
            [o for o in others if is_more_urgent(o, item)],
            exact=True,
            patient_id=item.patient_id,
            budget=judge_budget,
        )
        for offer in result.offers:
            span = item.type.resource_span(offer.start)
            patient_span = item.type.patient_span(offer.start)
            allocation = _allocation_of(context, offer.resource_ids)
            verdict = judge.verdict(span, patient_span, allocation)
            taken_needed += verdict is Verdict.INFEASIBLE
            undecided += verdict is Verdict.UNDECIDED
    return taken_needed, undecided


def scale(pending_counts: list[int], repetitions: int | None) -> None:
    print(
        "pending  mode     requests  p50 ms  p95 ms  max ms  withheld  undecided  "
        "takes needed  unjudged  offer_at after p50/p95 ms"
    )
    for pending in pending_counts:
        instance = build_instance(pending=pending)
        count = repetitions or max(20, 100 * PENDING // pending)
        task_ids = [t.id for t in instance.tasks][:count]
        for mode, exact in (("greedy", False), ("exact", True)):
            results, millis, confirm = [], [], []
            for task_id in task_ids:
                started = time.perf_counter()
                result = offers(instance, task_id, exact=exact)
                millis.append((time.perf_counter() - started) * 1000)
                results.append(result)
                # Then confirming the first time offered, as choosing does (the plan is kept).
                if result.offers:
                    started = time.perf_counter()
                    offer_at(instance, task_id, result.offers[0].start, exact=exact)
                    confirm.append((time.perf_counter() - started) * 1000)
            taken, unjudged = needed_capacity_taken(instance, results)
            print(
                f"{pending:7}  {mode:7}  {count:8}  {percentile(millis, 0.5):6.0f}  "
                f"{percentile(millis, 0.95):6.0f}  {max(millis):6.0f}  "
                f"{statistics.mean(r.withheld for r in results):8.2f}  "
                f"{statistics.mean(r.undecided for r in results):9.2f}  "
                f"{taken:12}  {unjudged:8}  "
                f"{percentile(confirm, 0.5):6.1f}/{percentile(confirm, 0.95):.1f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--pending", default="500,2000,5000")
    parser.add_argument("--repetitions", type=int, default=None)
    arguments = parser.parse_args()
    if arguments.scale:
        scale([int(n) for n in arguments.pending.split(",")], arguments.repetitions)
        return
    instance = build_instance()
    task_ids = [t.id for t in instance.tasks][:REPETITIONS]
    baseline, baseline_ms = timed(earliest_offers, instance, task_ids)
    ranked, ranked_ms = timed(offers, instance, task_ids)
    print(
        f"instance: {len(instance.tasks) - 1} other pending tasks, {len(instance.resources)} "
        f"resources, {len(working_days())} working days; {REPETITIONS} repetitions"
    )
    left = describe(baseline, instance)
    right = describe(ranked, instance)
    print(f"{'':28}{'earliest-K':>14}{'offers':>14}")
    for name in left:
        print(f"{name:28}{left[name]:>14}{right[name]:>14}")
    ratio = mean_score(baseline) / mean_score(ranked)
    print(f"{'score ratio to offers':28}{ratio:>14.4f}{1:>14.4f}")
    for label, values in (("p50 ms", 0.5), ("p95 ms", 0.95), ("max ms", 1.0)):
        print(
            f"{label:28}{percentile(baseline_ms, values):>14.1f}"
            f"{percentile(ranked_ms, values):>14.1f}"
        )
    withheld = statistics.mean(r.withheld for r in ranked)
    print(f"times withheld for more urgent tasks per request: {withheld:.2f}")
    unprotected = statistics.mean(len(r.unprotected_task_ids) for r in ranked)
    print(
        f"urgent tasks the reference plan could not place before their deadline: {unprotected:.1f}"
    )


if __name__ == "__main__":
    main()
