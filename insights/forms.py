"""The dashboard's question: which period, how finely, and which clinic, type and clinician
(the GET query of the page and of its CSV export). The choices are the leader's own; whether a
clinic, type or clinician asked for is theirs is figures.scope_for's to say (404 if not)."""

from datetime import date
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from access.users import AnyUser
from booking.api.fields import MAX_ID
from booking.models import FIRST_DAY, LAST_DAY
from insights import presenting, selectors
from insights.figures import RESOLUTION_LABELS, Resolution

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
FIELDS = ("fra", "til", "inndeling", "klinikk", "timetype", "behandler")


class _Date(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_error_messages = {
        "invalid": _("Enter a date as year-month-day, for example 2026-12-03."),
        "out_of_range": _("Choose a date between 2000-01-01 and 2199-12-31."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=DATE_FORMATS, **kwargs)

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")


class _Choice(forms.IntegerField):
    """An id chosen in a list of the leader's own; any other id is left to the scope (404)."""

    default_error_messages = {"invalid": _("Choose one from the list.")}

    def __init__(self, *, label: Any, choices: list[tuple[Any, Any]]) -> None:
        super().__init__(
            label=label,
            required=False,
            min_value=1,
            max_value=MAX_ID,
            widget=forms.Select(choices=choices),
        )
        self.error_messages["min_value"] = self.error_messages["invalid"]
        self.error_messages["max_value"] = self.error_messages["invalid"]


class DashboardForm(forms.Form):
    fra = _Date(label=pgettext_lazy("the first day of a period", "From"))
    til = _Date(label=pgettext_lazy("the last day of a period", "To"))
    inndeling = forms.ChoiceField(
        label=_("Show per"),
        choices=[(r.value, RESOLUTION_LABELS[r]) for r in Resolution],
        error_messages={"invalid_choice": _("Choose day, week or month.")},
    )

    def __init__(self, *, user: AnyUser, query: QueryDict) -> None:
        super().__init__(data=with_defaults(query))
        clinics = list(selectors.statistics_clinics(user))
        several = len(clinics) > 1
        self.fields["klinikk"] = _Choice(
            label=_("Clinic"),
            choices=[("", _("All my clinics")), *((c.pk, c.name) for c in clinics)],
        )
        self.fields["timetype"] = _Choice(
            label=_("Appointment type"),
            choices=[
                ("", _("All types")),
                *(
                    (t.pk, f"{t.name} ({t.clinic.name})" if several else t.name)
                    for t in selectors.statistics_types(user)
                ),
            ],
        )
        self.fields["behandler"] = _Choice(
            label=_("Clinician"),
            choices=[
                ("", _("All clinicians")),
                *(
                    (r.pk, f"{r.name} ({r.clinic.name})" if several else r.name)
                    for r in selectors.statistics_clinicians(user)
                ),
            ],
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last, resolution = data.get("fra"), data.get("til"), data.get("inndeling")
        if (
            first
            and last
            and resolution
            and last >= first
            and presenting.too_many_days(first, last, Resolution(resolution))
        ):
            self.add_error("inndeling", presenting.TOO_MANY_DAYS)
        return data

    def scope_arguments(self) -> dict[str, Any]:
        """What figures.scope_for is asked, from a valid form."""
        data = self.cleaned_data
        return {
            "first": data["fra"],
            "last": data["til"],
            "resolution": Resolution(data["inndeling"]),
            "clinic_id": data.get("klinikk"),
            "appointment_type_id": data.get("timetype"),
            "clinician_id": data.get("behandler"),
        }


def with_defaults(query: QueryDict) -> dict[str, str]:
    """The query with the default period and resolution where it leaves them out, so the form
    always shows what the page counts."""
    first, last = presenting.default_period(timezone.localdate())
    data = {key: query.get(key, "") for key in FIELDS}
    defaults = {"fra": first.isoformat(), "til": last.isoformat(), "inndeling": Resolution.MONTH}
    for key, value in defaults.items():
        if not data[key].strip():
            data[key] = value
    return data
