from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.identity import birth_date as birth_date_of
from patients.validators import validate_e164_phone, validate_national_id_field

PARENTAL_PROXY_AGE_LIMIT = 16


class Language(models.TextChoices):
    BOKMAL = "nb", _("Norwegian Bokmål")
    NYNORSK = "nn", _("Norwegian Nynorsk")
    ENGLISH = "en", _("English")


class Patient(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
    )
    national_id = models.CharField(
        _("national identity number"),
        max_length=11,
        unique=True,
        validators=[validate_national_id_field],
    )
    birth_date = models.DateField(editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    phone = models.CharField(max_length=16, blank=True, validators=[validate_e164_phone])
    email = models.EmailField(blank=True)
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.BOKMAL
    )
    uses_digital_services = models.BooleanField(default=True)
    notify_by_sms = models.BooleanField(_("notices by SMS"), default=True)
    notify_by_email = models.BooleanField(_("notices by e-mail"), default=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            # The check digits are the service's to check (patients.services.patient_register);
            # the database holds every row to the shape.
            models.CheckConstraint(
                condition=Q(national_id__regex=r"^[0-9]{11}$"),
                name="patient_national_id_is_eleven_digits",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.birth_date = birth_date_of(self.national_id)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class ProxyKind(models.TextChoices):
    PARENT = "parent", _("Parent of a child under 16")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")


class ProxyQuerySet(models.QuerySet["Proxy"]):
    def valid_on(self, day: date) -> "ProxyQuerySet":
        """Proxies in force on `day`: inside their dates, not revoked, and a parent's only
        while the child is under 16."""
        child_born_after = day - relativedelta(years=PARENTAL_PROXY_AGE_LIMIT)
        return self.filter(
            Q(valid_from__lte=day),
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
            Q(revoked_at__isnull=True),
            Q(kind=ProxyKind.POWER_OF_ATTORNEY) | Q(subject__birth_date__gt=child_born_after),
        )

    def valid_now(self) -> "ProxyQuerySet":
        return self.valid_on(timezone.localdate())


class Proxy(models.Model):
    """The holder may act for the subject: see and change the subject's appointments."""

    holder = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="proxies_held")
    subject = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="proxies_given")
    kind = models.CharField(max_length=20, choices=ProxyKind.choices)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ProxyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "proxies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(holder=models.F("subject")), name="proxy_holder_is_not_subject"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="proxy_valid_until_after_valid_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} → {self.subject} ({self.kind})"


class AvailabilityWindow(models.Model):
    """A weekly time window when the patient can come (e.g. Tuesdays 08:00-12:00)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday, 6 = Sunday")
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="availability_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="availability_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.weekday} {self.start_time}-{self.end_time}"


class UnavailablePeriod(models.Model):
    """Dates when the patient cannot come (holiday, travel), both inclusive."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="unavailable")
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="unavailable_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.start_date}–{self.end_date}"


class ReferralPriority(models.IntegerChoices):
    URGENT = 1, _("Urgent")
    HIGH = 2, _("High")
    NORMAL = 3, _("Normal")


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ASSESSED = "assessed", _("Assessed")
    SCHEDULED = "scheduled", _("Scheduled")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")


class Referral(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    clinic = models.ForeignKey("booking.Clinic", on_delete=models.PROTECT, related_name="referrals")
    received_on = models.DateField()
    priority = models.PositiveSmallIntegerField(
        choices=ReferralPriority.choices, default=ReferralPriority.NORMAL
    )
    care_deadline = models.DateField(help_text=_("Legal deadline for care (frist)."))
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED
    )

    class Meta:
        ordering = ["care_deadline"]
        constraints = [
            models.CheckConstraint(
                condition=Q(care_deadline__gte=models.F("received_on")),
                name="referral_deadline_not_before_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.clinic} (frist {self.care_deadline})"
