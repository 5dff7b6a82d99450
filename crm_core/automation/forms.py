"""Forms of the automation settings pages (owners and admins)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.automation.models import RequestForm, RuleAction, StageRule
from crm_core.automation.origins import parse_sites
from crm_core.automation.services import webhooks
from crm_core.automation.services.capture import STANDARD_FIELDS, fields_of
from crm_core.models import Stage, Team
from tenants.models import Company, Membership


def member_choices(company: Company) -> list[tuple[str, str]]:
    rows = (
        Membership.objects.filter(company=company, is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
    return [("", "—")] + [(str(m.user_id), m.user.get_full_name()) for m in rows]


class RequestFormForm(forms.ModelForm):
    field_lines = forms.CharField(
        label=_("Fields"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One field per line: key | label, with * at the end when required. "
            "Keys name, phone, email, company and message fill the request; "
            "any other key is kept with the message."
        ),
    )
    assignee_id = forms.ChoiceField(label=_("Person"), required=False)

    class Meta:
        model = RequestForm
        fields = (
            "name",
            "is_active",
            "target",
            "pipeline",
            "assign",
            "team",
            "allowed_sites",
            "per_ip_per_hour",
            "per_form_per_hour",
            "thanks_text",
        )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee_id"].choices = member_choices(company)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.all()  # type: ignore[attr-defined]
        instance = self.instance
        self.initial.setdefault("assignee_id", str(instance.assignee_id or ""))
        self.initial.setdefault(
            "field_lines",
            "\n".join(
                f"{f['key']} | {f.get('label') or STANDARD_FIELDS.get(f['key'], f['key'])}"
                + (" *" if f.get("required") else "")
                for f in fields_of(instance)
            ),
        )

    def clean_allowed_sites(self) -> str:
        # Stored as the origins the header will carry (lower case, no trailing slash).
        return "\n".join(parse_sites(self.cleaned_data["allowed_sites"]))

    def clean_field_lines(self) -> list[dict[str, Any]]:
        specs, seen = [], set()
        for number, line in enumerate(self.cleaned_data["field_lines"].splitlines(), start=1):
            text = line.strip()
            if not text:
                continue
            required = text.endswith("*")
            key, _sep, label = text.rstrip("*").partition("|")
            key = key.strip().lower()
            if not key.replace("_", "").isalnum() or len(key) > 40:
                raise forms.ValidationError(
                    _("Line %(n)s: the key must be letters, digits or _."), params={"n": number}
                )
            if key in seen:
                raise forms.ValidationError(
                    _("Line %(n)s: the key %(key)s is already used."),
                    params={"n": number, "key": key},
                )
            seen.add(key)
            specs.append({"key": key, "label": label.strip()[:100], "required": required})
        if not {"phone", "email"} & seen:
            raise forms.ValidationError(_("The form needs a phone or an e-mail field."))
        return specs

    def save(self, commit: bool = True) -> RequestForm:
        form = super().save(commit=False)
        form.fields = self.cleaned_data["field_lines"]
        form.assignee_id = int(self.cleaned_data["assignee_id"] or 0) or None
        return form


class StageRuleForm(forms.ModelForm):
    class Meta:
        model = StageRule
        fields = ("name", "stage", "trigger", "stays_minutes", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.select_related("pipeline")  # type: ignore[attr-defined]
        self.fields["stage"].label_from_instance = (  # type: ignore[attr-defined]
            lambda s: f"{s.pipeline.name} → {s.name}"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("trigger") == StageRule.Trigger.STAYS and not data.get("stays_minutes"):
            self.add_error("stays_minutes", _("How many minutes at the stage?"))
        return data


class RuleActionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("Webhook address"), required=False, max_length=500, assume_scheme="https"
    )
    person_id = forms.ChoiceField(label=_("Person"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", "—"), *Membership.Role.choices]
    )

    class Meta:
        model = RuleAction
        fields = (
            "kind",
            "who",
            "role",
            "title",
            "text",
            "task_kind",
            "due_minutes",
            "sla",
            "field",
            "value",
            "url",
        )
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "title": _("Placeholders: {deal}, {client}, {amount}, {stage}, {manager}, {company}."),
            "field": _("title, amount, source, expected_close or custom:<key>."),
        }

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person_id"].choices = member_choices(company)  # type: ignore[attr-defined]

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url") or ""
        refusal = webhooks.address_refusal(url) if url else None
        if refusal:
            raise forms.ValidationError(refusal)
        return url

    def save(self, commit: bool = True) -> RuleAction:
        action = super().save(commit=False)
        action.person_id = int(self.cleaned_data["person_id"] or 0) or None
        return action


class DryRunForm(forms.Form):
    deal = forms.IntegerField(label=_("Deal number"), min_value=1)


class HoursForm(forms.Form):
    escalate_after_minutes = forms.IntegerField(
        label=_("Escalate to the head after, minutes"), min_value=1, max_value=7 * 24 * 60
    )
    hours = forms.CharField(
        label=_("Working hours"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("One day per line: weekday number (1 = Monday) and hours, e.g. 1 09:00-18:00."),
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date per line, e.g. 2026-01-01."),
    )


class RepeatWindowForm(forms.Form):
    repeat_window_minutes = forms.IntegerField(
        label=_("Repeat requests join the open deal within, minutes"),
        min_value=0,
        max_value=30 * 24 * 60,
        help_text=_(
            "A request from the same phone or e-mail within this time is added to the deal the "
            "first one opened, instead of a second deal and a second call-back task. "
            "0 switches this off."
        ),
    )
