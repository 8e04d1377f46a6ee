import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from access.roles import StaffRole
from booking.constraints import (
    PostgresOnlyCheckConstraint,
    PostgresOnlyExclusionConstraint,
    TsTzRange,
)
from patients.models import Patient
from patients.validators import validate_e164_phone

# Days a configuration may name. Outside these years local-time arithmetic overflows Python's
# datetime (year 1 in Europe/Oslo is UTC+00:43; 9999-12-31 has no next day), and no outpatient
# appointment lies there.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)


def days_out_of_range(**days: date | None) -> dict[str, ValidationError]:
    """A field error for each of the days given that lies outside FIRST_DAY-LAST_DAY."""
    return {
        name: ValidationError(
            _("Choose a date between 2000-01-01 and 2199-12-31."), code="out_of_range"
        )
        for name, day in days.items()
        if day is not None and not FIRST_DAY <= day <= LAST_DAY
    }


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone."), code="invalid_time_zone")


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(
        _("phone"),
        max_length=16,
        blank=True,
        validators=[validate_e164_phone],
        help_text=_("Where patients phone the clinic, e.g. +4755000000."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Oslo", validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class StaffMembership(models.Model):
    """Staff act only in the clinics they are members of, as their role there allows
    (access.roles)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=StaffRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="one_membership_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"


class ResourceKind(models.TextChoices):
    CLINICIAN = "clinician", _("Clinician")
    ROOM = "room", _("Room")
    EQUIPMENT = "equipment", _("Equipment")


class Resource(models.Model):
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="resources", verbose_name=_("clinic")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    tags = models.JSONField(
        _("tags"),
        default=list,
        blank=True,
        help_text=_('Skills or features, e.g. ["endoscopist"].'),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["clinic", "kind", "name"]
        indexes = [models.Index(fields=["clinic", "kind"])]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """A recurring weekly rule: the resource works `weekday` from start to end, local time."""

    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        related_name="working_hours",
        verbose_name=_("resource"),
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MaxValueValidator(6)], help_text="0 = Monday, 6 = Sunday"
    )
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    interval_weeks = models.PositiveSmallIntegerField(
        _("every how many weeks"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["resource", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="working_hours_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="working_hours_valid_until_after_from",
            ),
            models.CheckConstraint(
                condition=Q(interval_weeks__gte=1), name="working_hours_interval_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource}: {self.weekday} {self.start_time}-{self.end_time}"

    def clean(self) -> None:
        errors = days_out_of_range(valid_from=self.valid_from, valid_until=self.valid_until)
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = ValidationError(
                _("The end time must be after the start time."), code="end_before_start"
            )
        if not errors and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = ValidationError(
                _("The last valid day must not be before the first."), code="end_before_start"
            )
        if errors:
            raise ValidationError(errors)


class AbsenceReason(models.TextChoices):
    SICK = "sick", _("Sick leave")
    VACATION = "vacation", _("Vacation")
    COURSE = "course", _("Course or conference")
    MAINTENANCE = "maintenance", _("Maintenance")
    OTHER = "other", _("Other")


# An absence longer than this is a mistake (a year typed wrong): a long leave is registered
# again before it ends.
MAX_ABSENCE = timedelta(days=731)


class Absence(models.Model):
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="absences", verbose_name=_("resource")
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=20, choices=AbsenceReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["resource", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="absence_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} away {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    def clean(self) -> None:
        days = {name: getattr(self, name) for name in ("starts_at", "ends_at")}
        errors = days_out_of_range(**{n: d.date() for n, d in days.items() if d is not None})
        if errors:
            raise ValidationError(errors)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The absence must end after it starts.")})
        if self.starts_at and self.ends_at and self.ends_at - self.starts_at > MAX_ABSENCE:
            raise ValidationError(
                {
                    "ends_at": _(
                        "An absence may last at most two years. Register a longer one in parts."
                    )
                }
            )


class ContactMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video")
    PHONE = "phone", _("Phone")


# Notice and change cutoffs are given in hours; a year is the most any rule needs.
MAX_RULE_HOURS = 24 * 365
# Reminders go this many hours before the appointment, unless the type says otherwise.
DEFAULT_REMINDER_HOURS = (168, 24)
MAX_REMINDERS = 5
MAX_REMINDER_HOURS = 24 * 60


def default_reminder_hours() -> list[int]:
    return list(DEFAULT_REMINDER_HOURS)


def validate_reminder_hours(value: object) -> None:
    """A list of at most MAX_REMINDERS different whole hours, each from 1 to 60 days."""
    if not isinstance(value, list) or len(value) > MAX_REMINDERS:
        raise ValidationError(
            _("Give at most %(count)s reminders, as a list of hours before the appointment."),
            code="invalid_reminder_hours",
            params={"count": MAX_REMINDERS},
        )
    for hours in value:
        if isinstance(hours, bool) or not isinstance(hours, int):
            raise ValidationError(
                _("Each reminder is a whole number of hours."), code="invalid_reminder_hours"
            )
        if not 1 <= hours <= MAX_REMINDER_HOURS:
            raise ValidationError(
                _("A reminder goes from 1 hour to 60 days before the appointment."),
                code="invalid_reminder_hours",
            )
    if len(set(value)) != len(value):
        raise ValidationError(
            _("Each reminder time may be given once."), code="invalid_reminder_hours"
        )


class AppointmentType(models.Model):
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        related_name="appointment_types",
        verbose_name=_("clinic"),
    )
    name = models.CharField(_("name"), max_length=200)
    patient_facing_name = models.CharField(
        _("name shown to patients"),
        max_length=200,
        blank=True,
        help_text=_("A neutral name shown to patients, for sensitive types."),
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    contact_mode = models.CharField(
        _("contact mode"),
        max_length=20,
        choices=ContactMode.choices,
        default=ContactMode.IN_PERSON,
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    grid_minutes = models.PositiveSmallIntegerField(
        _("start times every (minutes)"),
        default=5,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("buffer before (minutes)"), default=0, validators=[MaxValueValidator(240)]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        _("buffer after (minutes)"), default=0, validators=[MaxValueValidator(240)]
    )
    self_bookable = models.BooleanField(
        _("patients book themselves"),
        default=False,
        help_text=_("Patients may choose and change this type themselves."),
    )
    requires_confirmation = models.BooleanField(
        _("needs confirmation"),
        default=False,
        help_text=_("A secretary confirms the patient's choice (status pending)."),
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"), default=24, validators=[MaxValueValidator(MAX_RULE_HOURS)]
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("bookable how far ahead (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
    )
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("last change before the time (hours)"),
        default=48,
        validators=[MaxValueValidator(MAX_RULE_HOURS)],
    )
    max_patient_changes = models.PositiveSmallIntegerField(
        _("changes a patient may make"), default=2, validators=[MaxValueValidator(100)]
    )
    offers_count = models.PositiveSmallIntegerField(
        _("times offered at once"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    reminder_hours = models.JSONField(
        _("reminders (hours before)"),
        default=default_reminder_hours,
        blank=True,
        validators=[validate_reminder_hours],
        help_text=_("Reminders go this many hours before the appointment, e.g. [168, 24]."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Renewed by PostgreSQL triggers (migration 0008) on every change to the type, its
    # requirements, its preparation templates or its clinic. A booking made with a type kept
    # from an earlier request checks it (booking.rows.with_appointment_type).
    catalogue_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")
        ordering = ["clinic", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0), name="appointment_type_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(grid_minutes__gt=0), name="appointment_type_grid_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name patients see: the neutral one when the clinic has set it."""
        return self.patient_facing_name or self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)


class ResourceRequirement(models.Model):
    """The type needs `count` resources of `kind`, with `tag` when given."""

    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.CASCADE,
        related_name="requirements",
        verbose_name=_("appointment type"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices)
    tag = models.CharField(
        _("tag"), max_length=50, blank=True, help_text=_("Only resources with this tag.")
    )
    count = models.PositiveSmallIntegerField(
        _("how many"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        verbose_name = _("resource requirement")
        verbose_name_plural = _("resource requirements")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1), name="requirement_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.kind}{f' [{self.tag}]' if self.tag else ''}"


class PreparationTiming(models.TextChoices):
    START = "start", _("Start")
    DEADLINE = "deadline", _("Deadline")


class PreparationTemplate(models.Model):
    """A task for the patient, e.g. "Empty the bowels", start 7 days before."""

    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.CASCADE,
        related_name="preparations",
        verbose_name=_("appointment type"),
    )
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    timing = models.CharField(_("timing"), max_length=10, choices=PreparationTiming.choices)
    days_before = models.PositiveSmallIntegerField(
        _("days before"), validators=[MaxValueValidator(365)]
    )

    class Meta:
        verbose_name = _("preparation")
        verbose_name_plural = _("preparations")
        ordering = ["-days_before", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.timing} {self.days_before} days before)"


