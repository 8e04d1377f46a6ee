"""A new or changed absence may hit booked appointments: prepare a re-plan in the background."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from booking.models import Absence


def _absence_saved(sender: type[Absence], instance: Absence, **kwargs: Any) -> None:
    from planning.tasks import propose_replan_for_absence

    absence_id = instance.pk
    transaction.on_commit(lambda: propose_replan_for_absence.delay(absence_id))


def connect() -> None:
    post_save.connect(_absence_saved, sender=Absence, dispatch_uid="planning-absence-replan")
