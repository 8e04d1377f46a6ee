"""Background jobs of the booking core: thin wrappers around the models and services."""

from celery import shared_task
from django.utils import timezone

from booking.models import IdempotencyRecord


@shared_task
def forget_expired_idempotency_keys() -> int:
    """Delete the stored answers of expired Idempotency-Keys (they hold patients' data).
    Returns how many were deleted."""
    deleted, _ = IdempotencyRecord.objects.expired(timezone.now()).delete()
    return deleted
