"""A company's sales pipelines; every new company starts with a sensible default one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from crm_core.access import require_admin
from crm_core.models import Deal, Pipeline, Stage, StageChange
from crm_core.services import limits
from crm_core.services.audit import record
from crm_core.services.deals import move_deal
from tenants.models import Company, Membership

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


# --- the pipeline editor (owners and admins) ----------------------------------------------
#
# Stage rules, SLA timers and the deals' history point at a stage by its id, never by its name
# or position: a rename or a reorder changes one row and everything follows. A stage that deals
# passed through is never deleted, only archived (see docs/decisions.md, "Deleting a stage").

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# What a new pipeline starts with; the admin renames and adds from there.
NEW_PIPELINE_STAGES = [DEFAULT_STAGES[0], DEFAULT_STAGES[-2], DEFAULT_STAGES[-1]]


def _clean_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the %(what)s a name.") % {"what": what}})
    if len(name) > 200:
        raise ValidationError({"name": _("At most 200 characters.")})
    return name


def live_stages(pipeline: Pipeline) -> QuerySet[Stage]:
    """The stages the board shows, in its order (archived ones only keep history)."""
    return pipeline.stages.filter(is_archived=False).order_by("position", "id")


@transaction.atomic
def add_pipeline(*, membership: Membership, company: Company, name: str) -> Pipeline:
    """A new pipeline with a first stage, Won and Lost; the first active one becomes default."""
    require_admin(membership)
    name = _clean_name(name, str(_("pipeline")))
    has_default = Pipeline.objects.filter(is_default=True, is_archived=False).exists()
    pipeline = create_pipeline(
        company, name=name, stages=NEW_PIPELINE_STAGES, is_default=not has_default
    )
    record(membership, pipeline, "create", {"name": ("", name)})
    return pipeline


@transaction.atomic
def rename_pipeline(*, membership: Membership, pipeline: Pipeline, name: str) -> Pipeline:
    require_admin(membership)
    name = _clean_name(name, str(_("pipeline")))
    old = pipeline.name
    Pipeline.objects.filter(pk=pipeline.pk).update(name=name)
    pipeline.name = name
    record(membership, pipeline, "update", {"name": (old, name)})
    return pipeline


@transaction.atomic
def set_default_pipeline(*, membership: Membership, pipeline: Pipeline) -> Pipeline:
    """The pipeline the board opens with and new deals go to; exactly one is default."""
    require_admin(membership)
    if pipeline.is_archived:
        raise ValidationError(_("Restore the pipeline before making it the default."))
    Pipeline.objects.exclude(pk=pipeline.pk).update(is_default=False)
    Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True)
    pipeline.is_default = True
    record(membership, pipeline, "update", {"is_default": (False, True)})
    return pipeline


@transaction.atomic
def archive_pipeline(
    *, membership: Membership, pipeline: Pipeline, archived: bool = True
) -> Pipeline:
    """Take a pipeline off the board's switcher (or bring it back). Its deals, their history and
    timers are untouched: cards, the deal list and the reports still reach them."""
    require_admin(membership)
    if archived and pipeline.is_default:
        raise ValidationError(
            _("This is the default pipeline: make another one the default first.")
        )
    if not archived and pipeline.is_archived:
        limits.check_pipeline(membership.company)  # it takes a place on the plan again
    Pipeline.objects.filter(pk=pipeline.pk).update(is_archived=archived)
    pipeline.is_archived = archived
    record(membership, pipeline, "archive" if archived else "restore")
    return pipeline


def _check_stage(*, name: str, color: str, probability: int | None, outcome: str) -> None:
    errors: dict[str, str] = {}
    if not HEX_COLOUR.fullmatch(color or ""):
        errors["color"] = _("Choose a colour such as #2457d6.")
    if probability is None or not 0 <= probability <= 100:
        errors["probability"] = _("Probability is a whole number from 0 to 100.")
    if outcome not in Stage.Outcome.values:
        errors["outcome"] = _("Choose whether the stage is in progress, won or lost.")
    if errors:
        raise ValidationError(errors)


def _probability_for(outcome: str, probability: int) -> int:
    return Stage(outcome=outcome, probability=probability).forecast_percent


@transaction.atomic
def add_stage(
    *,
    membership: Membership,
    pipeline: Pipeline,
    name: str,
    color: str = "#2457d6",
    probability: int = 10,
    outcome: str = Stage.Outcome.OPEN,
) -> Stage:
    """A stage at the end of the stages in progress (before Won and Lost, as people expect)."""
    require_admin(membership)
    name = _clean_name(name, str(_("stage")))
    _check_stage(name=name, color=color, probability=probability, outcome=outcome)
    stages = list(live_stages(pipeline))
    open_count = sum(1 for s in stages if s.outcome == Stage.Outcome.OPEN)
    at = open_count if outcome == Stage.Outcome.OPEN else len(stages)
    stage = Stage(
        pipeline=pipeline,
        name=name,
        color=color,
        probability=_probability_for(outcome, probability),
        outcome=outcome,
    )
    stages.insert(at, stage)
    stage.position = at
    stage.save()
    _renumber(stages)
    record(membership, stage, "create", {"name": ("", name)})
    return stage


@transaction.atomic
def change_stage(
    *,
    membership: Membership,
    stage: Stage,
    name: str,
    color: str,
    probability: int,
    outcome: str,
) -> Stage:
    """Rename, recolour, re-weigh a stage. Its deals, their history, its rules and timers keep
    pointing at the same row, so they follow."""
    require_admin(membership)
    name = _clean_name(name, str(_("stage")))
    _check_stage(name=name, color=color, probability=probability, outcome=outcome)
    if outcome != stage.outcome and Deal.objects.filter(stage=stage).exists():
        # A deal's closed date and its timers depend on the outcome it was moved in with.
        raise ValidationError(
            {
                "outcome": _(
                    "Deals are at this stage: move them to another stage before changing "
                    "whether it is won or lost."
                )
            }
        )
    if outcome != Stage.Outcome.OPEN and stage.outcome == Stage.Outcome.OPEN:
        _keep_an_open_stage(stage)
    before = {f: getattr(stage, f) for f in ("name", "color", "probability", "outcome")}
    stage.name, stage.color, stage.outcome = name, color, outcome
    stage.probability = _probability_for(outcome, probability)
    stage.save(update_fields=["name", "color", "probability", "outcome"])
    changes = {f: (v, getattr(stage, f)) for f, v in before.items() if v != getattr(stage, f)}
    if changes:
        record(membership, stage, "update", changes)
    return stage


def _keep_an_open_stage(stage: Stage) -> None:
    others = live_stages(stage.pipeline).filter(outcome=Stage.Outcome.OPEN).exclude(pk=stage.pk)
    if not others.exists():
        raise ValidationError(_("A pipeline needs at least one stage in progress."))


def _renumber(stages: Sequence[Stage]) -> None:
    for index, stage in enumerate(stages):
        stage.position = index
    Stage.objects.bulk_update(stages, ["position"])


@transaction.atomic
def reorder_stages(
    *, membership: Membership, pipeline: Pipeline, stage_ids: Sequence[int]
) -> list[Stage]:
    """Put the pipeline's stages in the given order (every live stage named exactly once)."""
    require_admin(membership)
    stages = {s.pk: s for s in live_stages(pipeline).select_for_update()}
    if sorted(stage_ids) != sorted(stages):
        raise ValidationError(
            _("The stages changed while you were editing: reload the page and try again.")
        )
    ordered = [stages[pk] for pk in stage_ids]
    before = [s.name for s in sorted(stages.values(), key=lambda s: (s.position, s.pk))]
    _renumber(ordered)
    after = [s.name for s in ordered]
    if before != after:
        record(membership, pipeline, "reorder", {"stages": (before, after)})
    return ordered


