"""Deals: creating them and moving them through the pipeline."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core import signals
from crm_core.access import require_write
from crm_core.models import (
    Activity,
    AuditEntry,
    Client,
    Contact,
    Deal,
    Pipeline,
    Stage,
    StageChange,
)
from crm_core.queries.clients import visible_clients
from crm_core.queries.rates import base_currency
from crm_core.services.audit import record
from crm_core.services.tasks import close_deals_tasks
from tenants.models import Membership


class StaleRecordError(ValidationError):
    """Someone else saved the record after this person opened it."""


@transaction.atomic
def create_deal(
    *,
    membership: Membership,
    title: str,
    pipeline: Pipeline,
    stage: Stage | None = None,
    client: Client | None = None,
    amount: Decimal = Decimal(0),
    source: str = "",
    currency: str = "",
) -> Deal:
    """A new deal in the pipeline's first stage (or ``stage``), in ``currency`` or, when none
    is given, the company's base currency."""
    require_write(membership)
    stage = stage or pipeline.stages.filter(is_archived=False).order_by("position", "id").first()
    if stage is None or stage.pipeline_id != pipeline.pk or stage.is_archived:
        raise ValidationError(_("Choose a stage of this pipeline."), code="wrong_pipeline")
    deal = Deal.objects.create(
        title=title.strip(),
        pipeline=pipeline,
        stage=stage,
        client=client,
        amount=amount,
        currency=currency or base_currency(),
        source=source,
        responsible=membership.user,
        created_by=membership.user,
    )
    StageChange.objects.create(
        deal=deal, from_stage=None, to_stage=stage, changed_by=membership.user
    )
    signals.deal_created.send(Deal, deal=deal, membership=membership)
    return deal


@transaction.atomic
def move_deal(
    *,
    membership: Membership,
    deal: Deal,
    stage: Stage,
    version: int | None = None,
    lost_reason: str = "",
    close_tasks: bool = False,
) -> Deal:
    """Move a deal to ``stage`` of its pipeline. ``version`` is what the person saw: if the deal
    changed since, the move is refused instead of silently overwriting someone else's work.
    A deal is lost only with a reason (the reports of why deals are lost depend on it).

    Closing a deal (a won or lost stage) always stops its timers (the ``deal_moved`` receivers
    in automation do that inside this transaction); with ``close_tasks`` its open tasks are
    completed too, so nobody is reminded to call about a deal that is over."""
    require_write(membership)
    if stage.outcome == Stage.Outcome.LOST and not lost_reason.strip():
        raise ValidationError(_("Say why the deal was lost."), code="lost_reason")
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError(
            _("A deal can only move to a stage of its own pipeline."), code="wrong_pipeline"
        )
    if stage.is_archived:
        # A deleted stage (kept only for the history's sake) takes no deals.
        raise ValidationError(_("Choose another stage of this pipeline."), code="archived_stage")
    current = Deal.objects.select_for_update().get(pk=deal.pk)
    if version is not None and current.version != version:
        raise StaleRecordError(
            _("This deal was changed by someone else a moment ago. Reload it and try again."),
            code="stale",
        )
    if current.stage_id == stage.pk:
        return current
    now = timezone.now()
    StageChange.objects.create(
        deal=current,
        from_stage_id=current.stage_id,
        to_stage=stage,
        seconds_in_previous=int((now - current.stage_entered_at).total_seconds()),
        changed_by=membership.user,
        changed_at=now,
    )
    previous = current.stage
    Deal.objects.filter(pk=current.pk).update(
        stage=stage,
        stage_entered_at=now,
        closed_at=now if stage.outcome != Stage.Outcome.OPEN else None,
        lost_reason=lost_reason.strip()[:300] if stage.outcome == Stage.Outcome.LOST else "",
        version=F("version") + 1,
        updated_at=now,
    )
    Activity.objects.create(
        kind=Activity.Kind.STAGE,
        deal=current,
        client_id=current.client_id,
        author=membership.user,
        summary=f"{previous.name} → {stage.name}"
        + (f": {lost_reason.strip()[:200]}" if stage.outcome == Stage.Outcome.LOST else ""),
        happened_at=now,
    )
    current.refresh_from_db()
    if close_tasks and stage.outcome != Stage.Outcome.OPEN:
        close_deals_tasks(membership=membership, deal_ids=[current.pk])
    changes = {"stage": (previous.name, stage.name)}
    if current.lost_reason:
        changes["lost_reason"] = ("", current.lost_reason)
    record(membership, current, "move", changes)
    signals.deal_moved.send(
        Deal, deal=current, from_stage=previous, to_stage=stage, membership=membership
    )
    return current


