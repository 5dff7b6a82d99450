"""Bulk actions on a selection of a list, done in the background in chunks.

``start_bulk_job`` checks the request and writes the job row (the source of truth);
``run_bulk_job`` (called by the Celery task) works through the selection in id order, one
transaction per chunk that also moves the job's checkpoint — so a killed worker resumes after
the last committed chunk and a second delivery of the task does nothing twice. Each chunk
re-reads the selection through the person's visibility as it is then (``queries.lists``):
records they lost since, or never could change, are not touched, whatever ids the job holds.

Stage changes go through ``move_deal`` for every deal (stage history, the timeline, the audit
entry, stage rules, SLA timers and webhooks — the same effects as a move on the board — and,
when asked, the open tasks of the deals won or lost closed);
reassigning and tags are set-based updates with one audit entry per record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core import signals
from crm_core.access import require_write
from crm_core.exports import xlsx_file
from crm_core.models import (
    AuditEntry,
    BulkJob,
    Client,
    Contact,
    Deal,
    Notification,
    Stage,
    Task,
)
from crm_core.queries.lists import matching, selection
from crm_core.queries.sheets import SHEETS
from crm_core.services.deals import move_deals
from crm_core.services.tasks import TaskTarget, complete_task, create_tasks
from tenants.models import Company, Membership

CHUNK = 1000
# A running job whose worker has not written for this long is taken over by the next delivery.
STALE_AFTER = dt.timedelta(minutes=2)
EXPORT_LIMIT = 1_000_000

ACTIONS: dict[str, Any] = {
    "reassign": gettext_lazy("Change the manager"),
    "stage": gettext_lazy("Move to a stage"),
    "tag_add": gettext_lazy("Add a tag"),
    "tag_remove": gettext_lazy("Remove a tag"),
    "task": gettext_lazy("Create a task for each"),
    "done": gettext_lazy("Mark as done"),
    "postpone": gettext_lazy("Move the due date"),
    "export": gettext_lazy("Export to Excel"),
    "delete": gettext_lazy("Delete"),
}
BY_ENTITY = {
    "clients": ("reassign", "tag_add", "tag_remove", "task", "export", "delete"),
    "contacts": ("reassign", "export", "delete"),
    "deals": ("reassign", "stage", "tag_add", "tag_remove", "task", "export", "delete"),
    "tasks": ("reassign", "done", "postpone", "export", "delete"),
}
MODELS: dict[str, Any] = {
    "clients": Client,
    "contacts": Contact,
    "deals": Deal,
    "tasks": Task,
}

Handler = Callable[[Membership, BulkJob, list[int]], int]


@dataclass(frozen=True)
class OtherList:
    """A list of another part of the product that takes bulk actions through this machinery
    (customer service's tickets), registered by that part: crm_core imports none of it.

    ``actions``: action name → label; ``fields``: the inputs of the bulk bar (form fields, with
    the actions each serves), made for the acting member; ``clean``: an action's inputs checked
    and reduced to JSON (raises ValidationError); ``select``: what the member may change of the
    ticked ids or of all matching the list's query; ``handlers``: action → the work on a chunk
    of ids (returns how many were done)."""

    actions: dict[str, Any]
    fields: Callable[[Membership], dict[str, tuple[Any, tuple[str, ...]]]]
    clean: Callable[[Membership, str, dict[str, Any]], dict[str, Any]]
    select: Callable[[Membership, str, list[int], bool], Any]
    handlers: dict[str, Handler]


OTHER_LISTS: dict[str, OtherList] = {}


def register_list(entity: str, other: OtherList) -> None:
    OTHER_LISTS[entity] = other
    BY_ENTITY[entity] = tuple(other.actions)
    ACTIONS.update(other.actions)
    HANDLERS.update(other.handlers)


def _member(company_id: int, user_id: int | None) -> Membership | None:
    if user_id is None:
        return None
    return (
        Membership.objects.select_related("user", "company")
        .filter(company_id=company_id, user_id=user_id, is_active=True)
        .first()
    )


def _clean_params(
    membership: Membership, entity: str, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The action's inputs checked and reduced to JSON (the job stores them)."""
    if action == "reassign":
        target = params.get("responsible")
        if not target or _member(membership.company_id, int(target)) is None:
            raise ValidationError({"responsible": _("Choose a member of the company.")})
        return {"responsible": int(target)}
    if action == "stage":
        stage = params.get("stage")
        if not isinstance(stage, Stage):
            raise ValidationError({"stage": _("Choose a stage.")})
        reason = str(params.get("lost_reason") or "").strip()
        if stage.outcome == Stage.Outcome.LOST and not reason:
            raise ValidationError({"lost_reason": _("Say why the deals were lost.")})
        # Closing the deals may close their open tasks too (as on the card and the board).
        closing = stage.outcome != Stage.Outcome.OPEN and bool(params.get("close_tasks"))
        return {"stage": stage.pk, "lost_reason": reason[:300], "close_tasks": closing}
    if action in {"tag_add", "tag_remove"}:
        tag = str(params.get("tag") or "").strip()[:50]
        if not tag:
            raise ValidationError({"tag": _("Write the tag.")})
        return {"tag": tag}
    if action == "task":
        title = str(params.get("title") or "").strip()
        deadline = params.get("deadline")
        if not title:
            raise ValidationError({"title": _("Write what is to be done.")})
        if not isinstance(deadline, dt.datetime) or deadline < timezone.now():
            raise ValidationError({"deadline": _("The deadline is in the past.")})
        return {"title": title[:300], "deadline": deadline.isoformat()}
    if action == "postpone":
        days = params.get("shift_days")
        if not isinstance(days, int) or days == 0:
            raise ValidationError({"shift_days": _("Say by how many days to move the tasks.")})
        return {"days": days}
    return {}


@transaction.atomic
def start_bulk_job(
    *,
    membership: Membership,
    entity: str,
    action: str,
    query: str,
    ids: Iterable[int],
    all_matching: bool,
    params: dict[str, Any] | None = None,
) -> BulkJob:
    """Check the action and its inputs, count the selection, and write the job (the caller
    hands it to a worker after the commit). Nothing is changed yet."""
    if action not in BY_ENTITY.get(entity, ()):
        raise ValidationError(_("This action is not available for this list."), code="action")
    if action != "export":
        require_write(membership)
    chosen = list(ids)[:5000]
    if not all_matching and not chosen:
        raise ValidationError(_("Tick at least one row."), code="empty")
    if entity in OTHER_LISTS:
        cleaned = OTHER_LISTS[entity].clean(membership, action, params or {})
    else:
        cleaned = _clean_params(membership, entity, action, params or {})
    found = _selected(membership, entity, action, query, chosen, all_matching)
    total = found.count()
    if total == 0:
        raise ValidationError(_("None of the chosen records can be changed by you."), code="none")
    return BulkJob.objects.create(
        entity=entity,
        action=action,
        params=cleaned,
        query=query[:2000],
        ids=[] if all_matching else chosen,
        all_matching=all_matching,
        total=total,
        created_by=membership.user,
    )


def _selected(  # noqa: PLR0917  (the job's own fields, read back)
    membership: Membership,
    entity: str,
    action: str,
    query: str,
    ids: list[int],
    all_matching: bool,
) -> Any:
    if entity in OTHER_LISTS:
        return OTHER_LISTS[entity].select(membership, query, ids, all_matching)
    if action == "export":
        # Exporting needs only sight of the records, as the list's own export.
        listed = matching(membership, entity, query).records.order_by()
        return listed if all_matching else listed.filter(pk__in=ids)
    return selection(membership, entity, query, ids, all_matching=all_matching)


def preview_count(
    membership: Membership, entity: str, query: str, ids: Iterable[int], all_matching: bool
) -> int:
    """How many records the action would touch (for the confirmation before deleting)."""
    return _selected(membership, entity, "delete", query, list(ids)[:5000], all_matching).count()


def job_for(membership: Membership, job_id: int) -> BulkJob:
    """The member's own job (nobody watches or downloads another person's bulk action)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(BulkJob, pk=job_id, created_by_id=membership.user_id)


def _claim(job_id: int) -> bool:
    """Take the job for this worker: a waiting one, or a running one whose worker went quiet."""
    stale = timezone.now() - STALE_AFTER
    return bool(
        BulkJob.objects.filter(pk=job_id)
        .filter(
            Q(status=BulkJob.Status.PENDING)
            | Q(status=BulkJob.Status.RUNNING, heartbeat_at__lt=stale)
            | Q(status=BulkJob.Status.RUNNING, heartbeat_at__isnull=True)
        )
        .update(status=BulkJob.Status.RUNNING, heartbeat_at=Now())
    )


def run_bulk_job(job_id: int, *, company: Company) -> BulkJob | None:
    """Do the job from its checkpoint to the end. Idempotent: a finished job, or one another
    worker is running, is left alone; a resumed one continues after its last chunk."""
    if not _claim(job_id):
        return BulkJob.objects.filter(pk=job_id).first()
    job = BulkJob.objects.get(pk=job_id)
    membership = _member(company.pk, job.created_by_id)
    if membership is None:
        return _finish(job, error=_("The person who started it is no longer a member."))
    try:
        if job.action == "export":
            _export(job, membership)
        else:
            while _chunk(job_id, membership):
                pass
    except (ValidationError, PermissionDenied) as exc:
        return _finish(BulkJob.objects.get(pk=job_id), error="; ".join(_messages(exc)))
    return _finish(BulkJob.objects.get(pk=job_id))


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [_("You may not change these records.")]


def _chunk(job_id: int, membership: Membership) -> bool:
    """One chunk in one transaction with the checkpoint; False when nothing is left."""
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status != BulkJob.Status.RUNNING:
            return False
        found = _selected(membership, job.entity, job.action, job.query, job.ids, job.all_matching)
        ids = list(
            found.filter(pk__gt=job.last_id).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            return False
        done = HANDLERS[job.action](membership, job, ids)
        BulkJob.objects.filter(pk=job_id).update(
            last_id=ids[-1],
            done=F("done") + done,
            skipped=F("skipped") + len(ids) - done,
            heartbeat_at=Now(),
        )
    return True


def _finish(job: BulkJob, *, error: str = "") -> BulkJob:
    job.status = BulkJob.Status.FAILED if error else BulkJob.Status.DONE
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    if job.created_by_id:
        text = (
            _("Bulk action failed: %(error)s") % {"error": error}
            if error
            else _("Bulk action done: %(action)s, %(n)s records")
            % {"action": ACTIONS[job.action], "n": job.done}
        )
        from django.urls import reverse

        Notification.objects.create(
            user_id=job.created_by_id, text=text[:500], url=reverse("bulk_job", args=[job.pk])
        )
    return job


def _audit(
    membership: Membership, model: type[Any], ids: list[int], action: str, changes: dict[str, Any]
) -> None:
    name = model._meta.model_name or ""
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                object_type=name,
                object_id=pk,
                action=action,
                changes=changes,
                actor=membership.user,
            )
            for pk in ids
        ]
    )


def _reassign(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    model = MODELS[job.entity]
    if model is Task:
        return _reassign_tasks(membership, job, ids)
    target = job.params["responsible"]
    before = dict(
        model.objects.filter(pk__in=ids)
        .exclude(responsible_id=target)
        .values_list("pk", "responsible_id")
    )
    if not before:
        return len(ids)
    update: dict[str, Any] = {
        "responsible_id": target,
        "updated_at": Now(),
        "version": F("version") + 1,
    }
    model.objects.filter(pk__in=list(before)).update(**update)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                object_type=model._meta.model_name or "",
                object_id=pk,
                action="update",
                changes={"responsible_id": [old, target], "bulk job": [None, job.pk]},
                actor=membership.user,
            )
            for pk, old in before.items()
        ]
    )
    if model is Deal:
        signals.deals_changed.send(
            Deal,
            deals=list(Deal.objects.filter(pk__in=list(before)).order_by("pk")),
            changes={pk: {"responsible_id": (old, target)} for pk, old in before.items()},
            membership=membership,
        )
    elif model is Contact:
        signals.contacts_changed.send(
            Contact,
            contacts=list(Contact.objects.filter(pk__in=list(before)).order_by("pk")),
            membership=membership,
        )
    return len(ids)


def _reassign_tasks(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    """Tasks to another assignee, set-based, one audit entry and one notice per task moved
    (the new assignee learns of each, as from the task's own page)."""
    target = job.params["responsible"]
    before = dict(
        Task.objects.filter(pk__in=ids).exclude(assignee_id=target).values_list("pk", "assignee_id")
    )
    if not before:
        return len(ids)
    Task.objects.filter(pk__in=list(before)).update(assignee_id=target)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                object_type="task",
                object_id=pk,
                action="update",
                changes={"assignee_id": [old, target], "bulk job": [None, job.pk]},
                actor=membership.user,
            )
            for pk, old in before.items()
        ]
    )
    if target != membership.user_id:
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=target,
                    text=(_("New task for you: %(task)s") % {"task": title})[:500],
                    url=f"/tasks/{pk}/",
                )
                for pk, title in Task.objects.filter(pk__in=list(before)).values_list("pk", "title")
            ]
        )
    return len(ids)


