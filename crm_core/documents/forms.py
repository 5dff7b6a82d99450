from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.documents.models import Kind, Requisites
from crm_core.models import VatRate


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    vat_rate = forms.ChoiceField(
        label=_("VAT"),
        choices=VatRate.choices,
        help_text=_(
            "Each line carries its product's VAT rate; this rate is for lines added before "
            "rates were kept per line."
        ),
    )
    body = forms.CharField(
        label=_("Body (HTML with placeholders)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
    )
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class RequisitesForm(forms.ModelForm):
    class Meta:
        model = Requisites
        fields = [
            "name",
            "full_name",
            "inn",
            "kpp",
            "ogrn",
            "address",
            "bank_name",
            "bik",
            "bank_account",
            "correspondent_account",
            "director",
            "accountant",
            "phone",
            "email",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}


class GenerateForm(forms.Form):
    template = forms.IntegerField()


class PaidForm(forms.Form):
    """An invoice marked paid on the deal's card: the sum paid (blank: its whole total)."""

    amount = forms.DecimalField(
        label=_("Sum paid"), required=False, max_digits=16, decimal_places=2, localize=True
    )
