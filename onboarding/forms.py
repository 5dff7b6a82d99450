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

from crm_core.models import CustomField
from onboarding.importing import values
from onboarding.importing.columns import CUSTOM_PREFIX, FIELDS, MULTI_VALUED, NEW_CUSTOM
from onboarding.importing.presets import PRESETS
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
    # Another CRM's export: recognised from its headers, or named here when its headers were
    # renamed (presets.py).
    source = forms.ChoiceField(
        label=_("Export of another CRM"),
        required=False,
        choices=[
            ("", _("Recognise from the headers")),
            *((preset.key, preset.label) for preset in PRESETS),
        ],
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
    """The CRM's fields, the company's own client fields, and a new one from the column."""
    own = [
        (f"{CUSTOM_PREFIX}{key}", str(_("Client field: %(label)s") % {"label": label}))
        for key, label in CustomField.objects.filter(
            entity=CustomField.Entity.CLIENT, is_active=True
        ).values_list("key", "label")
    ]
    return [
        ("", str(_("— skip —"))),
        *((key, str(label)) for key, (label, _w) in FIELDS.items()),
        *own,
        (NEW_CUSTOM, str(_("Create a client field from this column"))),
    ]


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
    # Deals only when asked: a sum column may be a debt, not a deal. (Left out of a post, the
    # choice falls back to tabular.wants_deals, as for a script.)
    deals = forms.ChoiceField(
        label=_("Deals"),
        choices=[
            ("yes", _("Create a deal from each row (its deal title, amount and date columns)")),
            ("no", _("No deals: clients and their contact persons only")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    bad_inn = forms.ChoiceField(
        label=_("Rows whose INN fails its checksum"),
        choices=[
            ("blank", _("Import them without the INN (flagged in the report)")),
            ("skip", _("Skip them (listed in the report)")),
        ],
        required=False,
        initial="blank",
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
        self.field_labels = dict(choices)
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

    def options(self) -> dict[str, Any]:
        deals = {"yes": True, "no": False}.get(self.cleaned_data.get("deals") or "")
        return {"deals": deals, "bad_inn": self.cleaned_data.get("bad_inn") or "blank"}

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
        columns_of: dict[str, list[str]] = {}
        for index, header in enumerate(self.headers):
            chosen = data.get(f"col_{index}")
            if chosen and chosen not in MULTI_VALUED and chosen != NEW_CUSTOM:
                columns_of.setdefault(chosen, []).append(header)
        twice = [(f, h) for f, h in columns_of.items() if len(h) > 1]
        if twice:
            # Named, so the person sees which two columns to tell apart; phones, e-mails and
            # notes may come from several columns (all of them are kept).
            raise forms.ValidationError(
                [
                    _(
                        "Columns %(columns)s are all mapped to %(field)s, which holds one "
                        "value: choose one of them, or another field for the others."
                    )
                    % {
                        "columns": ", ".join(f"«{h}»" for h in headers),
                        "field": self.field_labels.get(field_name, field_name),
                    }
                    for field_name, headers in twice
                ]
            )
        own_rows = {"task_text", "timeline_text", "deal_title"}  # tasks, history, deals
        named = {"name", "contact_name", "contact_last_name", "contact_first_name"}
        # An associations export links records by their ids only (two sides, tabular.row_kind).
        links = {"deal_ref", "contact_ref", "company_ref"} & set(values)
        if not (named | own_rows) & set(values) and len(links) < 2:
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
