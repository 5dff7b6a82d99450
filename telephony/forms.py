from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.automation.models import RequestForm
from telephony.models import Provider


class ConnectionForm(forms.Form):
    provider = forms.ChoiceField(label=_("Provider"), choices=Provider.choices)
    # Never shown back: a blank field keeps the key saved before.
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Mango Office: the PBX's unique code; Zadarma: the API key."),
    )
    api_secret = forms.CharField(
        label=_("API secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Mango Office: the signing key (salt); Zadarma: the API secret."),
    )
    is_active = forms.BooleanField(label=_("Connected"), required=False, initial=True)
    callback_minutes = forms.IntegerField(
        label=_("Call back a missed call within, minutes"), min_value=1, max_value=7 * 24 * 60
    )
    request_form = forms.ModelChoiceField(
        label=_("Requests from unknown callers follow the form"),
        queryset=RequestForm.objects.none(),
        required=False,
        empty_label=_("“Phone calls” (made on the first call)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_form"].queryset = RequestForm.objects.order_by("name")  # type: ignore[attr-defined]


class ExtensionForm(forms.Form):
    number = forms.CharField(label=_("Extension"), max_length=32)
    user = forms.TypedChoiceField(label=_("Member"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—"), *members]  # type: ignore[attr-defined]


class NewCallerForm(forms.Form):
    name = forms.CharField(label=_("Name or company"), max_length=300)
