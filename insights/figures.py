"""The leaders' re-planning statistics, defined once: the dashboard, its CSV export and the API
all show what `dashboard()` returns, so they agree to the last digit.

**Which appointments a period holds (the cohort).** An appointment belongs to the period when its
current start (for a cancelled one: the time it had when it was cancelled) falls between local
midnight in Europe/Oslo at the start of the period's first day and local midnight after its last
day, whatever the clocks did in between (a day has 23 or 25 hours on the daylight-saving
Sundays). Buckets (day, ISO week from Monday, month) are taken the same way. Appointments entered
in error, proposals and waitlist placeholders are not appointments here. The filters narrow the
cohort: the leader's clinics (only those where their role may view statistics), one clinic, one
appointment type, one clinician (the appointment holds the clinician, or held them when it was
cancelled).

**What a re-planning is.** One history event that moved or cancelled an appointment of the
cohort, whenever it happened, classed by `replanning_cause()`. Taking an earlier time from the
waitlist is not a re-planning: it is counted under the waitlist figures.

Shares are a count over a base, both given; a share over an empty base is None ("no
appointments"), never a division by zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from access.errors import NotAllowed, NotFound
from access.roles import Capability
from access.users import AnyUser
from booking.models import (
    ActorKind,
    Allocation,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    AppointmentType,
    EventCause,
    EventKind,
    PreparationTask,
    PreparationTiming,
    Resource,
    ResourceKind,
)
from booking.selectors import local_day_bounds, staff_clinics
from planning.models import BookingTask, BookingTaskStatus

OSLO = ZoneInfo("Europe/Oslo")
# The longest period one request may ask for: a year and a bit, so a whole year fits.
MAX_PERIOD_DAYS = 400
NOT_APPOINTMENTS = (
    AppointmentStatus.ENTERED_IN_ERROR,
    AppointmentStatus.PROPOSED,
    AppointmentStatus.WAITLIST,
)
ATTENDED = (AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN, AppointmentStatus.FULFILLED)


class Resolution(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


RESOLUTION_LABELS = {
    Resolution.DAY: _("Day"),
    Resolution.WEEK: _("Week"),
    Resolution.MONTH: _("Month"),
}


class Cause(StrEnum):
    """Why an appointment was re-planned."""

    PATIENT_CHANGE = "patient_change"
    CLINIC_REPLANNING = "clinic_replanning"
    CLINIC_PHONE_CHANGE = "clinic_phone_change"
    PATIENT_CANCELLATION_LATE = "patient_cancellation_late"
    PATIENT_CANCELLATION = "patient_cancellation"
    CLINIC_CANCELLATION = "clinic_cancellation"


CAUSE_LABELS: dict[Cause, Promise] = {
    Cause.PATIENT_CHANGE: _("The patient's own change"),
    Cause.CLINIC_REPLANNING: _("Clinic re-planning (absence)"),
    Cause.CLINIC_PHONE_CHANGE: _("Clinic change on the phone"),
    Cause.PATIENT_CANCELLATION_LATE: _("Cancelled by the patient, late"),
    Cause.PATIENT_CANCELLATION: _("Cancelled by the patient, in time"),
    Cause.CLINIC_CANCELLATION: _("Cancelled by the clinic"),
}
PATIENT_SIDE = (ActorKind.PATIENT, ActorKind.PROXY)


def replanning_cause(
    *,
    kind: str,
    cause: str,
    actor_kind: str,
    old_starts_at: datetime | None,
    occurred_at: datetime,
    change_cutoff_hours: int,
) -> Cause | None:
    """The cause of one history event, or None when the event is not a re-planning.

    - a move (rescheduled) caused by the patient and made by the patient or a proxy online:
      the patient's own change; the same made by staff: a clinic change on the phone (the
      patient phoned); any other move (an absence's re-plan, the clinic moving it): clinic
      re-planning. A move to an earlier time from the waitlist is not a re-planning.
    - a cancellation caused by the patient: late when it came less than the type's change
      cutoff (hours) before the time it cancelled, otherwise in time; any other cancellation
      (the clinic's, or a re-plan that found no new time): cancelled by the clinic (strykning).
    """
    if kind == EventKind.RESCHEDULED:
        if cause == EventCause.WAITLIST_FILL:
            return None
        if cause == EventCause.PATIENT_CHANGE:
            if actor_kind in PATIENT_SIDE:
                return Cause.PATIENT_CHANGE
            return Cause.CLINIC_PHONE_CHANGE
        return Cause.CLINIC_REPLANNING
    if kind == EventKind.CANCELLED:
        if cause == EventCause.PATIENT_CHANGE:
            late = old_starts_at is not None and old_starts_at - occurred_at < timedelta(
                hours=change_cutoff_hours
            )
            return Cause.PATIENT_CANCELLATION_LATE if late else Cause.PATIENT_CANCELLATION
        return Cause.CLINIC_CANCELLATION
    return None


# --- The period and its scope -----------------------------------------------------------------


def bucket_start(day: date, resolution: Resolution) -> date:
    if resolution == Resolution.WEEK:
        return day - timedelta(days=day.weekday())
    if resolution == Resolution.MONTH:
        return day.replace(day=1)
    return day


def buckets(first: date, last: date, resolution: Resolution) -> list[date]:
    """The buckets' first days, from the one holding `first` to the one holding `last`."""
    step = {
        Resolution.DAY: relativedelta(days=1),
        Resolution.WEEK: relativedelta(weeks=1),
        Resolution.MONTH: relativedelta(months=1),
    }[resolution]
    found, current = [], bucket_start(first, resolution)
    while current <= last:
        found.append(current)
        current = current + step
    return found


@dataclass(frozen=True)
class Scope:
    """What a leader asked for, narrowed to what they may see."""

    clinic_ids: tuple[int, ...]
    first: date
    last: date
    resolution: Resolution = Resolution.MONTH
    appointment_type_id: int | None = None
    clinician_id: int | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return local_day_bounds(self.first, self.last, OSLO)

    @property
    def buckets(self) -> list[date]:
        return buckets(self.first, self.last, self.resolution)


class PeriodInvalid(ValueError):
    """The period asked for cannot be shown (the message says why, in the user's language)."""

    def __init__(self, message: Promise) -> None:
        self.message = message
        super().__init__(str(message))


def scope_for(
    user: AnyUser,
    *,
    first: date,
    last: date,
    resolution: Resolution = Resolution.MONTH,
    clinic_id: int | None = None,
    appointment_type_id: int | None = None,
    clinician_id: int | None = None,
) -> Scope:
    """The scope of a leader's request. NotAllowed unless the user may view statistics in a
    clinic; NotFound for a clinic, type or clinician outside those clinics (as for one that
    does not exist); PeriodInvalid for a period that ends before it starts or is too long."""
    clinics = staff_clinics(user, capability=Capability.VIEW_STATISTICS)
    allowed = sorted(clinics.values_list("pk", flat=True))
    if not allowed:
        raise NotAllowed
    if last < first:
        raise PeriodInvalid(_("The period must end on or after the day it starts."))
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise PeriodInvalid(_("Choose a period of at most 400 days."))
    if clinic_id is not None:
        if clinic_id not in allowed:
            raise NotFound
        allowed = [clinic_id]
    if (
        appointment_type_id is not None
        and not AppointmentType.objects.filter(
            pk=appointment_type_id, clinic_id__in=allowed
        ).exists()
    ):
        raise NotFound
    if (
        clinician_id is not None
        and not Resource.objects.filter(
            pk=clinician_id, clinic_id__in=allowed, kind=ResourceKind.CLINICIAN
        ).exists()
    ):
        raise NotFound
    return Scope(
        clinic_ids=tuple(allowed),
        first=first,
        last=last,
        resolution=resolution,
        appointment_type_id=appointment_type_id,
        clinician_id=clinician_id,
    )


# --- The figures ------------------------------------------------------------------------------


class Unit(StrEnum):
    COUNT = "count"
    SHARE = "share"
    DAYS = "days"


@dataclass(frozen=True)
class Cell:
    """One figure in one bucket (or the whole period). A share carries its count and base;
    its value is None when the base is 0. Days are whole days, None when nothing was counted."""

    value: int | float | None
    count: int | None = None
    base: int | None = None


def count_cell(n: int) -> Cell:
    return Cell(value=n)


def share_cell(count: int, base: int) -> Cell:
    return Cell(value=count / base if base else None, count=count, base=base)


@dataclass(frozen=True)
class Figure:
    key: str
    label: Promise | str
    unit: Unit
    group: str
    total: Cell
    by_bucket: tuple[Cell, ...]


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    buckets: tuple[date, ...]
    figures: tuple[Figure, ...]
    appointments: int

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def group(self, group: str) -> list[Figure]:
        return [f for f in self.figures if f.group == group]


@dataclass
class _Tally:
    """Counts per bucket and in all, for figures built from rows."""

    buckets: Sequence[date]
    resolution: Resolution
    per: dict[str, Counter[date]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, key: str, day: date | datetime, n: int = 1) -> None:
        self.per[key][bucket_start(_as_date(day), self.resolution)] += n

    def counts(self, key: str) -> tuple[int, tuple[int, ...]]:
        by = self.per[key]
        return sum(by.values()), tuple(by[b] for b in self.buckets)

    def count_figure(
        self, key: str, label: Promise | str, group: str, *, of: str | None = None
    ) -> Figure:
        total, each = self.counts(of or key)
        cells = tuple(map(count_cell, each))
        return Figure(key, label, Unit.COUNT, group, count_cell(total), cells)

    def share_figure(
        self, key: str, label: Promise | str, group: str, *, of: str, base: str
    ) -> Figure:
        count_total, counts = self.counts(of)
        base_total, bases = self.counts(base)
        return Figure(
            key,
            label,
            Unit.SHARE,
            group,
            share_cell(count_total, base_total),
            tuple(share_cell(c, b) for c, b in zip(counts, bases, strict=True)),
        )


def _local_day(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        return moment.astimezone(OSLO).date()
    return moment


def of_cohort(scope: Scope, through: str = "") -> Q:
    """The condition on an appointment (reached `through` a relation, e.g. "appointment__")
    that it is one of the period's appointments: its id is IN the cohort, which PostgreSQL
    answers from the history's appointment index for a month and by a hash join for a year."""
    return Q(**{f"{through}pk__in": cohort(scope)}) if through else Q(pk__in=cohort(scope))


def _cohort_counts(scope: Scope) -> list[tuple[date, int]]:
    """The cohort's appointments per bucket."""
    rows = (
        cohort(scope)
        .annotate(bucket=_bucket("starts_at", scope.resolution))
        .values_list("bucket")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(_as_date(day), n) for day, n in rows]


def cohort(scope: Scope) -> QuerySet[Appointment]:
    """The period's appointments (see the module's docstring)."""
    start, end = scope.bounds
    appointments = Appointment.objects.filter(
        clinic_id__in=scope.clinic_ids, starts_at__gte=start, starts_at__lt=end
    ).exclude(status__in=NOT_APPOINTMENTS)
    if scope.appointment_type_id is not None:
        appointments = appointments.filter(appointment_type_id=scope.appointment_type_id)
    if scope.clinician_id is not None:
        appointments = appointments.filter(
            Exists(
                Allocation.objects.filter(
                    appointment_id=OuterRef("pk"), resource_id=scope.clinician_id
                )
            )
            | Q(pk__in=_cancelled_holding(appointments, scope.clinician_id))
        )
    return appointments


def _cancelled_holding(appointments: QuerySet[Appointment], clinician_id: int) -> list[int]:
    """Cancelled appointments of the cohort that held the clinician when they were cancelled
    (their allocations are gone; the cancellation's history row lists them)."""
    rows = AppointmentEvent.objects.filter(
        kind=EventKind.CANCELLED,
        appointment__in=appointments.filter(status=AppointmentStatus.CANCELLED),
    ).values_list("appointment_id", "old_resource_ids")
    return sorted({pk for pk, held in rows if clinician_id in (held or [])})


def _bucket(field_name: str, resolution: Resolution) -> Trunc:
    return Trunc(field_name, resolution.value, output_field=DateField(), tzinfo=OSLO)


def dashboard(scope: Scope, *, now: datetime | None = None) -> Dashboard:
    """Every figure of the scope, per bucket and for the whole period."""
    now = now or timezone.now()
    appointments = cohort(scope)
    bucket_days = scope.buckets
    volume = list(_appointment_figures(scope, appointments, bucket_days, now))
    per_bucket = [(day, int(cell.value or 0)) for day, cell in zip(
        bucket_days, volume[0].by_bucket, strict=True
    )]  # fmt: skip
    figures = [
        *volume,
        *_replanning_figures(scope, appointments, bucket_days, per_bucket),
        *_self_booking_figures(scope, appointments, bucket_days),
        *_offer_figures(scope, bucket_days),
        *_referral_figures(scope, appointments, bucket_days),
        *_preparation_figures(scope, appointments, bucket_days, now),
    ]
    total = figures[0].total.value
    return Dashboard(
        scope=scope,
        buckets=tuple(bucket_days),
        figures=tuple(figures),
        appointments=int(total or 0),
    )


def _appointment_figures(
    scope: Scope, appointments: QuerySet[Appointment], bucket_days: list[date], now: datetime
) -> Iterator[Figure]:
    """`appointments`: the cohort's appointments, cancelled ones included.
    `no_show_rate`: appointments with the status no-show, over those whose outcome is recorded
    (no-show, arrived, checked in or fulfilled)."""
    tally = _Tally(bucket_days, scope.resolution)
    noshow = Q(status=AppointmentStatus.NOSHOW)
    rows = (
        appointments.annotate(bucket=_bucket("starts_at", scope.resolution))
        .values("bucket")
        .order_by()
        .annotate(
            n=Count("id"),
            noshow=Count("id", filter=noshow),
            outcome=Count("id", filter=noshow | Q(status__in=ATTENDED)),
        )
    )
    for row in rows:
        day = row["bucket"]
        tally.add("appointments", day, row["n"])
        tally.add("noshow", day, row["noshow"])
        tally.add("outcome", day, row["outcome"])
    yield tally.count_figure("appointments", _("Appointments"), "volume")
    yield tally.share_figure(
        "no_show_rate", _("No-shows"), "attendance", of="noshow", base="outcome"
    )


WAITLIST_CLASS = "waitlist"


def replanning_class(appointment_types: Iterable[tuple[int, int]]) -> Case:
    """`replanning_cause()` as SQL over history rows, for the database to count: the cause's
    value, "waitlist" for a waitlist fill, NULL for what is no re-planning.
    `appointment_types`: (id, change cutoff hours) of every type the rows may have. A test
    holds the two definitions equal for every kind, cause, actor and timing."""
    late = Q(pk__in=[])
    for type_id, hours in appointment_types:
        late |= Q(
            appointment_type_id=type_id,
            old_starts_at__lt=F("occurred_at") + timedelta(hours=hours),
        )
    moved, cancelled = Q(kind=EventKind.RESCHEDULED), Q(kind=EventKind.CANCELLED)
    patients = Q(cause=EventCause.PATIENT_CHANGE)
    return Case(
        When(moved & Q(cause=EventCause.WAITLIST_FILL), then=Value(WAITLIST_CLASS)),
        When(moved & patients & Q(actor_kind__in=PATIENT_SIDE), then=Value(Cause.PATIENT_CHANGE)),
        When(moved & patients, then=Value(Cause.CLINIC_PHONE_CHANGE)),
        When(moved, then=Value(Cause.CLINIC_REPLANNING)),
        When(cancelled & patients & late, then=Value(Cause.PATIENT_CANCELLATION_LATE)),
        When(cancelled & patients, then=Value(Cause.PATIENT_CANCELLATION)),
        When(cancelled, then=Value(Cause.CLINIC_CANCELLATION)),
        default=Value(None),
        output_field=CharField(),
    )


def _replanning_figures(
    scope: Scope,
    appointments: QuerySet[Appointment],
    bucket_days: list[date],
    cohort_counts: Sequence[tuple[date, int]] | None = None,
) -> Iterator[Figure]:
    """`replannings`: re-planning events of the cohort's appointments, by cause and in all.
    `replanned_share` (and per cause): appointments with at least one such event, over the
    cohort. `waitlist_fills`: moves of the cohort's appointments to an earlier time taken from
    the waitlist; `waitlist_days_gained`: the local days between the old and the new time,
    summed over them. Classed and counted in the database (`replanning_class`)."""
    tally = _Tally(bucket_days, scope.resolution)
    for day, n in cohort_counts if cohort_counts is not None else _cohort_counts(scope):
        tally.add("appointments", day, n)
    types = AppointmentType.objects.filter(clinic_id__in=scope.clinic_ids)
    events = (
        AppointmentEvent.objects.filter(
            of_cohort(scope, "appointment__"),
            kind__in=(EventKind.RESCHEDULED, EventKind.CANCELLED),
        )
        .annotate(
            bucket=_bucket("appointment__starts_at", scope.resolution),
            klass=replanning_class(types.values_list("pk", "change_cutoff_hours")),
        )
        .values("bucket")
        .order_by()
    )
    replanned = ~Q(klass=WAITLIST_CLASS) & Q(klass__isnull=False)
    fill = Q(klass=WAITLIST_CLASS)
    days_gained = ExpressionWrapper(
        TruncDate("old_starts_at", tzinfo=OSLO) - TruncDate("new_starts_at", tzinfo=OSLO),
        output_field=DurationField(),
    )
    rows = events.annotate(
        any=Count("appointment_id", distinct=True, filter=replanned),
        fills=Count("id", filter=fill),
        gained=Sum(days_gained, filter=fill),
        **{f"n_{c}": Count("id", filter=Q(klass=c)) for c in Cause},
        **{f"a_{c}": Count("appointment_id", distinct=True, filter=Q(klass=c)) for c in Cause},
    )
    for row in rows:
        counts: dict[str, Any] = dict(row)
        day = counts["bucket"]
        tally.add("replanned_any", day, counts["any"])
        tally.add("waitlist_fills", day, counts["fills"])
        if counts["gained"] is not None:  # local days between the old and the new time
            tally.add("waitlist_days_gained", day, counts["gained"].days)
        for cause in Cause:
            tally.add("replannings", day, counts[f"n_{cause}"])
            tally.add(f"replannings_{cause}", day, counts[f"n_{cause}"])
            tally.add(f"replanned_{cause}", day, counts[f"a_{cause}"])
    yield tally.count_figure("replannings", _("Re-plannings"), "replanning")
    yield tally.share_figure(
        "replanned_share",
        _("Appointments re-planned"),
        "replanning_share",
        of="replanned_any",
        base="appointments",
    )
    for cause in Cause:
        yield tally.count_figure(f"replannings_{cause}", CAUSE_LABELS[cause], "replanning_cause")
    for cause in Cause:
        yield tally.share_figure(
            f"replanned_share_{cause}",
            CAUSE_LABELS[cause],
            "replanning_cause_share",
            of=f"replanned_{cause}",
            base="appointments",
        )
    yield tally.count_figure(
        "waitlist_fills", _("Freed times filled from the waitlist"), "waitlist"
    )
    yield tally.count_figure("waitlist_days_gained", _("Days gained by the waitlist"), "waitlist")


class Source(StrEnum):
    PATIENT = "patient"
    CLINIC = "clinic"
    BATCH = "batch"


SOURCE_LABELS = {
    Source.PATIENT: _("Chosen by the patient"),
    Source.CLINIC: _("Set by the clinic"),
    Source.BATCH: _("Set by the batch planner"),
}


def booking_source(*, cause: str, actor_kind: str) -> Source:
    """Who set the first time of an appointment (its creation in the history): the patient or
    a proxy online; the batch planner (a batch plan applied); otherwise the clinic (staff
    booking, on the phone or not)."""
    if actor_kind in PATIENT_SIDE:
        return Source.PATIENT
    if cause == EventCause.BATCH_PLANNING:
        return Source.BATCH
    return Source.CLINIC


def _self_booking_figures(
    scope: Scope, appointments: QuerySet[Appointment], bucket_days: list[date]
) -> Iterator[Figure]:
    """`booked_by_*`: the share of the cohort's appointments whose first time was set by the
    patient, the clinic or the batch planner (`booking_source`), over the cohort's appointments
    that have their creation in the history (all made through the services).
    `moved_past_planned`: appointments not cancelled whose time is now later than the first
    time they were given, over the cohort's appointments not cancelled."""
    tally = _Tally(bucket_days, scope.resolution)
    patient = Q(actor_kind__in=PATIENT_SIDE)
    batch = ~patient & Q(cause=EventCause.BATCH_PLANNING)
    kept = ~Q(appointment__status=AppointmentStatus.CANCELLED)
    rows = (
        AppointmentEvent.objects.filter(of_cohort(scope, "appointment__"), kind=EventKind.CREATED)
        .annotate(bucket=_bucket("appointment__starts_at", scope.resolution))
        .values("bucket")
        .order_by()
        .annotate(
            created=Count("id"),
            patient=Count("id", filter=patient),
            batch=Count("id", filter=batch),
            kept=Count("id", filter=kept),
            later=Count("id", filter=kept & Q(appointment__starts_at__gt=F("new_starts_at"))),
        )
    )
    for row in rows:
        day = row["bucket"]
        for key in ("created", "kept", "later"):
            tally.add(key, day, row[key])
        tally.add(f"source_{Source.PATIENT}", day, row["patient"])
        tally.add(f"source_{Source.BATCH}", day, row["batch"])
        tally.add(f"source_{Source.CLINIC}", day, row["created"] - row["patient"] - row["batch"])
    for source in Source:
        yield tally.share_figure(
            f"booked_by_{source}",
            SOURCE_LABELS[source],
            "self_booking",
            of=f"source_{source}",
            base="created",
        )
    yield tally.share_figure(
        "moved_past_planned",
        _("Moved past their originally planned time"),
        "timeliness",
        of="later",
        base="kept",
    )


class Acceptance(StrEnum):
    FIRST = "first"
    MORE = "more"
    NONE = "none"


ACCEPTANCE_LABELS = {
    Acceptance.FIRST: _("Chosen among the first times offered"),
    Acceptance.MORE: _("Chosen after asking for more times"),
    Acceptance.NONE: _("Not chosen by the patient"),
}


def _offer_figures(scope: Scope, bucket_days: list[date]) -> Iterator[Figure]:
    """Offer acceptance, over the booking tasks (invitations to choose a time) created in the
    period (local day of creation) in the scope's clinics and type, that are decided: chosen
    among the first times offered, chosen after asking for more times, or not chosen by the
    patient (the clinic or the batch planner assigned a time, or the task was cancelled).
    Open tasks are not counted, nor tasks answering a clinic's move unless the patient chose
    another time (keeping the clinic's new time leaves a chosen task without the record of
    where the time was found: it was not offered). Not narrowed by clinician: a task has no
    clinician until a time is chosen."""
    start, end = scope.bounds
    tasks = (
        BookingTask.objects.filter(
            clinic_id__in=scope.clinic_ids, created_at__gte=start, created_at__lt=end
        )
        .exclude(status__in=(BookingTaskStatus.OPEN, BookingTaskStatus.MOVED))
        .exclude(status=BookingTaskStatus.CHOSEN, chosen_after_more_times__isnull=True)
    )
    if scope.appointment_type_id is not None:
        tasks = tasks.filter(appointment_type_id=scope.appointment_type_id)
    rows = (
        tasks.annotate(bucket=_bucket("created_at", scope.resolution))
        .values("bucket", "status", "chosen_after_more_times")
        .annotate(n=Count("id"))
    )
    tally = _Tally(bucket_days, scope.resolution)
    for row in rows:
        day, n = row["bucket"], row["n"]
        tally.add("decided", day, n)
        if row["status"] != BookingTaskStatus.CHOSEN:
            tally.add(f"offer_{Acceptance.NONE}", day, n)
        elif row["chosen_after_more_times"]:
            tally.add(f"offer_{Acceptance.MORE}", day, n)
        else:
            tally.add(f"offer_{Acceptance.FIRST}", day, n)
    for acceptance in Acceptance:
        yield tally.share_figure(
            f"offers_{acceptance}",
            ACCEPTANCE_LABELS[acceptance],
            "offers",
            of=f"offer_{acceptance}",
            base="decided",
        )


def nearest_rank(histogram: Counter[int], fraction: float) -> int | None:
    """The value at rank ceil(fraction * n) of the sorted values (nearest-rank percentile):
    always one of the values counted; None for no values."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank, seen = max(1, ceil(fraction * n)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable")


def _referral_figures(
    scope: Scope, appointments: QuerySet[Appointment], bucket_days: list[date]
) -> Iterator[Figure]:
    """Over the cohort's appointments that are not cancelled and were booked for a referral
    (through its booking task): `referral_days_median` and `referral_days_p90`, the days from
    the referral's arrival to the appointment's local day (nearest-rank percentiles);
    `deadline_breaches`: the appointments on a local day after the referral's legal deadline
    (frist), and their share."""
    # The first booking task with a referral of each appointment (the lowest id), read as one
    # join with an anti-join for earlier ones: two subqueries per appointment cost seconds a year.
    earlier = BookingTask.objects.filter(
        appointment_id=OuterRef("appointment_id"), referral__isnull=False, pk__lt=OuterRef("pk")
    )
    day = TruncDate("appointment__starts_at", tzinfo=OSLO)
    rows = (
        BookingTask.objects.filter(
            of_cohort(scope, "appointment__"),
            ~Q(appointment__status=AppointmentStatus.CANCELLED),
            referral__isnull=False,
        )
        .exclude(Exists(earlier))
        .annotate(
            bucket=_bucket("appointment__starts_at", scope.resolution),
            waited=ExpressionWrapper(
                day - F("referral__received_on"), output_field=DurationField()
            ),
            breached=Case(When(referral__care_deadline__lt=day, then=1), default=0),
        )
        .values_list("bucket", "waited", "breached")
        .annotate(n=Count("id"))
        .order_by()
    )
    tally = _Tally(bucket_days, scope.resolution)
    histograms: dict[date, Counter[int]] = defaultdict(Counter)
    whole: Counter[int] = Counter()
    for bucket, waited, breached, n in rows:
        days = waited.days
        histograms[_as_date(bucket)][days] += n
        whole[days] += n
        tally.add("referred", bucket, n)
        if breached:
            tally.add("breached", bucket, n)

    def percentile_figure(key: str, label: Promise, fraction: float) -> Figure:
        return Figure(
            key,
            label,
            Unit.DAYS,
            "waiting",
            Cell(nearest_rank(whole, fraction)),
            tuple(Cell(nearest_rank(histograms[b], fraction)) for b in bucket_days),
        )

    yield percentile_figure(
        "referral_days_median", _("Days from referral to appointment, median"), 0.5
    )
    yield percentile_figure(
        "referral_days_p90", _("Days from referral to appointment, 90th percentile"), 0.9
    )
    yield tally.count_figure(
        "deadline_breaches", _("Deadline breaches"), "deadlines", of="breached"
    )
    yield tally.share_figure(
        "deadline_breach_share",
        _("Share of appointments after the deadline"),
        "deadlines",
        of="breached",
        base="referred",
    )


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _preparation_figures(
    scope: Scope, appointments: QuerySet[Appointment], bucket_days: list[date], now: datetime
) -> Iterator[Figure]:
    """`preparations_on_time`: preparation tasks of the cohort's appointments not cancelled,
    whose deadline has passed, that were ticked off by it, over those whose deadline has
    passed. A preparation's deadline is the end of its due day for one with a deadline, and
    the end of the appointment's local day for one that starts on its due day; ticked off by
    it means on that local day or before."""
    today = _local_day(now)
    appointment_day = TruncDate("appointment__starts_at", tzinfo=OSLO)
    by_deadline = Q(timing=PreparationTiming.DEADLINE, due_date__lt=today)
    by_appointment = Q(appointment_day__lt=today) & ~Q(timing=PreparationTiming.DEADLINE)
    rows = (
        PreparationTask.objects.filter(
            of_cohort(scope, "appointment__"),
            ~Q(appointment__status=AppointmentStatus.CANCELLED),
        )
        .annotate(
            bucket=_bucket("appointment__starts_at", scope.resolution),
            appointment_day=appointment_day,
            done_day=TruncDate("done_at", tzinfo=OSLO),
        )
        .values("bucket")
        .order_by()
        .annotate(
            due=Count("id", filter=by_deadline | by_appointment),
            on_time=Count(
                "id",
                filter=(by_deadline & Q(done_day__lte=F("due_date")))
                | (by_appointment & Q(done_day__lte=F("appointment_day"))),
            ),
        )
    )
    tally = _Tally(bucket_days, scope.resolution)
    for row in rows:
        tally.add("due", row["bucket"], row["due"])
        tally.add("on_time", row["bucket"], row["on_time"])
    yield tally.share_figure(
        "preparations_on_time",
        _("Preparations done by their deadline"),
        "preparations",
        of="on_time",
        base="due",
    )


__all__ = [
    "Cause",
    "Dashboard",
    "Figure",
    "PeriodInvalid",
    "Resolution",
    "Scope",
    "dashboard",
    "replanning_cause",
    "scope_for",
]
