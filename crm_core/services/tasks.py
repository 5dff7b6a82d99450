"""Tasks with deadlines: creating, editing, postponing, commenting, completing, repeating."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import MO, relativedelta
from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core import signals
from crm_core.access import require_write
from crm_core.models import (
    Activity,
    AuditEntry,
    Client,
    Contact,
    Deal,
    Notification,
    Task,
    TaskComment,
)
from crm_core.services.audit import record
from tenants.models import Membership, User
from tenants.zones import zone_of

# Reminder presets of every task form: minutes before the deadline (0: at the due time).
# "time" is a reminder at a chosen moment; "none" (or an empty choice) is no reminder.
REMIND_BEFORE = {"at_due": 0, "15m": 15, "1h": 60, "1d": 24 * 60}
REMIND_CHOICES = ("none", *REMIND_BEFORE, "time")

# Repeat choices of the task form, as iCalendar rules (dateutil's rrule reads them).
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
REPEATS = ("", "daily", "weekdays", "weekly", "monthly")


def recurrence_rule(repeat: str, weekdays: list[str] | None = None) -> str:
    """The RRULE stored on a task for a repeat choice of the form ("" — no repeat)."""
    if repeat == "":
        return ""
    if repeat == "daily":
        return "FREQ=DAILY"
    if repeat == "weekdays":
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    if repeat == "weekly":
        days = [d for d in WEEKDAYS if d in (weekdays or [])]
        if not days:
            raise ValidationError(_("Choose the days of the week it repeats on."), code="weekdays")
        return "FREQ=WEEKLY;BYDAY=" + ",".join(days)
    if repeat == "monthly":
        return "FREQ=MONTHLY"
    raise ValidationError(_("Choose how the task repeats."), code="repeat")


def repeat_of(rule: str) -> tuple[str, list[str]]:
    """The form's (repeat, weekdays) for a stored rule: the inverse of ``recurrence_rule``."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    days = [d for d in parts.get("BYDAY", "").split(",") if d]
    if parts.get("FREQ") == "DAILY":
        return "daily", []
    if parts.get("FREQ") == "MONTHLY":
        return "monthly", []
    if parts.get("FREQ") == "WEEKLY":
        return ("weekdays", days) if days == list(WEEKDAYS[:5]) else ("weekly", days)
    return "", []


def next_occurrence(rule: str, deadline: datetime, zone: ZoneInfo, now: datetime) -> datetime:
    """The next deadline of a repeating task after this one (and after now, so a task done
    late does not spawn one already overdue), counted in local wall-clock time so that a
    daily 10:00 stays 10:00 across a change of clocks."""
    start = deadline.astimezone(zone).replace(tzinfo=None)
    after = max(start, now.astimezone(zone).replace(tzinfo=None))
    following = rrulestr(rule, dtstart=start).after(after)
    if following is None:
        raise ValidationError(_("The task does not repeat any more."), code="repeat")
    return following.replace(tzinfo=zone)


def reminder(
    choice: str, deadline: datetime, at: datetime | None = None
) -> tuple[datetime | None, int | None]:
    """(remind_at, minutes before the deadline) for a reminder choice of the form."""
    if choice in ("", "none"):
        return None, None
    if choice in REMIND_BEFORE:
        minutes = REMIND_BEFORE[choice]
        return deadline - timedelta(minutes=minutes), minutes
    if choice == "time":
        if at is None:
            raise ValidationError(_("Choose when to remind."), code="remind_at")
        if at < timezone.now():
            raise ValidationError(_("The reminder time has passed."), code="remind_at")
        return at, None
    raise ValidationError(_("Choose when to remind."), code="remind")


def _check_assignee(membership: Membership, assignee: User | None) -> None:
    if (
        assignee is not None
        and not Membership.objects.filter(
            company_id=membership.company_id, user=assignee, is_active=True
        ).exists()
    ):
        raise ValidationError(
            _("Tasks can be given only to members of the company."), code="assignee"
        )


def _check_meeting(kind: str, duration_minutes: int | None) -> int | None:
    if kind != Task.Kind.MEETING:
        return None
    if duration_minutes is None:
        return 60
    if not 5 <= duration_minutes <= 24 * 60:
        raise ValidationError(
            _("A meeting lasts from 5 minutes to 24 hours."), code="duration_minutes"
        )
    return duration_minutes


