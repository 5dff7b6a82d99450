"""The marketing pages' forms: a campaign with its blocks, a segment, a consent, the sending
settings. Checks of meaning live in the services; these only read what was typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from communications.models import Mailbox
from crm_core.models import SavedView
from marketing.models import Consent, Segment, SendingSettings
from marketing.services.letters import KINDS


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=300,
        help_text=_("Placeholders work here too, e.g. {first_name}, we have news for you"),
    )
    segment = forms.ModelChoiceField(
        label=_("Send to"), queryset=Segment.objects.none(), required=False, empty_label="—"
    )
    cost = forms.DecimalField(
        label=_("Cost"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    utm_campaign = forms.SlugField(
        label=_("UTM campaign"),
        max_length=100,
        required=False,
        help_text=_("Requests whose links carry this utm_campaign count as the campaign's."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.all()  # type: ignore[attr-defined]


class BlockForm(forms.Form):
    kind = forms.ChoiceField(label=_("Block"), choices=[("", "—"), *KINDS.items()], required=False)
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000
    )
    url = forms.CharField(label=_("Link or image address"), required=False, max_length=2000)


BlockFormSet = forms.formset_factory(BlockForm, extra=2, max_num=50, absolute_max=60)


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Segment.Kind.choices)
    view = forms.TypedChoiceField(
        label=_("Saved view"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, views: list[SavedView], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["view"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(v.pk, f"{v.get_entity_display()}: {v.name}") for v in views],
        ]


class ConsentForm(forms.Form):
    email = forms.ChoiceField(label=_("Address"))
    source = forms.ChoiceField(label=_("Where it was given"), choices=Consent.Source.choices)
    details = forms.CharField(label=_("Where exactly"), max_length=300, required=False)
    text = forms.CharField(
        label=_("The text the person agreed to"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    given_at = forms.DateTimeField(
        label=_("Given"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
    )

    def __init__(self, *args: Any, emails: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].choices = [(e, e) for e in emails]  # type: ignore[attr-defined]


class SendingForm(forms.ModelForm):
    key = forms.CharField(
        label=_("API key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Kept encrypted; leave empty to keep the one saved. Mailjet: key:secret."),
    )
    signing_key = forms.CharField(
        label=_("Webhook signing key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Mailgun's webhook signing key; Unisender Go: its API key again."),
    )

    class Meta:
        model = SendingSettings
        fields = ("channel", "mailbox", "provider", "from_email", "from_name", "rate_per_minute")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mailbox"].queryset = Mailbox.objects.all()  # type: ignore[attr-defined]

    def clean_rate_per_minute(self) -> int:
        rate = int(self.cleaned_data["rate_per_minute"])
        if not 1 <= rate <= 10_000:
            raise forms.ValidationError(_("Between 1 and 10,000 letters a minute."))
        return rate

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("channel") == SendingSettings.Channel.MAILBOX and not data.get("mailbox"):
            self.add_error("mailbox", _("Choose the mailbox."))
        if data.get("channel") == SendingSettings.Channel.PROVIDER:
            if not data.get("provider"):
                self.add_error("provider", _("Choose the provider."))
            if not data.get("from_email"):
                self.add_error("from_email", _("Write the from address the provider allows."))
            if not (data.get("key") or self.instance.provider_key):
                self.add_error("key", _("Enter the provider's API key."))
        return data
