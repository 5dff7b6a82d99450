"""Applying an industry template: the pipeline's stages, their rules, and sample data."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm_core.automation.models import StageRule
from crm_core.automation.services.setup import install_rules
from crm_core.models import Deal, Pipeline, Stage
from crm_core.services.pipelines import DEFAULT_STAGES, create_pipeline
from onboarding.industries import INDUSTRIES, WINDOWS, Industry
from onboarding.models import ImportBatch, ImportedRecord
from onboarding.services.setup import Step, add_sample_data, mark, progress, require_admin
from tenants.models import Company, Membership


@transaction.atomic
def apply_industry_template(
    membership: Membership, company: Company, key: str, *, with_sample: bool
) -> Industry:
    """The template's stages on the company's pipeline, its rules on them, and optionally
    its sample data. Choosing another template later replaces the stages and the rules the
    first one brought (while the pipeline holds no deals but the sample's)."""
    require_admin(membership)
    industry = INDUSTRIES.get(key)
    if industry is None:
        raise ValidationError(_("There is no such industry template."), code="no_template")
    pipeline = _pipeline_for(industry, company)
    install_rules(membership=membership, company=company, pipeline=pipeline, rules=industry.rules)
    if with_sample:
        add_sample_data(membership, company, sample=industry.sample, pipeline=pipeline)
    mark(membership, Step.TEMPLATE, "done")
    return industry


def industry_of(pipeline: Pipeline | None, company: Company) -> Industry:
    """The template whose stages the pipeline has (the default one's are the windows')."""
    if pipeline is not None:
        names = _open_stage_names(pipeline)
        for industry in INDUSTRIES.values():
            if names == _names(industry, company):
                return industry
    return WINDOWS


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.order_by("-is_default", "position", "id").first()


def _pipeline_for(industry: Industry, company: Company) -> Pipeline:
    """The default pipeline, its open stages renamed to the template's while it holds no
    deals but the sample's; otherwise a pipeline of the template's own, so the company's
    deals keep the stages they are on."""
    pipeline = default_pipeline()
    if pipeline is None:
        raise ValidationError(_("Create a pipeline first."), code="no_pipeline")
    names = _names(industry, company)
    stages = _open_stages(pipeline)
    if [stage.name for stage in stages] == names:
        return pipeline
    real_deals = Deal.objects.filter(pipeline=pipeline).exclude(pk__in=_sample_deal_ids())
    if len(stages) == len(names) and not real_deals.exists():
        for stage, name, (_msgid, probability, colour) in zip(
            stages, names, industry.stages, strict=True
        ):
            stage.name, stage.probability, stage.color = name, probability, colour
            stage.save(update_fields=["name", "probability", "color"])
        _drop_other_templates_rules(industry, company, stages)
        return pipeline
    with override(company.language):
        title = str(industry.name)
    own = Pipeline.objects.filter(name=title).first()
    if own is not None and _open_stage_names(own) == names:
        return own
    closing = [s for s in DEFAULT_STAGES if s[3] != Stage.Outcome.OPEN]
    opening = [(n, p, c, str(Stage.Outcome.OPEN)) for n, p, c in industry.stages]
    return create_pipeline(company, name=title, stages=[*opening, *closing])


def _drop_other_templates_rules(industry: Industry, company: Company, stages: list[Stage]) -> None:
    """The rules another template put on these stages go with that template's stage names
    (a "Go measure" task has no place at "Invoice issued"); rules people wrote stay."""
    with override(company.language):
        wanted = {(index, _(name)) for index, name, _t, _a in industry.rules}
        template_names = {
            _(name) for other in INDUSTRIES.values() for _i, name, _t, _a in other.rules
        }
    for index, stage in enumerate(stages):
        for rule in StageRule.objects.filter(stage=stage, name__in=template_names):
            if (index, rule.name) not in wanted:
                rule.delete()


def _names(industry: Industry, company: Company) -> list[str]:
    with override(company.language):
        return [_(name) for name, _p, _c in industry.stages]


def _open_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.filter(outcome=Stage.Outcome.OPEN).order_by("position", "id"))


def _open_stage_names(pipeline: Pipeline) -> list[str]:
    return [stage.name for stage in _open_stages(pipeline)]


def _sample_deal_ids() -> list[int]:
    batch = progress().sample_batch
    if batch is None or batch.status != ImportBatch.Status.DONE:
        return []
    return list(
        ImportedRecord.objects.filter(batch=batch, entity="deal").values_list(
            "record_id", flat=True
        )
    )