def _tell_assignee(task: Task, by: Membership) -> None:
    """The new assignee learns of a task someone else gave them (in-app)."""
    if task.assignee_id is None or task.assignee_id == by.user_id:
        return
    Notification.objects.create(
        user_id=task.assignee_id,
        text=_("New task for you: %(task)s") % {"task": task.title},
        url=f"/tasks/{task.pk}/",
    )


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
    contact: Contact | None = None,
    description: str = "",
    duration_minutes: int | None = None,
    remind: str = "none",
    remind_time: datetime | None = None,
    recurrence: str = "",
) -> Task:
    """A task on a deal (it counts for the deal's client too), on a client, on a contact
    person (and so on their client), or on nothing — a personal task."""
    require_write(membership)
    _check_assignee(membership, assignee)
    if deadline < timezone.now():
        raise ValidationError(_("The deadline is in the past."), code="past_deadline")
    remind_at, before = reminder(remind, deadline, remind_time)
    if deal is not None:
        client_id = deal.client_id
    elif client is not None:
        client_id = client.pk
    else:
        client_id = contact.client_id if contact is not None else None
    task = Task.objects.create(
        title=title.strip(),
        kind=kind,
        deadline=deadline,
        duration_minutes=_check_meeting(kind, duration_minutes),
        assignee=assignee or membership.user,
        deal=deal,
        client_id=client_id,
        contact=contact,
        description=description.strip(),
        remind_at=remind_at,
        remind_before_minutes=before,
        recurrence=recurrence,
        created_by=membership.user,
    )
    record(
        membership,
        task,
        "create",
        {"title": (None, task.title), "assignee": (None, task.assignee_id)},
    )
    _tell_assignee(task, membership)
    signals.task_created.send(Task, task=task, membership=membership)
    return task


@dataclass(frozen=True)
class TaskTarget:
    """What one of many new tasks is on, and whose it is (ids only: a bulk action never loads
    the records themselves)."""

    deal_id: int | None
    client_id: int | None
    assignee_id: int | None


@transaction.atomic
def create_tasks(
    *, membership: Membership, title: str, deadline: datetime, targets: Sequence[TaskTarget]
) -> list[Task]:
    """One task per target in one INSERT (and one for their audit entries, one for the
    assignees' notices): the bulk action's "create a task for each". An assignee who is not
    an active member of the company is replaced by the person acting; webhooks go out as for a
    single task (``tasks_created``). Atomic."""
    require_write(membership)
    wanted = {t.assignee_id for t in targets if t.assignee_id is not None}
    members = set(
        Membership.objects.filter(
            company_id=membership.company_id, user_id__in=wanted, is_active=True
        ).values_list("user_id", flat=True)
    )
    title = title.strip()
    tasks = Task.objects.bulk_create(
        [
            Task(
                title=title,
                deadline=deadline,
                assignee_id=t.assignee_id if t.assignee_id in members else membership.user_id,
                deal_id=t.deal_id,
                client_id=t.client_id,
                created_by_id=membership.user_id,
            )
            for t in targets
        ]
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                object_type="task",
                object_id=task.pk,
                action="create",
                changes={"title": [None, title], "assignee": [None, task.assignee_id]},
                actor=membership.user,
            )
            for task in tasks
        ]
    )
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=task.assignee_id,
                text=_("New task for you: %(task)s") % {"task": task.title},
                url=f"/tasks/{task.pk}/",
            )
            for task in tasks
            if task.assignee_id != membership.user_id
        ]
    )
    signals.tasks_created.send(Task, tasks=tasks, membership=membership)
    return tasks


def _move_deadline(task: Task, deadline: datetime) -> None:
    """A new deadline: the reminder moves with it (a preset) and may fire again; the
    overdue notice may be sent again for the new deadline."""
    task.deadline = deadline
    if task.remind_before_minutes is not None:
        task.remind_at = deadline - timedelta(minutes=task.remind_before_minutes)
    task.reminder_sent_at = None
    task.overdue_notified_at = None


@transaction.atomic
def update_task(
    *,
    membership: Membership,
    task: Task,
    title: str,
    kind: str,
    deadline: datetime,
    assignee: User | None,
    description: str = "",
    duration_minutes: int | None = None,
    remind: str = "none",
    remind_time: datetime | None = None,
    recurrence: str = "",
) -> Task:
    """Edit a task; a new assignee is told. Atomic; audited field by field."""
    require_write(membership)
    _check_assignee(membership, assignee)
    before = {
        f: getattr(task, f)
        for f in ("title", "kind", "deadline", "assignee_id", "description", "recurrence")
    }
    if deadline != task.deadline:
        if deadline < timezone.now() and task.done_at is None:
            raise ValidationError(_("The deadline is in the past."), code="past_deadline")
        _move_deadline(task, deadline)
    remind_at, before_minutes = reminder(remind, deadline, remind_time)
    if (remind_at, before_minutes) != (task.remind_at, task.remind_before_minutes):
        task.remind_at, task.remind_before_minutes = remind_at, before_minutes
        task.reminder_sent_at = None
    task.title = title.strip()
    task.kind = kind
    task.duration_minutes = _check_meeting(kind, duration_minutes)
    task.assignee = assignee or task.assignee
    task.description = description.strip()
    task.recurrence = recurrence
    task.save()
    changes = {f: (v, getattr(task, f)) for f, v in before.items() if getattr(task, f) != v}
    if changes:
        record(membership, task, "update", changes)
    if "assignee_id" in changes:
        _tell_assignee(task, membership)
    return task


# Quick postpone choices of the task page and the calendar.
POSTPONE = ("1h", "tomorrow", "monday", "1w", "date")


