"""Writes of the clinic's configuration: clinics, resources, working hours, absences and
appointment types with their resource requirements and preparations.

Each write checks the model's own rules (field validators, choices, lengths and constraints,
with `full_clean`) and the configuration's rules below, so that the API and the Django admin
refuse the same things with the same messages. Nothing here decides who may: the caller has
the object from a selector that did (booking.selectors.staff_*).

An absence's re-plan is queued by planning.background, which writes absences through here.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from booking.models import (
    Absence,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    Resource,
    ResourceRequirement,
    WorkingHours,
)
from cores.slots import MAX_OVERLAPPING_REQUIREMENTS

M = TypeVar("M", bound=models.Model)
MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def _saved(instance: M, changes: Mapping[str, Any] | None = None) -> M:
    """The instance with the changes, checked in full and saved."""
    for name, value in (changes or {}).items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


def clinic_update(*, clinic: Clinic, **changes: Any) -> Clinic:
    """Change the clinic's name, address or time zone."""
    return _saved(clinic, changes)


# --- Resources and their hours ---------------------------------------------------------------


def check_tags(tags: Any) -> list[str]:
    """A resource's skills or features: a list of at most MAX_TAGS short texts, sorted, once
    each."""
    valid = (
        isinstance(tags, list)
        and len(tags) <= MAX_TAGS
        and all(isinstance(t, str) and 0 < len(t) <= MAX_TAG_LENGTH for t in tags)
    )
    if not valid:
        raise ValidationError(
            _('Tags must be a list of at most 20 short texts, e.g. ["endoscopist"].'),
            code="invalid_tags",
        )
    return sorted(set(tags))


def resource_create(
    *, clinic: Clinic, kind: str, name: str, tags: Iterable[str] = (), is_active: bool = True
) -> Resource:
    resource = Resource(clinic=clinic, kind=kind, name=name, is_active=is_active)
    return _saved(resource, {"tags": check_tags(list(tags))})


def resource_update(*, resource: Resource, **changes: Any) -> Resource:
    if "tags" in changes:
        changes["tags"] = check_tags(changes["tags"])
    return _saved(resource, changes)


def working_hours_create(
    *,
    resource: Resource,
    weekday: int,
    start_time: time,
    end_time: time,
    valid_from: date,
    valid_until: date | None = None,
    interval_weeks: int = 1,
) -> WorkingHours:
    return _saved(
        WorkingHours(
            resource=resource,
            weekday=weekday,
            start_time=start_time,
            end_time=end_time,
            valid_from=valid_from,
            valid_until=valid_until,
            interval_weeks=interval_weeks,
        )
    )


def working_hours_update(*, working_hours: WorkingHours, **changes: Any) -> WorkingHours:
    return _saved(working_hours, changes)


def working_hours_delete(*, working_hours: WorkingHours) -> None:
    working_hours.delete()


def absence_create(
    *, resource: Resource, starts_at: datetime, ends_at: datetime, reason: str, note: str = ""
) -> Absence:
    """Record that a resource is away. Its re-plan is planning.background's to queue."""
    absence = Absence(
        resource=resource, starts_at=starts_at, ends_at=ends_at, reason=reason, note=note
    )
    return _saved(absence)


def absence_update(*, absence: Absence, **changes: Any) -> Absence:
    return _saved(absence, changes)


def absence_delete(*, absence: Absence) -> None:
    absence.delete()


# --- Appointment types -----------------------------------------------------------------------


def check_requirements(requirements: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """A type needs at least one resource, and at most MAX_OVERLAPPING_REQUIREMENTS in all
    (the slot search's limit)."""
    if not requirements:
        raise ValidationError(
            _("An appointment type needs at least one resource."), code="no_requirements"
        )
    if sum(r.get("count", 1) for r in requirements) > MAX_OVERLAPPING_REQUIREMENTS:
        raise ValidationError(
            _("An appointment type may need at most %(n)d resources.")
            % {"n": MAX_OVERLAPPING_REQUIREMENTS},
            code="too_many_requirements",
        )
    return requirements


@transaction.atomic
def appointment_type_create(
    *,
    clinic: Clinic,
    requirements: Sequence[Mapping[str, Any]],
    preparations: Sequence[Mapping[str, Any]] | None = None,
    **fields: Any,
) -> AppointmentType:
    """A new type with its resource requirements (kind, tag, count) and preparations (title,
    instructions, timing, days_before)."""
    appointment_type = _saved(AppointmentType(clinic=clinic, **fields))
    _replace_parts(appointment_type, check_requirements(requirements), preparations or [])
    return appointment_type


@transaction.atomic
def appointment_type_update(
    *,
    appointment_type: AppointmentType,
    requirements: Sequence[Mapping[str, Any]] | None = None,
    preparations: Sequence[Mapping[str, Any]] | None = None,
    **changes: Any,
) -> AppointmentType:
    """Change the type; requirements or preparations given replace the old ones whole."""
    _saved(appointment_type, changes)
    if requirements is not None:
        check_requirements(requirements)
    _replace_parts(appointment_type, requirements, preparations)
    return appointment_type


def _replace_parts(
    appointment_type: AppointmentType,
    requirements: Sequence[Mapping[str, Any]] | None,
    preparations: Sequence[Mapping[str, Any]] | None,
) -> None:
    prefetched = getattr(appointment_type, "_prefetched_objects_cache", {})
    if requirements is not None:
        appointment_type.requirements.all().delete()
        _create_all(ResourceRequirement, appointment_type, requirements)
        prefetched.pop("requirements", None)
    if preparations is not None:
        appointment_type.preparations.all().delete()
        _create_all(PreparationTemplate, appointment_type, preparations)
        prefetched.pop("preparations", None)


def _create_all(
    model: type[M], appointment_type: AppointmentType, rows: Sequence[Mapping[str, Any]]
) -> None:
    parts = [model(appointment_type=appointment_type, **row) for row in rows]
    for part in parts:
        part.full_clean(exclude=["appointment_type"])
    model._default_manager.bulk_create(parts)