class AppointmentStatus(models.TextChoices):
    """FHIR R4 appointment status codes."""

    PROPOSED = "proposed", _("Proposed")
    PENDING = "pending", _("Pending")
    BOOKED = "booked", _("Booked")
    ARRIVED = "arrived", _("Arrived")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")
    NOSHOW = "noshow", _("No-show")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")
    CHECKED_IN = "checked-in", _("Checked in")
    WAITLIST = "waitlist", _("Waitlist")


# Appointments in these statuses hold their time: their resources and their patient are taken.
HOLDING_STATUSES = (
    AppointmentStatus.PENDING,
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.FULFILLED,
    AppointmentStatus.NOSHOW,
)
# The patient may change or cancel these themselves (within the type's rules).
CHANGEABLE_STATUSES = (AppointmentStatus.PENDING, AppointmentStatus.BOOKED)
# No allocation is longer (the longest type with both buffers is 18 hours), so a read of the
# allocations overlapping a span can bound starts_at from below and use the btree index.
ALLOCATION_MAX_LENGTH = timedelta(days=1)


class Appointment(models.Model):
    # No single-column index on patient or clinic: the (patient, starts_at) and (clinic,
    # starts_at) indexes serve those lookups, and every booking would pay for both.
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    patient_change_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["clinic", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values),
                name="appointment_status_is_fhir_code",
            ),
            PostgresOnlyExclusionConstraint(
                name="patient_not_in_two_appointments_at_once",
                expressions=[
                    ("patient", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=HOLDING_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M}"


class Allocation(models.Model):
    """One resource held by one appointment, over the appointment's time plus its buffers.

    Rows exist only while the appointment holds its time; releasing the time deletes them, and the
    appointment history keeps what was held.
    """

    # Indexed by the (appointment, resource) unique constraint and the (resource, starts_at)
    # index; single-column indexes would only cost every booking two more index writes per row.
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="allocations", db_index=False
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="allocations", db_index=False
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["resource", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="allocation_end_after_start"
            ),
            PostgresOnlyCheckConstraint(
                condition=Q(ends_at__lte=F("starts_at") + ALLOCATION_MAX_LENGTH),
                name="allocation_at_most_max_length",
            ),
            models.UniqueConstraint(
                fields=["appointment", "resource"], name="resource_once_per_appointment"
            ),
            PostgresOnlyExclusionConstraint(
                name="resource_not_double_booked",
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class PreparationTask(models.Model):
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="preparation_tasks"
    )
    template = models.ForeignKey(PreparationTemplate, null=True, on_delete=models.SET_NULL)
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    timing = models.CharField(max_length=10, choices=PreparationTiming.choices)
    due_date = models.DateField(help_text=_("The start date or the deadline, per timing."))
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.timing} {self.due_date})"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CANCELLED = "cancelled", _("Cancelled")
    CONFIRMED = "confirmed", _("Confirmed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    NOSHOW = "noshow", _("No-show")


class EventCause(models.TextChoices):
    PATIENT_CHANGE = "patient_change", _("Patient's own change")
    CLINIC_BOOKING = "clinic_booking", _("Booked by the clinic")
    CLINIC_REPLANNING = "clinic_replanning", _("Clinic re-planning")
    CLINIC_CANCELLATION = "clinic_cancellation", _("Cancelled by the clinic")
    BATCH_PLANNING = "batch_planning", _("Set by the clinic's batch plan")
    WAITLIST_FILL = "waitlist_fill", _("An earlier time from the waitlist")
    ATTENDANCE = "attendance", _("Attendance")


class ActorKind(models.TextChoices):
    PATIENT = "patient", _("The patient")
    PROXY = "proxy", _("A proxy holder")
    STAFF = "staff", _("Clinic staff")
    SYSTEM = "system", _("The system")


class AppointmentEventQuerySet(models.QuerySet["AppointmentEvent"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The appointment history is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The appointment history is append-only.")


class AppointmentEvent(models.Model):
    """Append-only history of an appointment; the re-planning statistics count these rows."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="events")
    # Both lead a composite index with occurred_at (Meta.indexes), which serves their lookups.
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", db_index=False)
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    cause = models.CharField(max_length=30, choices=EventCause.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    on_behalf_of = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    old_starts_at = models.DateTimeField(null=True, blank=True)
    old_ends_at = models.DateTimeField(null=True, blank=True)
    new_starts_at = models.DateTimeField(null=True, blank=True)
    new_ends_at = models.DateTimeField(null=True, blank=True)
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20, blank=True)
    old_resource_ids = models.JSONField(default=list, blank=True)
    new_resource_ids = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    objects = AppointmentEventQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "occurred_at"]),
            models.Index(fields=["appointment_type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.cause}) of appointment {self.appointment_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("The appointment history is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The appointment history is append-only.")


class IdempotencyRecordQuerySet(models.QuerySet["IdempotencyRecord"]):
    def expired(self, now: datetime) -> "IdempotencyRecordQuerySet":
        return self.filter(created_at__lt=now - IdempotencyRecord.KEPT_FOR)


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an Idempotency-Key, replayed for repeats within
    KEPT_FOR. Retries come within minutes, and the answer holds a patient's data, so it is not
    kept longer than retrying needs."""

    KEPT_FOR = timedelta(hours=24)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IdempotencyRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"

    def has_expired(self, now: datetime) -> bool:
        return self.created_at < now - self.KEPT_FOR


class WaitlistEntry(models.Model):
    """The patient would take an earlier time for this appointment if one frees up."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="waitlist_entry"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "waitlist entries"

    def __str__(self) -> str:
        return f"waitlist: {self.appointment}"


class WaitlistOfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    TAKEN = "taken", _("Taken by someone else first")
    EXPIRED = "expired", _("Expired")


class WaitlistOffer(models.Model):
    """An earlier time offered to a patient on the waitlist, open until it expires."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    starts_at = models.DateTimeField()
    offered_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=WaitlistOfferStatus.choices, default=WaitlistOfferStatus.OFFERED
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("offered_at")),
                name="waitlist_offer_expires_after_it_is_made",
            ),
            models.CheckConstraint(
                condition=Q(status__in=WaitlistOfferStatus.values),
                name="waitlist_offer_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} for {self.entry} ({self.status})"