def postponed_deadline(
    task: Task, choice: str, zone: ZoneInfo, now: datetime, on: datetime | None = None
) -> datetime:
    """The deadline a quick choice moves a task to. "+1 h" and "+1 week" count from the
    deadline, or from now for a task already overdue; "tomorrow" and "next Monday" keep the
    task's time of day."""
    base = max(task.deadline, now)
    local = task.deadline.astimezone(zone)
    today = now.astimezone(zone)
    if choice == "1h":
        return base + timedelta(hours=1)
    if choice == "1w":
        return base + timedelta(weeks=1)
    if choice == "tomorrow":
        day = today + timedelta(days=1)
        return local.replace(year=day.year, month=day.month, day=day.day)
    if choice == "monday":
        day = today + relativedelta(days=+1, weekday=MO(+1))
        return local.replace(year=day.year, month=day.month, day=day.day)
    if choice == "date":
        if on is None:
            raise ValidationError(_("Choose the new date."), code="deadline")
        return on
    raise ValidationError(_("Choose when to postpone to."), code="postpone")


@transaction.atomic
def postpone_task(
    *, membership: Membership, task: Task, choice: str, on: datetime | None = None
) -> Task:
    require_write(membership)
    # "Tomorrow" and "next Monday" are the person's, in their own time zone.
    zone = zone_of(membership.user, membership.company)
    now = timezone.now()
    deadline = postponed_deadline(task, choice, zone, now, on)
    if deadline < now:
        raise ValidationError(_("The deadline is in the past."), code="past_deadline")
    old = task.deadline
    _move_deadline(task, deadline)
    task.save()
    record(membership, task, "postpone", {"deadline": (old, deadline)})
    return task


@transaction.atomic
def comment_task(*, membership: Membership, task: Task, text: str) -> TaskComment:
    require_write(membership)
    if not text.strip():
        raise ValidationError(_("Write the comment."), code="text")
    comment = TaskComment.objects.create(task=task, author=membership.user, text=text.strip())
    if task.assignee_id not in (None, membership.user_id):
        Notification.objects.create(
            user_id=task.assignee_id,
            text=_("Comment on %(task)s") % {"task": task.title},
            url=f"/tasks/{task.pk}/",
        )
    return comment


@transaction.atomic
def complete_task(*, membership: Membership, task: Task) -> Task:
    """Mark a task done (idempotent). A repeating task makes its next occurrence once."""
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
        if task.recurrence:
            _repeat(membership, task)
        signals.task_completed.send(Task, task=task, membership=membership)
    return task


def close_deals_tasks(*, membership: Membership, deal_ids: Sequence[int]) -> list[Task]:
    """Complete every open task of deals that were just won or lost, set-based: one UPDATE,
    a timeline entry and an audit entry per task, one ``tasks_completed`` announcement (SLA
    timers cancelled, webhooks). Unlike a task's own "Done", a repeating task makes no next
    occurrence: the deal is over, so its series ends with it (otherwise "close 3 open tasks"
    would leave 3 open tasks). Runs in the caller's transaction; returns the tasks closed."""
    require_write(membership)
    if not deal_ids:
        return []
    tasks = list(
        Task.objects.select_for_update()
        .filter(deal_id__in=list(deal_ids), done_at__isnull=True)
        .order_by("pk")
    )
    if not tasks:
        return []
    now = timezone.now()
    Task.objects.filter(pk__in=[task.pk for task in tasks]).update(done_at=now)
    for task in tasks:
        task.done_at = now
    Activity.objects.bulk_create(
        Activity(
            kind=Activity.Kind.TASK_DONE,
            deal_id=task.deal_id,
            client_id=task.client_id,
            author=membership.user,
            summary=task.title[:300],
            happened_at=now,
        )
        for task in tasks
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            object_type="task",
            object_id=task.pk,
            action="done",
            changes={"done_at": [None, str(now)]},
            actor=membership.user,
            at=now,
        )
        for task in tasks
    )
    signals.tasks_completed.send(Task, tasks=tasks, membership=membership)
    return tasks


def _repeat(membership: Membership, task: Task) -> Task:
    # "Every Monday at 10:00" is the assignee's Monday and 10:00.
    zone = zone_of(task.assignee or membership.user, membership.company)
    deadline = next_occurrence(task.recurrence, task.deadline, zone, timezone.now())
    following = Task.objects.create(
        title=task.title,
        kind=task.kind,
        deadline=deadline,
        duration_minutes=task.duration_minutes,
        assignee_id=task.assignee_id,
        deal_id=task.deal_id,
        client_id=task.client_id,
        contact_id=task.contact_id,
        description=task.description,
        remind_before_minutes=task.remind_before_minutes,
        remind_at=(
            deadline - timedelta(minutes=task.remind_before_minutes)
            if task.remind_before_minutes is not None
            else None
        ),
        recurrence=task.recurrence,
        created_by_id=task.created_by_id,
    )
    record(membership, following, "create", {"repeats": (task.pk, following.pk)})
    return following


@transaction.atomic
def reopen_task(*, membership: Membership, task: Task) -> Task:
    """Undo "done": the task is open again (its next occurrence, if any, stays)."""
    require_write(membership)
    if task.done_at is not None:
        old = task.done_at
        task.done_at = None
        task.save(update_fields=["done_at"])
        record(membership, task, "reopen", {"done_at": (old, None)})
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
