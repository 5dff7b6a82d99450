"""The company's pipelines, stages and members, as another CRM's export names them.

An export says «Переговоры» in «Воронка 2» and «Иван Петров» where Relata has stage and
pipeline rows and members. Names are matched case- and spacing-insensitively; what does not
match is counted (the wizard lists it with the number of rows, for the person to map) and
handled as the person chose in the batch's options:

    options["pipelines"][name] = "<pipeline id>" | "create" | "default"
    options["stages"]["<pipeline name>|<stage name>"] = "<stage id>" | "create" | "skip"
    options["owners"][name] = "<user id>" | "me"
    options["owner_invites"][name] = "<e-mail>"  (with "me": invited on the preview)

Without a choice an unknown pipeline or stage is created (nothing from the file is lost, and
the preview said so) and an unknown person's records go to whoever runs the import — until
the person invited for that name joins (the import remembers which records await whom:
onboarding/services/owners.py hands them over).
Everything here is the current company's: its schema's pipelines and stages, and members of
the company it is given — never another company's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import override

from crm_core.models import Pipeline, Stage
from crm_core.services import limits
from onboarding.importing.switchrows import normal, outcome_of
from onboarding.models import ImportBatch, ImportedRecord
from tenants.models import Company, Membership

CREATE, SKIP, DEFAULT, ME = "create", "skip", "default", "me"
SKIPPED = object()  # a stage whose rows the person chose to leave out
_NEW_STAGE_COLOUR = "#6b7585"


@dataclass
class Found:
    """A stage for a deal, and what to say about it in the row's reason ("" when nothing)."""

    stage: Stage | None
    flag: str = ""
    skipped: bool = False


@dataclass
class Unmatched:
    """Names the company has no pipeline, stage or member for, with their rows' count."""

    pipelines: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)  # "<pipeline>|<stage>"
    owners: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, dict[str, int]]:
        return {
            "pipelines": dict(self.pipelines),
            "stages": dict(self.stages),
            "owners": dict(self.owners),
        }


def stage_key(pipeline: str, stage: str) -> str:
    return f"{normal(pipeline)}|{normal(stage)}"


def person_keys(name: str) -> tuple[str, str]:
    """A full name as matched: as written, and its words in order ("Петров Иван" is "Иван
    Петров")."""
    key = normal(name)
    return key, " ".join(sorted(key.split()))