def move_stage(*, membership: Membership, stage: Stage, step: int) -> list[Stage]:
    """One place left (``step=-1``) or right (``+1``): the editor's buttons for a keyboard."""
    ids = list(live_stages(stage.pipeline).values_list("pk", flat=True))
    at = ids.index(stage.pk)
    to = max(0, min(len(ids) - 1, at + step))
    ids.insert(to, ids.pop(at))
    return reorder_stages(membership=membership, pipeline=stage.pipeline, stage_ids=ids)


@transaction.atomic
def delete_stage(
    *,
    membership: Membership,
    stage: Stage,
    move_to: Stage | None = None,
    lost_reason: str = "",
) -> bool:
    """Remove a stage from the pipeline; its deals go to ``move_to`` first.

    Each deal is moved as a person would move it (``move_deal``): its history gains the step
    out of the old stage, the old stage's timers go stale and the new stage's rules run. The
    stage row is then deleted if nothing ever pointed at it, otherwise archived so the deals'
    history keeps its name. Returns whether the row was deleted outright.
    """
    require_admin(membership)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if stage.outcome == Stage.Outcome.OPEN:
        _keep_an_open_stage(stage)
    deals = Deal.objects.filter(stage=stage).order_by("pk")
    if deals.exists():
        if move_to is None:
            raise ValidationError(
                {"move_to": _("Deals are at this stage: choose where to move them.")}
            )
        if (
            move_to.pk == stage.pk
            or move_to.pipeline_id != stage.pipeline_id
            or move_to.is_archived
        ):
            raise ValidationError({"move_to": _("Choose another stage of this pipeline.")})
        if move_to.outcome == Stage.Outcome.LOST and not lost_reason.strip():
            raise ValidationError({"lost_reason": _("Say why the deals were lost.")})
        for deal in deals.iterator(chunk_size=500):
            move_deal(membership=membership, deal=deal, stage=move_to, lost_reason=lost_reason)
    record(membership, stage, "delete", {"name": (stage.name, "")})
    used = StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists()
    if used:
        # Its rules stay as they were: no deal can enter an archived stage, so they never fire.
        Stage.objects.filter(pk=stage.pk).update(is_archived=True)
    else:
        stage.delete()
    _renumber(list(live_stages(stage.pipeline)))
    return not used