@transaction.atomic
def log_call(
    *, membership: Membership, deal: Deal, result: str, kind: str = Activity.Kind.CALL
) -> Activity:
    """The result of a call or meeting, written on the deal card."""
    require_write(membership)
    if not result.strip():
        raise ValidationError(_("Write what came of it."), code="required")
    return Activity.objects.create(
        kind=kind,
        deal=deal,
        client_id=deal.client_id,
        author=membership.user,
        summary=result.strip()[:300],
        body=result.strip(),
    )


EDITABLE = (
    "title",
    "amount",
    "currency",
    "expected_close",
    "source",
    "tags",
    "custom",
    "responsible_id",
    "client_id",
)


@transaction.atomic
def update_deal(*, membership: Membership, deal: Deal, version: int, **fields: object) -> Deal:
    """Save the deal's fields if nobody else saved it since ``version`` was read; otherwise
    refuse, so the second of two people editing at once never overwrites the first."""
    require_write(membership)
    current = Deal.objects.select_for_update().get(pk=deal.pk)
    if current.version != version:
        raise StaleRecordError(
            _("This deal was changed by someone else a moment ago. Reload it and try again."),
            code="stale",
        )
    given = fields.get("tags")
    if isinstance(given, list):  # trimmed, no empty ones, each once, in order
        tags = (str(t).strip()[:50] for t in given)
        fields["tags"] = list(dict.fromkeys(t for t in tags if t))
    changes = {
        name: (getattr(current, name), value)
        for name, value in fields.items()
        if name in EDITABLE and getattr(current, name) != value
    }
    new_client = changes.get("client_id", (None, None))[1]
    # A deal's client is one the person sees: no attaching a deal to a stranger's client.
    seen = visible_clients(membership)
    if isinstance(new_client, int) and not seen.filter(pk=new_client).exists():
        raise ValidationError(_("Choose a client from the list."), code="client")
    for name, (_old, new) in changes.items():
        setattr(current, name, new)
    if "client_id" in changes:
        # The deal's contact persons are its client's: those of the former client leave it.
        own = current.contacts.filter(client__isnull=False, client=current.client_id)
        kept = set(own.values_list("pk", flat=True))
        before = set(current.contacts.values_list("pk", flat=True))
        if kept != before:
            current.contacts.set(kept)
            changes["contacts"] = (sorted(before), sorted(kept))
    people = fields.get("contact_ids")
    if isinstance(people, list):
        before = set(current.contacts.values_list("pk", flat=True))
        # Only the client's own contact persons can be on the deal.
        allowed = (
            set(
                Contact.objects.filter(client_id=current.client_id, pk__in=people).values_list(
                    "pk", flat=True
                )
            )
            if current.client_id
            else set()
        )
        if allowed != before:
            current.contacts.set(allowed)
            changes["contacts"] = (sorted(before), sorted(allowed))
    if not changes:
        return current
    current.version += 1
    current.save(update_fields=[*(c for c in changes if c != "contacts"), "version", "updated_at"])
    record(membership, current, "update", changes)
    signals.deal_changed.send(Deal, deal=current, changes=changes, membership=membership)
    return current


# The call results the card offers as one-click buttons (the comment is optional).
CALL_RESULTS = {
    "reached": gettext_lazy("Reached"),
    "no_answer": gettext_lazy("No answer"),
    "busy": gettext_lazy("Busy"),
    "call_back": gettext_lazy("Asked to call back"),
}


def call_result_label(result: str) -> str:
    return str(CALL_RESULTS[result])


