from django.db.models import QuerySet

from access.users import AnyUser
from audit.models import PatientAccessLog
from patients.selectors import patient_for


def access_log_for(*, user: AnyUser, patient_id: int | None = None) -> QuerySet[PatientAccessLog]:
    """Who among the staff has read the patient's data, newest first: the user's own log, or
    that of someone they hold a valid proxy for (NotFound otherwise). Patients in Norway have a
    right to see it."""
    patient = patient_for(user=user, patient_id=patient_id)
    reads = PatientAccessLog.objects.filter(patient=patient).select_related("staff_user")
    return reads.order_by("-accessed_at", "-pk")
