"""Tasks with deadlines: creating and completing them."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.access import require_write
from crm_core.models import Activity, Deal, Task
from crm_core.services.audit import record
from tenants.models import Membership, User


@transaction.atomic
def create_task(
    *,
    membership: Membership,
    title: str,
    deadline: datetime,
    assignee: User | None = None,
    deal: Deal | None = None,
    kind: str = Task.Kind.CALL,
) -> Task:
    require_write(membership)
    if (
        assignee is not None
        and not Membership.objects.filter(
            company_id=membership.company_id, user=assignee, is_active=True
        ).exists()
    ):
        raise ValidationError(
            _("Tasks can be given only to members of the company."), code="assignee"
        )
    if deadline < timezone.now():
        raise ValidationError(_("The deadline is in the past."), code="past_deadline")
    task = Task.objects.create(
        title=title.strip(),
        kind=kind,
        deadline=deadline,
        assignee=assignee or membership.user,
        deal=deal,
        client_id=deal.client_id if deal else None,
        created_by=membership.user,
    )
    record(
        membership,
        task,
        "create",
        {"title": (None, task.title), "assignee": (None, task.assignee_id)},
    )
    signals.task_created.send(Task, task=task, membership=membership)
    return task


@transaction.atomic
def complete_task(*, membership: Membership, task: Task) -> Task:
    require_write(membership)
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
        Activity.objects.create(
            kind=Activity.Kind.TASK_DONE,
            deal=task.deal,
            client_id=task.client_id,
            author=membership.user,
            summary=task.title,
        )
        record(membership, task, "done", {"done_at": (None, task.done_at)})
        signals.task_completed.send(Task, task=task, membership=membership)
    return task
