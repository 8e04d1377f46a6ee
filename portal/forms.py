"""The patient pages' forms: they check and shape what a person typed; the services write."""

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cores.solver import PartOfDay
from patients.models import Language

WEEKDAYS = [
    (0, pgettext_lazy("a choice of weekday", "Monday")),
    (1, pgettext_lazy("a choice of weekday", "Tuesday")),
    (2, pgettext_lazy("a choice of weekday", "Wednesday")),
    (3, pgettext_lazy("a choice of weekday", "Thursday")),
    (4, pgettext_lazy("a choice of weekday", "Friday")),
    (5, pgettext_lazy("a choice of weekday", "Saturday")),
    (6, pgettext_lazy("a choice of weekday", "Sunday")),
]
PARTS_OF_DAY = [
    ("", _("Any time of day")),
    (PartOfDay.MORNING.value, _("Before noon")),
    (PartOfDay.AFTERNOON.value, _("After noon")),
]
MAX_MORE = 10  # "show more times" at most this many times over


class TimeFilterForm(forms.Form):
    """Which times to show: weekdays, part of the day, how many (the GET query of a picker).
    Anything odd in it is dropped rather than refused: it is a link the patient may edit."""

    ukedag = forms.TypedMultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    del_ = forms.ChoiceField(
        label=_("Time of day"), choices=PARTS_OF_DAY, required=False, widget=forms.RadioSelect
    )
    flere = forms.IntegerField(min_value=1, max_value=MAX_MORE, required=False)
    dag = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["del"] = self.fields.pop("del_")

    def cleaned(self) -> dict[str, Any]:
        """What is valid of the query, the rest at its default."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "weekdays": [d for d in data.get("ukedag") or [] if d in range(7)] or None,
            "part_of_day": PartOfDay(data["del"]) if data.get("del") else None,
            "more": data.get("flere") or 1,
            "day": data.get("dag") if "dag" not in self.errors else None,
        }


def parse_chosen_time(text: str | None) -> datetime | None:
    """A time picked from a list: ISO 8601 with its UTC offset, or None."""
    if not text or len(text) > 40:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=500)


class NotificationForm(forms.Form):
    notify_by_sms = forms.BooleanField(label=_("By SMS"), required=False)
    notify_by_email = forms.BooleanField(label=_("By e-mail"), required=False)
    preferred_language = forms.ChoiceField(
        label=_("Language of the messages"), choices=Language.choices
    )


class AvailabilityWindowForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Day of the week"), choices=WEEKDAYS, coerce=int)
    start_time = forms.TimeField(
        label=_("From"), input_formats=["%H:%M"], widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(
        label=_("To"), input_formats=["%H:%M"], widget=forms.TimeInput(attrs={"type": "time"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("The end must be after the start."))
        return data


class UnavailablePeriodForm(forms.Form):
    start_date = forms.DateField(
        label=_("First day"), input_formats=["%Y-%m-%d"], widget=forms.DateInput({"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Last day"), input_formats=["%Y-%m-%d"], widget=forms.DateInput({"type": "date"})
    )
    reason = forms.CharField(label=_("Why (optional)"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("start_date"), data.get("end_date")
        if last and last < timezone.localdate():
            self.add_error("end_date", _("This day has passed."))
        if first and last and last < first:
            self.add_error("end_date", _("The last day must not be before the first day."))
        if first and last and (last - first).days > 366:
            self.add_error(
                "end_date", _("A period may be at most a year. Add a longer one in parts.")
            )
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you cancel? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
