from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.api.models import ApiToken
from tenants.models import Membership


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What will use it"), max_length=100)
    access = forms.ChoiceField(
        label=_("Access"), choices=ApiToken.Access.choices, initial=ApiToken.Access.READ
    )
    resources = forms.MultipleChoiceField(
        label=_("Resources (none ticked: all)"),
        choices=ApiToken.Resource.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    acting_as = forms.TypedChoiceField(
        label=_("Acts as (sees and changes what this member may)"), coerce=int
    )

    def __init__(self, *args: Any, members: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["acting_as"]
        field.choices = [  # type: ignore[attr-defined]
            (m.pk, f"{m.user.get_full_name()} ({m.get_role_display()})") for m in members
        ]