class Directory:
    """Looks names up for one import run (see the module's text)."""

    def __init__(
        self,
        batch: ImportBatch,
        *,
        company: Company | None,
        options: dict[str, Any],
    ) -> None:
        self.batch = batch
        self.company = company
        self.dry_run = batch.dry_run
        self.unmatched = Unmatched()
        self.pipeline_choices = {normal(k): v for k, v in (options.get("pipelines") or {}).items()}
        self.stage_choices = {
            stage_key(*k.split("|", 1)): v
            for k, v in (options.get("stages") or {}).items()
            if "|" in k
        }
        self.owner_choices = {normal(k): v for k, v in (options.get("owners") or {}).items()}
        self.awaiting = {
            normal(k): str(v).lower() for k, v in (options.get("owner_invites") or {}).items()
        }
        self._stage_shown: dict[str, str] = {}
        self._load_pipelines()
        self._load_members()

    # ---------------------------------------------------------------- loading

    def _load_pipelines(self) -> None:
        pipelines = list(Pipeline.objects.filter(is_archived=False).order_by("position", "id"))
        self.pipelines = {p.pk: p for p in pipelines}
        self.pipeline_by_name: dict[str, Pipeline] = {}
        for pipeline in pipelines:
            self.pipeline_by_name.setdefault(normal(pipeline.name), pipeline)
        self.default = next((p for p in pipelines if p.is_default), None) or (
            pipelines[0] if pipelines else None
        )
        self.stages: dict[int, Stage] = {}
        self.stage_by_name: dict[tuple[int, str], Stage] = {}
        self.first_open: dict[int, Stage] = {}
        self.final: dict[tuple[int, str], Stage] = {}
        for stage in Stage.objects.filter(is_archived=False, pipeline__in=pipelines).order_by(
            "pipeline_id", "position", "id"
        ):
            self._know(stage)
        self.planned: set[tuple[int, str]] = set()  # stages a preview would create
        self.planned_pipelines: set[str] = set()

    def _know(self, stage: Stage) -> None:
        self.stages[stage.pk] = stage
        self.stage_by_name.setdefault((stage.pipeline_id, normal(stage.name)), stage)
        if stage.outcome == Stage.Outcome.OPEN:
            self.first_open.setdefault(stage.pipeline_id, stage)
        else:
            self.final.setdefault((stage.pipeline_id, stage.outcome), stage)

    def _load_members(self) -> None:
        """The company's active members by e-mail and by full name (only this company's)."""
        self.members: dict[int, str] = {}
        self.member_by_key: dict[str, int] = {}
        if self.company is None:
            return
        memberships = Membership.objects.filter(
            company=self.company, is_active=True
        ).select_related("user")
        for membership in memberships:
            user = membership.user
            self.members[user.pk] = user.get_full_name() or user.email
            self.member_by_key.setdefault(user.email.lower(), user.pk)
            if user.full_name:
                for key in person_keys(user.full_name):
                    self.member_by_key.setdefault(key, user.pk)

    # ---------------------------------------------------------------- members

    def member(  # noqa: PLR0911 - one return per way a person is found
        self, raw: str, *, count: bool = True
    ) -> tuple[int | None, bool]:
        """(user id, matched) for a responsible person or an author named in the file: a
        member by e-mail or full name, the person's choice for an unknown name, else the one
        who runs the import (matched False: counted, and said in the row)."""
        name = raw.strip()
        if not name:
            return self.batch.created_by_id, True
        lowered = name.lower()
        if lowered in self.member_by_key:
            return self.member_by_key[lowered], True
        for key in person_keys(name):
            if key in self.member_by_key:
                return self.member_by_key[key], True
        chosen = self.owner_choices.get(normal(name))
        if chosen and chosen != ME and str(chosen).isdigit() and int(chosen) in self.members:
            return int(chosen), True
        if chosen == ME:
            invited = self.awaiting.get(normal(name))
            if invited and invited in self.member_by_key:  # joined since the preview
                return self.member_by_key[invited], True
            return self.batch.created_by_id, True
        if count:
            self.unmatched.owners[name] += 1
        return self.batch.created_by_id, False

    def awaits(self, raw: str) -> str:
        """The e-mail of the person invited for a name the file gives (the records are the
        importer's until they join), or "" when the name is nobody's invitation or a member's."""
        if not self.awaiting:
            return ""
        name = raw.strip()
        invited = self.awaiting.get(normal(name), "")
        if not invited or invited in self.member_by_key or name.lower() in self.member_by_key:
            return ""
        if any(key in self.member_by_key for key in person_keys(name)):
            return ""
        return invited

    # ---------------------------------------------------------------- pipelines and stages

    def pipeline(self, raw: str) -> tuple[Pipeline | None, str]:
        """The pipeline a deal goes to, and what to say about it."""
        name = raw.strip()
        if not name:
            return self.default, ""
        found = self.pipeline_by_name.get(normal(name))
        if found is not None:
            return found, ""
        chosen = str(self.pipeline_choices.get(normal(name), ""))
        if chosen.isdigit() and int(chosen) in self.pipelines:
            return self.pipelines[int(chosen)], ""
        if chosen == DEFAULT:
            return self.default, ""
        if not chosen:
            self.unmatched.pipelines[name] += 1
        return self._new_pipeline(name)

    def _new_pipeline(self, name: str) -> tuple[Pipeline | None, str]:
        made = _("A new pipeline «%(name)s» for it (none of that name).") % {"name": name}
        if self.dry_run:
            self.planned_pipelines.add(normal(name))
            return None, made  # planned: its deals are counted as they would be
        try:
            if self.company is not None:
                limits.check_pipeline(self.company)
        except limits.PlanLimitReachedError as exc:  # the deal goes to the default pipeline
            message = " ".join(exc.messages)
            return self.default, _(
                "Pipeline «%(name)s» cannot be created (%(reason)s): the deal is put in the "
                "default pipeline."
            ) % {"name": name, "reason": message}
        last = Pipeline.objects.order_by("-position").values_list("position", flat=True).first()
        pipeline = Pipeline.objects.create(name=name[:200], position=(last or 0) + 1)
        language = self.company.language if self.company else None
        with override(language):
            finals = [
                (_("Won"), 100, "#2b8a3e", Stage.Outcome.WON),
                (_("Lost"), 0, "#b42318", Stage.Outcome.LOST),
            ]
        stages = Stage.objects.bulk_create(
            Stage(
                pipeline=pipeline,
                name=title,
                position=100 + index,
                probability=probability,
                color=colour,
                outcome=outcome,
            )
            for index, (title, probability, colour, outcome) in enumerate(finals)
        )
        self._record("pipeline", pipeline.pk)
        for stage in stages:
            self._record("stage", stage.pk)
            self._know(stage)
        self.pipelines[pipeline.pk] = pipeline
        self.pipeline_by_name[normal(name)] = pipeline
        return pipeline, made

    def stage(  # noqa: PLR0911 - one return per way a stage is found
        self, pipeline: Pipeline | None, pipeline_name: str, raw: str, outcome: str
    ) -> Found:
        """The stage of `pipeline` a deal goes to (`outcome`: "won"/"lost" from the file)."""
        name = raw.strip()
        if pipeline is None:  # a pipeline a preview would create: its stages would be too
            return Found(None)
        if outcome and (not name or outcome_of(name)):
            final = self.final.get((pipeline.pk, outcome))
            if final is not None:
                return Found(final)
        if not name:
            first = self.first_open.get(pipeline.pk)
            return (
                Found(first)
                if first is not None
                else self._new_stage(pipeline, _("No stage in the file"))
            )
        found = self.stage_by_name.get((pipeline.pk, normal(name)))
        if found is not None:
            return Found(found)
        key = stage_key(pipeline_name or pipeline.name, name)
        chosen = str(self.stage_choices.get(key, ""))
        if chosen == SKIP:
            return Found(
                None,
                _("Stage «%(stage)s» is skipped, as chosen: the row is left out.")
                % {"stage": name},
                skipped=True,
            )
        if chosen.isdigit() and int(chosen) in self.stages:
            return Found(self.stages[int(chosen)])
        if not chosen:
            # Listed as the file first spells it ("Воронка|Переговоры"); chosen by its key.
            shown = self._stage_shown.setdefault(key, f"{pipeline_name or pipeline.name}|{name}")
            self.unmatched.stages[shown] += 1
        if outcome:
            final = self.final.get((pipeline.pk, outcome))
            if final is not None:
                return Found(final)
        return self._new_stage(pipeline, name)

    def skipped(self, pipeline_name: str, stage_name: str) -> str:
        """Why a deal row is left out, when the person chose to skip its stage's rows."""
        if not stage_name.strip():
            return ""
        pipeline = self.pipeline_by_name.get(normal(pipeline_name)) if pipeline_name else None
        key = stage_key(pipeline_name or (self.default.name if self.default else ""), stage_name)
        if pipeline is None and pipeline_name.strip() == "" and self.default is not None:
            pipeline = self.default
        if pipeline is not None and (pipeline.pk, normal(stage_name)) in self.stage_by_name:
            return ""
        if self.stage_choices.get(key) != SKIP:
            return ""
        return _("Stage «%(stage)s» is skipped, as chosen: the row is left out.") % {
            "stage": stage_name.strip()
        }

    def _new_stage(self, pipeline: Pipeline, name: str) -> Found:
        made = _("A new stage «%(stage)s» in «%(pipeline)s» (none of that name).") % {
            "stage": name,
            "pipeline": pipeline.name,
        }
        if self.dry_run:
            self.planned.add((pipeline.pk, normal(name)))
            return Found(self.first_open.get(pipeline.pk), made)
        # A new open stage goes after the pipeline's open ones, before won and lost.
        open_positions = [
            s.position
            for s in self.stages.values()
            if s.pipeline_id == pipeline.pk and s.outcome == Stage.Outcome.OPEN
        ]
        position = max(open_positions, default=-1) + 1
        # Won and lost stay the last columns of the board: moved one place on.
        Stage.objects.filter(pipeline=pipeline, position__gte=position).exclude(
            outcome=Stage.Outcome.OPEN
        ).update(position=F("position") + 1)
        stage = Stage.objects.create(
            pipeline=pipeline, name=name[:200], position=position, color=_NEW_STAGE_COLOUR
        )
        self._record("stage", stage.pk)
        self._know(stage)
        return Found(stage, made)

    def _record(self, entity: str, pk: int) -> None:
        """What the run created beyond its rows, kept for undo at once: a stage is made
        outside the chunk's transaction (a resumed run finds it by its name)."""
        ImportedRecord.objects.create(
            batch=self.batch,
            entity=entity,
            record_id=pk,
            action=ImportedRecord.Action.CREATED,
        )
