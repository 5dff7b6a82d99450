"""Forms of the import wizard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from onboarding.importing.columns import FIELDS
from onboarding.models import ImportTemplate


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    template = forms.ModelChoiceField(
        ImportTemplate.objects.all(),
        required=False,
        label=_("Saved mapping"),
        empty_label=_("Suggest from the headers"),
    )


def field_choices() -> list[tuple[str, str]]:
    return [("", str(_("— skip —")))] + [(key, str(label)) for key, (label, _w) in FIELDS.items()]


class MappingForm(forms.Form):
    """One choice per column of the sheet, plus where the header is."""

    sheet = forms.ChoiceField(label=_("Sheet"), required=False)
    header_row = forms.IntegerField(label=_("Header row"), min_value=1, max_value=1000)
    save_as = forms.CharField(label=_("Save this mapping as"), required=False, max_length=200)

    def __init__(self, *args: Any, headers: list[str], sheets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        sheet_field = self.fields["sheet"]
        assert isinstance(sheet_field, forms.ChoiceField)
        sheet_field.choices = [(s, s) for s in sheets]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=field_choices(), required=False
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        chosen = {}
        for index, header in enumerate(self.headers):
            value = self.cleaned_data.get(f"col_{index}")
            if value:
                chosen[header] = value
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        values = [v for k, v in data.items() if k.startswith("col_") and v]
        if len(values) != len(set(values)):
            raise forms.ValidationError(_("Each field can be chosen for one column only."))
        if "name" not in values and not {"contact_name", "contact_last_name"} & set(values):
            raise forms.ValidationError(
                _("Choose the column with the client's name (or the contact person's name).")
            )
        return data
