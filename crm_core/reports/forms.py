"""The filters every report shares: a period, a pipeline and a team."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_core.models import Pipeline, Team
from relata.inputs import plausible_date

MAX_DAYS = 3 * 366


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(
        validators=[plausible_date],
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        validators=[plausible_date],
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.none(), required=False
    )
    team = forms.ModelChoiceField(
        # A team of the teams screen ("Отдел"), not the company's people ("Команда").
        label=pgettext_lazy("department", "Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Everyone"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = Pipeline.objects.all()  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.all()  # type: ignore[attr-defined]

    @classmethod
    def from_query(cls, query: QueryDict, *, ahead: bool = False) -> ReportFilterForm:
        """Bound to the query string, with the defaults filled in so the form shows them."""
        data = query.copy()
        today = timezone.localdate()
        # The default period is the year so far: what an owner asks for first; a report that
        # looks ahead (the forecast) defaults to this month and the five after it.
        start = today.replace(day=1) if ahead else date(today.year, 1, 1)
        end = _months_later(start, 6) - timedelta(days=1) if ahead else today
        if not data.get("date_from"):
            data["date_from"] = start.isoformat()
        if not data.get("date_to"):
            data["date_to"] = end.isoformat()
        if not data.get("pipeline"):
            default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
            if default is not None:
                data["pipeline"] = str(default.pk)
        return cls(data)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        elif start and end and (end - start).days > MAX_DAYS:
            self.add_error("date_to", _("Choose a period of at most three years."))
        return data


def _months_later(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
