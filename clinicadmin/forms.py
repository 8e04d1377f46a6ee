"""The admin's forms where a model field alone would not do: tags typed as a list of words,
weekdays by name, and a type's requirements checked together as booking.configuration checks
them."""

from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from booking import configuration
from booking.models import Resource

WEEKDAY_CHOICES = sorted(WEEKDAYS.items())  # Django's own names, in every language it has


class ResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    tags = forms.CharField(
        label=capfirst(Resource._meta.get_field("tags").verbose_name),
        required=False,
        help_text=_("Skills or features, separated by commas, e.g. endoscopist, children."),
    )

    class Meta:
        model = Resource
        fields = ["clinic", "kind", "name", "tags", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        words = [word.strip() for word in self.cleaned_data["tags"].split(",")]
        return configuration.check_tags([word for word in words if word])


def kept_rows(formset: Any) -> list[dict[str, Any]]:
    """The rows a saved inline would hold: the existing ones not marked for deletion and the
    new ones filled in, each as the model's fields (no id, parent or DELETE)."""
    parent = getattr(formset, "fk", None)
    skip = {"id", "DELETE", parent.name if parent is not None else ""}
    deleted = formset.deleted_forms if formset.can_delete else []
    return [
        {name: value for name, value in row.cleaned_data.items() if name not in skip}
        for row in formset.forms
        if row not in deleted and (row.instance.pk is not None or row.has_changed())
    ]


class RequirementFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    """A type's requirements as a whole: at least one, at most as many as the slot search
    takes (booking.configuration.check_requirements, as the API checks them)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        configuration.check_requirements(kept_rows(self))