def _done(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    """Each open task through ``complete_task``: the timeline entry, the audit entry, the next
    occurrence of a repeating task and the automation signal — as the task's own "Done"."""
    for task in Task.objects.filter(pk__in=ids, done_at__isnull=True).order_by("pk"):
        complete_task(membership=membership, task=task)
    return len(ids)


def _postpone(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    """Open tasks' deadlines moved by whole days, set-based; a reminder set "N minutes before"
    moves with its task, and reminders and overdue notices may fire again."""
    shift = dt.timedelta(days=job.params["days"])
    rows = Task.objects.filter(pk__in=ids, done_at__isnull=True)
    before = dict(rows.values_list("pk", "deadline"))
    rows.update(
        deadline=F("deadline") + shift,
        remind_at=F("remind_at") + shift,
        reminder_sent_at=None,
        overdue_notified_at=None,
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                object_type="task",
                object_id=pk,
                action="postpone",
                changes={
                    "deadline": [old.isoformat(), (old + shift).isoformat()],
                    "bulk job": [None, job.pk],
                },
                actor=membership.user,
            )
            for pk, old in before.items()
        ]
    )
    return len(before)


def _stage(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    """The chunk through ``move_deals``: the same history, timeline, audit, rules, timers and
    webhooks as a move on the board, written set-based. Deals of another pipeline than the
    stage's, or already there, are skipped (a deal moves only within its own pipeline)."""
    stage = Stage.objects.filter(pk=job.params["stage"]).first()
    if stage is None:
        raise ValidationError(_("The stage was deleted."))
    already = Deal.objects.filter(pk__in=ids, stage=stage).count()
    moved = move_deals(
        membership=membership,
        deal_ids=ids,
        stage=stage,
        lost_reason=job.params.get("lost_reason", ""),
        close_tasks=bool(job.params.get("close_tasks")),
    )
    return moved + already


def _tags(adding: bool) -> Callable[[Membership, BulkJob, list[int]], int]:
    def handler(membership: Membership, job: BulkJob, ids: list[int]) -> int:
        model = MODELS[job.entity]
        tag = job.params["tag"]
        rows = model.objects.filter(pk__in=ids)
        rows = rows.exclude(tags__contains=[tag]) if adding else rows.filter(tags__contains=[tag])
        changed = list(rows.values_list("pk", flat=True))
        function = "array_append" if adding else "array_remove"
        model.objects.filter(pk__in=changed).update(
            tags=Func(F("tags"), Value(tag), function=function),
            updated_at=Now(),
            version=F("version") + 1,
        )
        change = [None, tag] if adding else [tag, None]
        _audit(membership, model, changed, "update", {"tags": change, "bulk job": [None, job.pk]})
        return len(ids)

    return handler


def _task(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    """A task for each record of the chunk, for its manager (or the person, when nobody is
    responsible or the manager left), made set-based: one read of the chunk's records, one
    INSERT of its tasks (``create_tasks``). A task on a deal counts for its client too."""
    deadline = dt.datetime.fromisoformat(job.params["deadline"])
    is_deal = MODELS[job.entity] is Deal
    fields = ("pk", "responsible_id", "client_id") if is_deal else ("pk", "responsible_id")
    rows = MODELS[job.entity].objects.filter(pk__in=ids).order_by("pk").values_list(*fields)
    targets = [
        TaskTarget(
            deal_id=row[0] if is_deal else None,
            client_id=row[2] if is_deal else row[0],
            assignee_id=row[1] or membership.user_id,
        )
        for row in rows
    ]
    create_tasks(
        membership=membership,
        title=job.params["title"],
        deadline=max(deadline, timezone.now() + dt.timedelta(minutes=1)),
        targets=targets,
    )
    return len(ids)


def _delete(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    model = MODELS[job.entity]
    rows = list(model.objects.filter(pk__in=ids))
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                object_type=model._meta.model_name or "",
                object_id=row.pk,
                action="delete",
                changes={"name": [str(row), None], "bulk job": [None, job.pk]},
                actor=membership.user,
            )
            for row in rows
        ]
    )
    model.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def _export(job: BulkJob, membership: Membership) -> None:
    """The selection in one workbook, built again from the start if the worker died (the file
    is written once, at the end)."""
    listing = matching(membership, job.entity, job.query)
    records = listing.records if job.all_matching else listing.records.filter(pk__in=job.ids)
    headers, rows = SHEETS[job.entity](records, listing.fields)

    def counted() -> Any:
        for n, row in enumerate(rows, 1):
            if n % CHUNK == 0:
                BulkJob.objects.filter(pk=job.pk).update(done=n, heartbeat_at=Now())
            yield row

    output = xlsx_file(str(ACTIONS["export"]), headers, counted(), limit=EXPORT_LIMIT)
    with output:
        job.file.save(f"{job.entity}-{job.pk}.xlsx", File(output), save=False)
    BulkJob.objects.filter(pk=job.pk).update(file=job.file.name, done=job.total)


HANDLERS: dict[str, Handler] = {
    "reassign": _reassign,
    "stage": _stage,
    "tag_add": _tags(adding=True),
    "tag_remove": _tags(adding=False),
    "task": _task,
    "delete": _delete,
    "done": _done,
    "postpone": _postpone,
}
