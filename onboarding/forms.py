"""Forms of the import wizard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from onboarding.importing import values
from onboarding.importing.columns import FIELDS
from onboarding.models import ImportBatch, ImportTemplate
from tenants.models import Membership


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    template = forms.ModelChoiceField(
        ImportTemplate.objects.all(),
        required=False,
        label=_("Saved mapping"),
        empty_label=_("Suggest from the headers"),
    )


class ColumnSelect(forms.Select):
    """A column's choice of CRM field, written out directly: the mapping page has one per
    column (up to bounds.MAX_COLUMNS), and Django's template per option made a 500-column page
    take seconds to render. The markup is the plain select Django's own would give."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if str(key) == chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html(
            "<select{}>{}</select>",
            flatatt(self.build_attrs(self.attrs, {**(attrs or {}), "name": name})),
            options,
        )


def field_choices() -> list[tuple[str, str]]:
    return [("", str(_("— skip —")))] + [(key, str(label)) for key, (label, _w) in FIELDS.items()]


class MappingForm(forms.Form):
    """One choice per column of the sheet, plus where the header is."""

    sheet = forms.ChoiceField(label=_("Sheet"), required=False)
    header_row = forms.IntegerField(label=_("Header row"), min_value=1, max_value=1000)
    date_order = forms.ChoiceField(
        label=_("Dates in the file"),
        choices=ImportBatch.DateOrder.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    save_as = forms.CharField(label=_("Save this mapping as"), required=False, max_length=200)

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        sheets: list[str],
        date_example: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        sheet_field = self.fields["sheet"]
        assert isinstance(sheet_field, forms.ChoiceField)
        sheet_field.choices = [(s, s) for s in sheets]
        if date_example:
            self._ask_with(date_example)
        choices = field_choices()
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, widget=ColumnSelect
            )

    def _ask_with(self, example: str) -> None:
        """The two orders told by one of the file's own dates that reads both ways:
        "05.03.2026 is 5 March 2026" / "05.03.2026 is 3 May 2026"."""
        labels = {
            values.DAY_FIRST: _("day first: %(example)s is %(date)s"),
            values.MONTH_FIRST: _("month first: %(example)s is %(date)s"),
        }
        order_field = self.fields["date_order"]
        assert isinstance(order_field, forms.ChoiceField)
        order_field.choices = [
            (
                order,
                labels[order]
                % {
                    "example": example,
                    "date": date_format(
                        dt.date.fromisoformat(values.date(example, order)), "j E Y"
                    ),
                },
            )
            for order in (values.DAY_FIRST, values.MONTH_FIRST)
        ]

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


class DetailsForm(forms.Form):
    """The company's requisites in the setup's first step."""

    inn = forms.CharField(label=_("INN"), max_length=20, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=300)
    kpp = forms.CharField(label=_("KPP"), max_length=9, required=False)
    ogrn = forms.CharField(label=_("OGRN"), max_length=15, required=False)
    legal_address = forms.CharField(label=_("Legal address"), max_length=500, required=False)
    director = forms.CharField(label=_("Director"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    # Set when the lookup filled the form: the saved details remember their source.
    found = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, instance_values: Any = None, **kwargs: Any) -> None:
        if instance_values is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance_values, name, "") for name in self.base_fields
            }
        super().__init__(*args, **kwargs)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (role.value, role.label) for role in Membership.Role if role != Membership.Role.OWNER
        ],
        initial=Membership.Role.MANAGER,
    )


class BankForm(forms.Form):
    """The wizard's bank step: what an invoice needs for the client to pay it."""

    bank_name = forms.CharField(label=_("Bank"), max_length=300, required=False)
    bik = forms.CharField(
        label=_("BIK"),
        max_length=11,
        required=False,
        widget=forms.TextInput({"inputmode": "numeric"}),
    )
    correspondent_account = forms.CharField(
        label=_("Correspondent account"),
        max_length=24,
        required=False,
        widget=forms.TextInput({"inputmode": "numeric"}),
    )
    bank_account = forms.CharField(
        label=_("Settlement account"),
        max_length=24,
        required=False,
        widget=forms.TextInput({"inputmode": "numeric"}),
    )