def call_result_text(result: str, comment: str = "") -> str:
    """How a call logged with one click reads in the feed: its result, then what was said."""
    if result not in CALL_RESULTS:
        raise ValidationError(_("Choose how the call went."), code="result")
    text = str(CALL_RESULTS[result])
    if comment.strip():
        text = f"{text}: {comment.strip()}"
    return text


def log_call_result(
    *, membership: Membership, deal: Deal, result: str, comment: str = ""
) -> Activity:
    """A call logged with one click: its result, and what was said if the person wrote it."""
    text = call_result_text(result, comment)
    return log_call(membership=membership, deal=deal, result=text, kind=Activity.Kind.CALL)


def move_deals(
    *,
    membership: Membership,
    deal_ids: list[int],
    stage: Stage,
    lost_reason: str = "",
    close_tasks: bool = False,
) -> int:
    """``move_deal`` for many deals at once, with the same effects written set-based: a stage
    history row, a timeline entry and an audit entry per deal, one UPDATE for the deals, and
    one ``deals_moved`` announcement for the rules, timers and webhooks (whose receivers do
    per deal what ``deal_moved``'s do). Deals of another pipeline, or already at ``stage``,
    are left alone. With ``close_tasks`` (a won or lost stage) the moved deals' open tasks
    are completed too, set-based. Runs in the caller's transaction (a bulk job's chunk);
    returns how many moved. Per-deal ``move_deal`` calls cost ~60 ms each here — 100,000
    deals would take hours (docs/decisions.md)."""
    require_write(membership)
    reason = lost_reason.strip()
    if stage.outcome == Stage.Outcome.LOST and not reason:
        raise ValidationError(_("Say why the deal was lost."), code="lost_reason")
    now = timezone.now()
    rows = list(
        Deal.objects.select_for_update()
        .filter(pk__in=deal_ids, pipeline_id=stage.pipeline_id)
        .exclude(stage=stage)
        .order_by("pk")
        .values_list("pk", "stage_id", "stage_entered_at", "client_id")
    )
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    names = dict(Stage.objects.filter(pk__in={row[1] for row in rows}).values_list("pk", "name"))
    lost = stage.outcome == Stage.Outcome.LOST
    StageChange.objects.bulk_create(
        StageChange(
            deal_id=pk,
            from_stage_id=from_id,
            to_stage=stage,
            seconds_in_previous=max(0, int((now - entered).total_seconds())),
            changed_by=membership.user,
            changed_at=now,
        )
        for pk, from_id, entered, _client in rows
    )
    Deal.objects.filter(pk__in=ids).update(
        stage=stage,
        stage_entered_at=now,
        closed_at=now if stage.outcome != Stage.Outcome.OPEN else None,
        lost_reason=reason[:300] if lost else "",
        version=F("version") + 1,
        updated_at=now,
    )
    suffix = f": {reason[:200]}" if lost else ""
    Activity.objects.bulk_create(
        Activity(
            kind=Activity.Kind.STAGE,
            deal_id=pk,
            client_id=client_id,
            author=membership.user,
            summary=f"{names.get(from_id, '')} → {stage.name}{suffix}"[:300],
            happened_at=now,
        )
        for pk, from_id, _entered, client_id in rows
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            object_type="deal",
            object_id=pk,
            action="move",
            changes={"stage": [names.get(from_id, ""), stage.name]}
            | ({"lost_reason": ["", reason[:300]]} if lost else {}),
            actor=membership.user,
            at=now,
        )
        for pk, from_id, _entered, _client in rows
    )
    stages = Stage.objects.in_bulk({row[1] for row in rows})
    signals.deals_moved.send(
        Deal,
        deals=list(Deal.objects.filter(pk__in=ids).order_by("pk")),
        from_stages={pk: stages[from_id] for pk, from_id, _e, _c in rows},
        to_stage=stage,
        membership=membership,
    )
    if close_tasks and stage.outcome != Stage.Outcome.OPEN:
        close_deals_tasks(membership=membership, deal_ids=ids)
    return len(rows)
