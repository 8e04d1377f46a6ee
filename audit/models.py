"""The access log: every read of a patient's data by staff (who, whose, what, when)."""

from django.conf import settings
from django.db import models

from access.roles import StaffRole
from patients.models import Patient


class PatientAccessLog(models.Model):
    """One staff read of one patient's data. Written only by audit.services.record_staff_read,
    which the staff selectors call when they return a patient's data."""

    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="access_log")
    action = models.CharField(max_length=200)
    accessed_at = models.DateTimeField(auto_now_add=True)
    # Who read it and where, as they were then: the patient sees these even if the staff
    # member's name, role or clinic changes later.
    staff_name = models.CharField(max_length=300, blank=True)
    staff_role = models.CharField(max_length=20, blank=True, choices=StaffRole.choices)
    clinic_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-accessed_at"]
        indexes = [models.Index(fields=["patient", "accessed_at"])]

    def __str__(self) -> str:
        return f"{self.staff_user} read {self.patient}: {self.action}"
