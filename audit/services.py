from collections.abc import Iterable

from django.contrib.auth.models import User

from audit.models import PatientAccessLog
from patients.models import Patient


def record_staff_read(
    *,
    staff_user: User,
    patients: Iterable[Patient],
    action: str,
    staff_role: str = "",
    clinic_name: str = "",
) -> None:
    """Record that a staff member, in a role at a clinic, read these patients' data: one row
    per patient, however often the patient appears."""
    staff_name = (staff_user.get_full_name() or staff_user.get_username())[:300]
    PatientAccessLog.objects.bulk_create(
        PatientAccessLog(
            staff_user=staff_user,
            patient=patient,
            action=action[:200],
            staff_name=staff_name,
            staff_role=staff_role,
            clinic_name=clinic_name[:200],
        )
        for patient in {p.pk: p for p in patients}.values()
    )
