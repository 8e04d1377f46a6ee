"""The clinic's configuration in the admin: clinics, resources with their working hours and
absences, absences on their own, and appointment types with their resource requirements and
preparations.

Who sees and changes what is the booking selectors' (staff_clinics, staff_resources, ... with
a capability): every queryset and every choice of a clinic or a resource comes from them, so a
secretary of one clinic neither sees another's rows nor attaches anything to them. Secretaries
and leaders change their clinics' configuration; clinicians see it and change nothing, as in
the API. Every write goes through the services the API calls (booking.configuration, and
planning.background for absences, which also queues their re-plan), after the forms have
checked the same rules, so a refusal is a form error in the user's language.

This is a surface, like the API and the patient pages: it sits above planning (an absence's
re-plan), so it cannot live in booking/admin.py, and it owns no models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.roles import Capability
from booking import configuration, selectors
from booking.models import (
    Absence,
    AppointmentType,
    Clinic,
    PreparationTemplate,
    Resource,
    ResourceRequirement,
    WorkingHours,
)
from clinicadmin.forms import WEEKDAY_CHOICES, RequirementFormSet, ResourceForm, kept_rows
from planning import background

READ, CHANGE = Capability.READ, Capability.CHANGE
Rows = Callable[..., QuerySet[Any]]
if TYPE_CHECKING:
    from django.forms.models import BaseInlineFormSet

    Formset = BaseInlineFormSet[Any, Any, Any]


def may(request: HttpRequest, capability: Capability, clinic_id: int | None = None) -> bool:
    """The user has the capability in some clinic, or in this one."""
    clinics = selectors.staff_clinics(request.user, capability=capability)
    return (clinics if clinic_id is None else clinics.filter(pk=clinic_id)).exists()


def narrowed_choice(db_field: models.Field[Any, Any], request: HttpRequest) -> QuerySet[Any] | None:
    """The clinics and resources a form may attach a row to: those the user may change."""
    if db_field.name == "clinic":
        return selectors.staff_clinics(request.user, capability=CHANGE)
    if db_field.name == "resource":
        return selectors.staff_resources(request.user, capability=CHANGE)
    return None


def adopt(instance: models.Model, saved: models.Model) -> None:
    """Give the admin's unsaved instance what the service saved, so that the admin's history,
    messages, redirect and inlines refer to the row the service created."""
    for field in saved._meta.concrete_fields:
        setattr(instance, field.attname, getattr(saved, field.attname))
    instance._state.adding = False


def changes(form: Any, *, whole: bool) -> dict[str, Any]:
    """The form's model fields for a service: all of them for a new row, else those changed."""
    names = form._meta.fields or []
    wanted = names if whole else [n for n in form.changed_data if n in names]
    return {name: form.cleaned_data[name] for name in wanted}


def save_rows(
    formset: Formset,
    *,
    create: Callable[..., models.Model],
    update: Callable[..., models.Model],
    delete: Callable[[Any], None],
) -> None:
    """An inline's rows, each through its service; the outcome as formset.save() leaves it
    for the admin's history."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    deleted = formset.deleted_forms if formset.can_delete else []
    skip = {"id", "DELETE", formset.fk.name}
    for row in deleted:
        if row.instance.pk is not None:
            delete(row.instance)
            formset.deleted_objects.append(row.instance)
    for row in formset.forms:
        if row in deleted or not row.has_changed():
            continue
        names = [n for n in row.cleaned_data if n not in skip]
        if row.instance.pk is None:
            fields = {n: row.cleaned_data[n] for n in names}
            formset.new_objects.append(create(**fields))
        else:
            fields = {n: row.cleaned_data[n] for n in names if n in row.changed_data}
            formset.changed_objects.append((update(row.instance, **fields), row.changed_data))


class MinuteSplitDateTime(widgets.AdminSplitDateTime):
    """A date and a time of day in hours and minutes, as the clinic's clock shows it."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.widgets[1].format = "%H:%M"


# Times of day in hours and minutes (08:00, not 08:00:00), as the API takes them.
IN_MINUTES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.TimeField: {"widget": widgets.AdminTimeWidget(format="%H:%M")},
    models.DateTimeField: {"form_class": forms.SplitDateTimeField, "widget": MinuteSplitDateTime},
}
MEDIA_CSS = {"all": ["clinicadmin/admin.css"]}


class ClinicScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A model's rows in the user's clinics, from the selector `rows(user, capability=...)`;
    changed only where the user's role may (secretaries and leaders), never deleted unless
    the subclass says so."""

    rows: Rows
    formfield_overrides = IN_MINUTES

    class Media:
        css = MEDIA_CSS

    clinic_path = "clinic_id"  # how a row names its clinic
    deletable = False

    def clinic_of(self, obj: Any) -> int:
        value: Any = obj
        for part in self.clinic_path.split("."):
            value = getattr(value, part)
        return int(value)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return type(self).rows(request.user, capability=READ)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may(request, READ)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, READ, None if obj is None else self.clinic_of(obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may(request, CHANGE)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, CHANGE, None if obj is None else self.clinic_of(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.deletable and self.has_change_permission(request, obj)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        choices = narrowed_choice(db_field, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The forms check what the services check; should a service still refuse (a row
        changed meanwhile), the admin's transaction is rolled back and the refusal shown."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ClinicScopedInline(admin.TabularInline):  # type: ignore[type-arg]
    """Rows of a parent the user may see; changed where the user may change the parent."""

    rows: Rows
    extra = 1
    formfield_overrides = IN_MINUTES

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return type(self).rows(request.user, capability=READ)

    def _may_change(self, request: HttpRequest, obj: Any) -> bool:
        clinic_id = None if obj is None or obj.pk is None else obj.clinic_id
        return may(request, CHANGE, clinic_id)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may(request, READ, None if obj is None or obj.pk is None else obj.clinic_id)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request, obj)


def titled(title: Any, base: type[admin.FieldListFilter]) -> type[admin.FieldListFilter]:
    """A list filter under its own title (a related field's filter is titled by the field)."""

    class Titled(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


CLINIC_FILTER = ("clinic", admin.RelatedOnlyFieldListFilter)


# --- Clinics ---------------------------------------------------------------------------------


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin):
    rows = staticmethod(selectors.staff_clinics)
    clinic_path = "pk"
    list_display = ["name", "address", "phone", "time_zone"]
    search_fields = ["name", "address"]
    fields = ["name", "address", "phone", "time_zone"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # clinics are set up with the product, as in the API

    def save_model(self, request: HttpRequest, obj: Clinic, form: Any, change: bool) -> None:
        configuration.clinic_update(clinic=obj, **changes(form, whole=False))


# --- Resources with their working hours and absences -------------------------------------------


class WorkingHoursInline(ClinicScopedInline):
    model = WorkingHours
    rows = staticmethod(selectors.staff_working_hours)
    HOURS = ["start_time", "end_time", "valid_from", "valid_until", "interval_weeks"]
    fields = ["weekday", *HOURS]
    readonly_fields = ["day"]
    extra = 0

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """For those who only see the hours, the weekday by name (the field holds 0-6)."""
        return ["weekday" if self.has_change_permission(request, obj) else "day", *self.HOURS]

    @admin.display(description=WorkingHours._meta.get_field("weekday").verbose_name)
    def day(self, hours: WorkingHours) -> str:
        return str(dict(WEEKDAY_CHOICES)[hours.weekday])

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "weekday":
            return forms.TypedChoiceField(
                label=db_field.verbose_name, choices=WEEKDAY_CHOICES, coerce=int
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class AbsenceInline(ClinicScopedInline):
    """The absences that have not ended: the past ones are history, and changing one would
    only ask for a re-plan of appointments that have been."""

    model = Absence
    rows = staticmethod(selectors.staff_absences)
    fields = ["starts_at", "ends_at", "reason", "note"]
    verbose_name_plural = _("absences now and ahead")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(ends_at__gt=timezone.now())


def save_absences(formset: Formset, resource: Resource | None = None) -> None:
    """Absences through planning.background, which queues the re-plan of what they hit."""
    save_rows(
        formset,
        create=lambda **fields: background.absence_register(
            resource=resource or formset.instance, **fields
        ),
        update=lambda absence, **fields: background.absence_change(absence=absence, **fields),
        delete=lambda absence: configuration.absence_delete(absence=absence),
    )


@admin.register(Resource)
class ResourceAdmin(ClinicScopedAdmin):
    rows = staticmethod(selectors.staff_resources)
    form = ResourceForm
    inlines = [WorkingHoursInline, AbsenceInline]
    list_display = ["name", "kind", "clinic", "tag_list", "is_active"]
    list_filter = ["kind", "is_active", CLINIC_FILTER]
    search_fields = ["name"]
    list_select_related = ["clinic"]

    @admin.display(description=_("tags"))
    def tag_list(self, obj: Resource) -> str:
        return ", ".join(obj.tags)

    def save_model(self, request: HttpRequest, obj: Resource, form: Any, change: bool) -> None:
        if change:
            configuration.resource_update(resource=obj, **changes(form, whole=False))
        else:
            adopt(obj, configuration.resource_create(**changes(form, whole=True)))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Absence:
            save_absences(formset)
            return
        save_rows(
            formset,
            create=lambda **fields: configuration.working_hours_create(
                resource=formset.instance, **fields
            ),
            update=lambda hours, **fields: configuration.working_hours_update(
                working_hours=hours, **fields
            ),
            delete=lambda hours: configuration.working_hours_delete(working_hours=hours),
        )


@admin.register(Absence)
class AbsenceAdmin(ClinicScopedAdmin):
    """Every absence of the user's clinics: where a sick day is registered quickly."""

    rows = staticmethod(selectors.staff_absences)
    clinic_path = "resource.clinic_id"
    deletable = True
    fields = ["resource", "starts_at", "ends_at", "reason", "note"]
    list_display = ["resource", "starts_at", "ends_at", "reason", "note"]
    list_filter = [
        "reason",
        ("resource__clinic", titled(_("clinic"), admin.RelatedOnlyFieldListFilter)),
        ("resource", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["resource__name", "note"]
    date_hierarchy = "starts_at"
    list_select_related = ["resource"]

    def save_model(self, request: HttpRequest, obj: Absence, form: Any, change: bool) -> None:
        if change:
            background.absence_change(absence=obj, **changes(form, whole=False))
        else:
            adopt(obj, background.absence_register(**changes(form, whole=True)))

    def delete_model(self, request: HttpRequest, obj: Absence) -> None:
        configuration.absence_delete(absence=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Absence]) -> None:
        for absence in queryset:
            configuration.absence_delete(absence=absence)


# --- Appointment types with their requirements and preparations --------------------------------


class RequirementInline(ClinicScopedInline):
    model = ResourceRequirement
    formset = RequirementFormSet
    fields = ["kind", "tag", "count"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        types = selectors.staff_appointment_types(request.user, capability=READ)
        return ResourceRequirement.objects.filter(appointment_type__in=types)

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 1 if obj is None else 0  # a new type needs one at least


class PreparationInline(ClinicScopedInline):
    model = PreparationTemplate
    fields = ["title", "instructions", "timing", "days_before"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        types = selectors.staff_appointment_types(request.user, capability=READ)
        return PreparationTemplate.objects.filter(appointment_type__in=types)

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name == "instructions":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def parts_of(formsets: Iterable[Formset], model: type[models.Model], whole: bool) -> Any:
    """An inline's rows for the type's service: all of them, or None when nothing changed
    (the service then keeps the rows, and the preparations booked appointments refer to)."""
    for formset in formsets:
        if formset.model is model:
            return kept_rows(formset) if whole or formset.has_changed() else None
    return None


@admin.register(AppointmentType)
class AppointmentTypeAdmin(ClinicScopedAdmin):
    rows = staticmethod(selectors.staff_appointment_types)
    inlines = [RequirementInline, PreparationInline]
    list_display = [
        "name",
        "clinic",
        "duration_minutes",
        "contact_mode",
        "self_bookable",
        "requires_confirmation",
        "is_active",
    ]
    list_filter = [
        "self_bookable",
        "requires_confirmation",
        "is_active",
        "contact_mode",
        CLINIC_FILTER,
    ]
    search_fields = ["name", "patient_facing_name", "location"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "clinic",
                    "name",
                    "patient_facing_name",
                    "location",
                    "contact_mode",
                    "is_active",
                ]
            },
        ),
        (
            _("Time"),
            {
                "fields": [
                    "duration_minutes",
                    "grid_minutes",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                ]
            },
        ),
        (
            _("Self-booking and its rules"),
            {
                "fields": [
                    "self_bookable",
                    "requires_confirmation",
                    "min_notice_hours",
                    "booking_horizon_days",
                    "change_cutoff_hours",
                    "max_patient_changes",
                    "offers_count",
                    "reminder_hours",
                ]
            },
        ),
    ]

    def save_model(
        self, request: HttpRequest, obj: AppointmentType, form: Any, change: bool
    ) -> None:
        """Saved with its requirements and preparations, in save_related: the service writes
        a type and its parts together."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        obj = form.instance
        requirements = parts_of(formsets, ResourceRequirement, whole=not change)
        preparations = parts_of(formsets, PreparationTemplate, whole=not change)
        before = {
            ResourceRequirement: list(obj.requirements.all()) if change else [],
            PreparationTemplate: list(obj.preparations.all()) if change else [],
        }
        if change:
            configuration.appointment_type_update(
                appointment_type=obj,
                requirements=requirements,
                preparations=preparations,
                **changes(form, whole=False),
            )
        else:
            adopt(
                obj,
                configuration.appointment_type_create(
                    requirements=requirements,
                    preparations=preparations,
                    **changes(form, whole=True),
                ),
            )
        saved = {ResourceRequirement: requirements, PreparationTemplate: preparations}
        for formset in formsets:
            replaced = saved[formset.model] is not None
            kept = formset.model.objects.filter(appointment_type=obj)
            formset.new_objects = list(kept) if replaced else []
            formset.changed_objects = []
            formset.deleted_objects = before[formset.model] if replaced else []
