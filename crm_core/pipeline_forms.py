"""The pipeline editor's and the targets grid's forms (validation only; services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.models import Stage


class PipelineNameForm(forms.Form):
    name = forms.CharField(label=_("Pipeline name"), max_length=200)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Stage"), max_length=200)
    color = forms.RegexField(
        label=_("Colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        initial="#2457d6",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": _("Choose a colour such as #2457d6.")},
    )
    probability = forms.IntegerField(
        label=_("Probability, %"), min_value=0, max_value=100, initial=10
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Stage.Outcome.choices, initial=Stage.Outcome.OPEN
    )


class DeleteStageForm(forms.Form):
    move_to = forms.ModelChoiceField(
        label=_("Move its deals to"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=_("— choose a stage —"),
    )
    lost_reason = forms.CharField(
        label=_("Reason for losing (when moving to a lost stage)"), max_length=300, required=False
    )

    def __init__(self, *args: Any, stage: Stage, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = (  # type: ignore[attr-defined]
            Stage.objects.filter(pipeline_id=stage.pipeline_id, is_archived=False)
            .exclude(pk=stage.pk)
            .order_by("position", "id")
        )
