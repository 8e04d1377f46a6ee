from collections.abc import Iterable

from django.contrib.auth.models import User

from audit.models import PatientAccessLog
from patients.models import Patient


def record_staff_read(*, staff_user: User, patients: Iterable[Patient], action: str) -> None:
    """Record that a staff member read these patients' data: one row per patient, however often
    the patient appears."""
    PatientAccessLog.objects.bulk_create(
        PatientAccessLog(staff_user=staff_user, patient=patient, action=action[:200])
        for patient in {p.pk: p for p in patients}.values()
    )
