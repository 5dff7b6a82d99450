"""Forms of the mail pages: connecting a mailbox, writing a message, letter templates."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communications.models import Mailbox, MailTemplate
from communications.services import letters
from crm_core.automation.models import RequestForm
from tenants.models import Membership, User


class MailboxForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("Password or app password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Kept encrypted; leave empty to keep the saved one."),
    )
    readers = forms.MultipleChoiceField(
        label=_("Who else may read it"), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "kind",
            "imap_host",
            "imap_port",
            "imap_security",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "login",
            "auth_method",
            "sent_folder",
            "initial_days",
            "creates_requests",
            "request_form",
        ]

    def __init__(self, *args: Any, membership: Membership, admin: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = (
            User.objects.filter(
                memberships__company_id=membership.company_id, memberships__is_active=True
            )
            .exclude(pk=membership.user_id)
            .order_by("email")
        )
        readers = cast(forms.MultipleChoiceField, self.fields["readers"])
        readers.choices = [(u.pk, u.get_full_name() or u.email) for u in members]
        if self.instance.pk:
            self.fields["readers"].initial = [
                str(r) for r in self.instance.readers.values_list("user_id", flat=True)
            ]
        if "request_form" in self.fields:
            rules = cast(forms.ModelChoiceField, self.fields["request_form"])
            rules.queryset = RequestForm.objects.filter(is_active=True)
        if not admin:
            # Shared mailboxes and request rules are the company's: admins set them up.
            kind = cast(forms.ChoiceField, self.fields["kind"])
            kind.choices = [(Mailbox.Kind.PERSONAL, Mailbox.Kind.PERSONAL.label)]
            for name in ("creates_requests", "request_form"):
                del self.fields[name]
        if not self.instance.pk:
            self.fields["secret"].required = True
            self.fields["secret"].help_text = _("Kept encrypted; never shown again.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("creates_requests") and not data.get("request_form"):
            self.add_error("request_form", _("Choose whose requests these become."))
        if not data.get("login") and data.get("address"):
            data["login"] = data["address"]
        return data


def _addresses(value: str) -> list[str]:
    found = [a.strip().lower() for a in value.replace(";", ",").split(",") if a.strip()]
    for address in found:
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                _("%(address)s is not an e-mail address.") % {"address": address}
            ) from exc
    return found[:50]


class ComposeForm(forms.Form):
    mailbox = forms.ModelChoiceField(
        label=pgettext_lazy("mail", "From"), queryset=Mailbox.objects.none()
    )
    to = forms.CharField(label=pgettext_lazy("mail", "To"), max_length=2000)
    cc = forms.CharField(label=pgettext_lazy("mail", "Copy"), max_length=2000, required=False)
    subject = forms.CharField(
        label=pgettext_lazy("mail", "Subject"), max_length=500, required=False
    )
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}))
    attach = forms.MultipleChoiceField(
        label=_("Attach the deal's files"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, mailboxes: Any, files: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["mailbox"]).queryset = mailboxes
        attach = cast(forms.MultipleChoiceField, self.fields["attach"])
        attach.choices = [(str(pk), name) for pk, name in files]
        if not files:
            del self.fields["attach"]

    def clean_to(self) -> list[str]:
        found = _addresses(self.cleaned_data["to"])
        if not found:
            raise ValidationError(_("Say whom to send it to."))
        return found

    def clean_cc(self) -> list[str]:
        return _addresses(self.cleaned_data.get("cc", ""))


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ["name", "subject", "body"]
        help_texts = {
            "body": _("Placeholders: {client}, {contact}, {deal}, {amount}, {manager}, {company}."),
        }

    def clean_subject(self) -> str:
        letters.check(self.cleaned_data["subject"])
        return self.cleaned_data["subject"]

    def clean_body(self) -> str:
        letters.check(self.cleaned_data["body"])
        return self.cleaned_data["body"]
