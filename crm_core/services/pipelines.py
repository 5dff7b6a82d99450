"""A company's sales pipelines; every new company starts with a sensible default one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from crm_core.models import Pipeline, Stage
from crm_core.services import limits
from tenants.models import Company

# (name, probability %, colour, outcome): the stages of Kirill's window company, which fit most
# small businesses that sell a job to order.
DEFAULT_STAGES = [
    (gettext_noop("First call"), 10, "#6b7585", Stage.Outcome.OPEN),
    (gettext_noop("Measurement"), 30, "#2457d6", Stage.Outcome.OPEN),
    (gettext_noop("Agreement"), 50, "#7a4fd6", Stage.Outcome.OPEN),
    (gettext_noop("Payment"), 80, "#d68a24", Stage.Outcome.OPEN),
    (gettext_noop("Installation"), 90, "#2a9d8f", Stage.Outcome.OPEN),
    (gettext_noop("Won"), 100, "#2b8a3e", Stage.Outcome.WON),
    (gettext_noop("Lost"), 0, "#b42318", Stage.Outcome.LOST),
]


def create_default_pipeline(company: Company) -> Pipeline:
    with override(company.language):
        name = _("Sales")
    return create_pipeline(company, name=name, stages=DEFAULT_STAGES, is_default=True)


def create_pipeline(
    company: Company,
    *,
    name: str,
    stages: Sequence[tuple[str, int, str, str]],
    is_default: bool = False,
) -> Pipeline:
    """A pipeline after the others, its stages (name msgid, probability %, colour, outcome)
    named in the company's language."""
    limits.check_pipeline(company)
    last = Pipeline.objects.order_by("-position").values_list("position", flat=True).first()
    with override(company.language):
        pipeline = Pipeline.objects.create(
            name=name, position=0 if last is None else last + 1, is_default=is_default
        )
        Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                name=_(stage_name),
                position=index,
                probability=probability,
                color=colour,
                outcome=outcome,
            )
            for index, (stage_name, probability, colour, outcome) in enumerate(stages)
        )
    return pipeline


def on_company_provisioned(sender: Any, company: Company, **kwargs: Any) -> None:
    create_default_pipeline(company)
