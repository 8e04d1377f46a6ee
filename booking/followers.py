"""What else an appointment's change writes, in the change's own transaction.

Apps above booking (the notifications outbox) derive rows from each change: booking writes
them without knowing them. Such an app registers a follower when Django starts (its
AppConfig.ready); the booking services call every follower with the change and its history
row, and write the rows it returns together with the change's own. On PostgreSQL's booking
fast path they are one more child of the one statement, so a follower must then read nothing
from the database: `appointment` comes with its type, clinic and patient in hand.
"""

from collections.abc import Callable, Sequence

from django.db import models

from booking.models import Appointment, AppointmentEvent

# Called with the appointment as it is now and the event just recorded (not yet written for a
# new appointment). Returns new rows pointing to the appointment, not yet written. For a change
# of an existing appointment it may also write itself (it runs inside the change's
# transaction): drop what the change makes stale.
Follower = Callable[[Appointment, AppointmentEvent], Sequence[models.Model]]

_followers: list[Follower] = []


def follow(follower: Follower) -> None:
    if follower not in _followers:
        _followers.append(follower)


def rows_following(appointment: Appointment, event: AppointmentEvent) -> list[models.Model]:
    return [row for follower in _followers for row in follower(appointment, event)]


def rows_by_model(rows: Sequence[models.Model]) -> list[list[models.Model]]:
    """The rows grouped by model, in the order the models first appear: one insert each."""
    groups: dict[type[models.Model], list[models.Model]] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    return list(groups.values())
