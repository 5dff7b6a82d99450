"""The wizard's step for another CRM's names: the pipelines, stages and people its export has
that the company has not, mapped by the person (see importing/switching.py for how the
import then reads the choices)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core.models import Pipeline, Stage
from onboarding.importing.switching import CREATE, DEFAULT, ME, SKIP
from onboarding.models import ImportBatch
from onboarding.services import imports, setup
from tenants.models import Membership
from tenants.services import team


@dataclass
class Question:
    """One name of the file to map: its index on the page, the name, its rows, the choices."""

    index: int
    name: str
    rows: int
    choices: list[tuple[str, str]]
    pipeline: str = ""  # a stage's pipeline as the file names it


@dataclass
class Questions:
    pipelines: list[Question] = field(default_factory=list)
    stages: list[Question] = field(default_factory=list)
    owners: list[Question] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.pipelines or self.stages or self.owners)


def _members(membership: Membership) -> list[tuple[str, str]]:
    members = (
        Membership.objects.filter(company_id=membership.company_id, is_active=True)
        .exclude(role=Membership.Role.READ_ONLY)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    return [(str(m.user_id), f"{m.user.get_full_name()} ({m.user.email})") for m in members]


def questions(batch: ImportBatch, membership: Membership) -> Questions:
    """What the preview found no match for, with the company's own choices for each."""
    unmatched = batch.unmatched or {}
    pipelines = list(Pipeline.objects.filter(is_archived=False).order_by("position", "id"))
    stages = Stage.objects.filter(is_archived=False, pipeline__in=pipelines).select_related(
        "pipeline"
    )
    pipeline_choices = [
        (CREATE, _("Create this pipeline")),
        (DEFAULT, _("Put them in the default pipeline")),
        *((str(p.pk), _("Pipeline «%(name)s»") % {"name": p.name}) for p in pipelines),
    ]
    stage_choices = [
        (CREATE, _("Create this stage")),
        (SKIP, _("Skip these rows")),
        *((str(s.pk), f"{s.pipeline.name} → {s.name}") for s in stages),
    ]
    owner_choices = [(ME, _("Me (the person importing)")), *_members(membership)]
    found = Questions()
    for index, (name, rows) in enumerate(sorted(unmatched.get("pipelines", {}).items())):
        found.pipelines.append(Question(index, name, rows, pipeline_choices))
    for index, (key, rows) in enumerate(sorted(unmatched.get("stages", {}).items())):
        pipeline, _bar, stage = key.partition("|")
        found.stages.append(Question(index, stage, rows, stage_choices, pipeline=pipeline))
    for index, (name, rows) in enumerate(sorted(unmatched.get("owners", {}).items())):
        found.owners.append(Question(index, name, rows, owner_choices))
    return found


def choose(
    batch: ImportBatch,
    *,
    membership: Membership,
    posted: Any,
    link: team.LinkBuilder,
) -> tuple[ImportBatch, list[str]]:
    """Keep the person's choices in the batch's options and start its preview again; an
    e-mail given for an unknown person invites them (the team's own invitation: seats, roles,
    the e-mail). Returns the batch and who was invited.

    Raises ValidationError (nothing kept) for a choice that is not the company's."""
    setup.require_admin(membership)
    asked = questions(batch, membership)
    options = dict(batch.options or {})
    pipelines = dict(options.get("pipelines") or {})
    stages = dict(options.get("stages") or {})
    owners = dict(options.get("owners") or {})
    # name → the e-mail invited for it: the records wait for that person (see owners.py).
    awaiting = dict(options.get("owner_invites") or {})
    invited: list[str] = []
    for question in asked.pipelines:
        value = _valid(posted.get(f"pipeline_{question.index}", CREATE), question)
        pipelines[question.name] = value
    for question in asked.stages:
        value = _valid(posted.get(f"stage_{question.index}", CREATE), question)
        stages[f"{question.pipeline}|{question.name}"] = value
    invites = []
    for question in asked.owners:
        value = _valid(posted.get(f"owner_{question.index}", ME), question)
        email = (posted.get(f"invite_{question.index}") or "").strip()
        awaiting.pop(question.name, None)
        if email and value == ME:
            invites.append((question.name, email))
        owners[question.name] = value
    for name, email in invites:
        try:
            invitation = setup.invite(
                membership, email=email, role=Membership.Role.MANAGER, link=link
            )
        except team.TeamError as exc:
            raise ValidationError(exc.messages) from exc
        invited.append(invitation.email)
        awaiting[name] = invitation.email
    options.update(pipelines=pipelines, stages=stages, owners=owners, owner_invites=awaiting)
    batch = imports.remap(
        batch,
        mapping=batch.mapping,
        sheet=batch.sheet,
        header_row=batch.header_row or 0,
        options=options,
    )
    return batch, invited


def _valid(value: str, question: Question) -> str:
    if value not in {key for key, _label in question.choices}:
        raise ValidationError(
            _("«%(value)s» is not one of the choices for «%(name)s».")
            % {"value": value, "name": question.name}
        )
    return value
