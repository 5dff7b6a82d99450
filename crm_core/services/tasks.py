"""Tasks with deadlines: creating and completing them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.access import require_write
from crm_core.models import Activity, Client, Deal, Task
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
    client: Client | None = None,
) -> Task:
    """A task on a deal (it counts for the deal's client too), on a client, or on its own."""
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
        client_id=deal.client_id if deal else (client.pk if client else None),
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


# The card's quick due choices. Work starts at 10:00; "today" is the end of the working day
# (or an hour from now, late in the evening).
QUICK_DUE = ("today", "tomorrow", "in3days", "nextweek")


def quick_deadline(choice: str, now: datetime | None = None) -> datetime:
    """The deadline meant by a quick choice on the card, in the company's time zone."""
    local = timezone.localtime(now or timezone.now())

    def at_ten(day: datetime) -> datetime:
        return day.replace(hour=10, minute=0, second=0, microsecond=0)

    if choice == "today":
        evening = local.replace(hour=18, minute=0, second=0, microsecond=0)
        return evening if evening - local >= timedelta(minutes=30) else local + timedelta(hours=1)
    if choice == "tomorrow":
        return at_ten(local + timedelta(days=1))
    if choice == "in3days":
        return at_ten(local + timedelta(days=3))
    if choice == "nextweek":
        return at_ten(local + timedelta(days=7 - local.weekday()))
    raise ValidationError(_("Choose when the task is due."), code="due")
