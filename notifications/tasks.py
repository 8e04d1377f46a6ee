"""Background jobs of the outbox: the beat's tick every minute sends what is due."""

from celery import shared_task

from notifications import services


@shared_task
def dispatch_due_notifications() -> int:
    """Send every notice due now. Safe to run twice at once: each row is claimed by one."""
    return services.dispatch_due()
