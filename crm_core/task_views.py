"""A task's own page (edit, postpone, comment, done/undo) and the new task form."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import member_required
from crm_core.forms import PostponeForm, TaskCommentForm, TaskDetailsForm, with_members
from crm_core.models import Task
from crm_core.queries.clients import client_for, contact_for
from crm_core.queries.deals import deal_for
from crm_core.queries.members import assignable_members
from crm_core.queries.tasks import task_for
from crm_core.services import once
from crm_core.services.tasks import (
    POSTPONE,
    comment_task,
    create_task,
    postpone_task,
    recurrence_rule,
    reopen_task,
    repeat_of,
    update_task,
)
from crm_core.views import _errors_to_form, _fail, _membership
from tenants.models import Membership, User


def task_form(
    membership: Membership, data: Any = None, initial: dict[str, Any] | None = None
) -> TaskDetailsForm:
    return with_members(TaskDetailsForm(data, initial=initial), assignable_members(membership))


def task_fields(form: TaskDetailsForm) -> dict[str, Any]:
    """A valid full form as the keyword arguments of create_task / update_task; raises the
    refusals of the repeat rule as ValidationError."""
    data = form.cleaned_data
    assignee_id = data.get("assignee")
    return {
        "title": data["title"],
        "kind": data["kind"],
        "deadline": data["deadline"],
        "assignee": User.objects.filter(pk=assignee_id).first() if assignee_id else None,
        "description": data.get("description") or "",
        "duration_minutes": data.get("duration_minutes"),
        "remind": data.get("remind") or "none",
        "remind_time": data.get("remind_time"),
        "recurrence": recurrence_rule(data.get("repeat") or "", data.get("weekdays")),
    }


def _on(membership: Membership, source: Any) -> dict[str, Any]:
    """What a new task is on, from ?deal= / ?client= / ?contact= (404 unless visible)."""
    for key, finder in (("deal", deal_for), ("client", client_for), ("contact", contact_for)):
        value = str(source.get(key, ""))
        if value.isdigit():
            return {key: finder(membership, int(value))}
    return {}


def _initial_deadline(request: HttpRequest) -> datetime | None:
    """The calendar's "new task" on a day (and an hour, from the week grid)."""
    try:
        day = date.fromisoformat(str(request.GET.get("date", "")))
        hour = int(str(request.GET.get("hour", "10")))
    except ValueError:
        return None
    # The hour the person clicked, in their own zone (the page's).
    zone = timezone.get_current_timezone()
    return datetime.combine(day, time(min(max(hour, 0), 23)), zone)


@member_required
@require_http_methods(["GET", "POST"])
def task_new(request: HttpRequest) -> HttpResponse:
    """The new task form: a personal task, or one on the deal/client/contact it was opened
    from; a meeting with its length; a reminder; a repeat rule."""
    membership = _membership(request)
    on = _on(membership, request.POST if request.method == "POST" else request.GET)
    if request.method == "POST":
        form = task_form(membership, request.POST)
        if form.is_valid():
            try:
                with once.acting_once(request.POST.get(once.FIELD)):
                    task = create_task(membership=membership, **task_fields(form), **on)
            except once.AlreadySubmittedError:
                return redirect("my_day")
            except PermissionDenied as exc:
                _fail(request, exc)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Task added."))
                back = str(request.POST.get("next", ""))
                if back.startswith("/") and not back.startswith("//"):
                    return redirect(back)
                return redirect("task_detail", task_id=task.pk)
    else:
        initial: dict[str, Any] = {"assignee": membership.user_id, "remind": "15m"}
        if request.GET.get("kind") in Task.Kind.values:
            initial["kind"] = request.GET["kind"]
        deadline = _initial_deadline(request)
        if deadline is not None:
            initial["deadline"] = deadline
        form = task_form(membership, initial=initial)
    return render(
        request,
        "crm_core/task_new.html",
        {"form": form, "on": on, "next": str(request.GET.get("next", ""))},
    )


def _edit_initial(task: Task) -> dict[str, Any]:
    repeat, weekdays = repeat_of(task.recurrence)
    minutes = task.remind_before_minutes
    remind = {None: "none", 0: "at_due", 15: "15m", 60: "1h", 1440: "1d"}.get(minutes, "none")
    if task.remind_at is not None and minutes is None:
        remind = "time"
    return {
        "title": task.title,
        "kind": task.kind,
        "assignee": task.assignee_id,
        "deadline": task.deadline,
        "description": task.description,
        "duration_minutes": task.duration_minutes or 60,
        "remind": remind,
        "remind_time": task.remind_at if remind == "time" else None,
        "repeat": repeat,
        "weekdays": weekdays,
    }


def _postpone_choices() -> list[tuple[str, str]]:
    labels = {
        "1h": _("+1 hour"),
        "tomorrow": _("Tomorrow"),
        "monday": _("Next Monday"),
        "1w": _("+1 week"),
    }
    return [(key, labels[key]) for key in POSTPONE if key in labels]


@member_required
@require_http_methods(["GET", "POST"])
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """The task's page: its form, quick postpone, comments, done/undo."""
    membership = _membership(request)
    task = task_for(membership, task_id)
    if request.method == "POST":
        form = task_form(membership, request.POST)
        if form.is_valid():
            try:
                update_task(membership=membership, task=task, **task_fields(form))
            except PermissionDenied as exc:
                _fail(request, exc)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect("task_detail", task_id=task.pk)
        task.refresh_from_db()
    else:
        form = task_form(membership, initial=_edit_initial(task))
    return render(
        request,
        "crm_core/task.html",
        {
            "task": task,
            "form": form,
            "comments": task.comments.select_related("author"),
            "comment_form": TaskCommentForm(),
            "postpone_form": PostponeForm(),
            "postpone_choices": _postpone_choices(),
        },
    )


def _back(request: HttpRequest, task: Task) -> HttpResponse:
    back = str(request.POST.get("next", ""))
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("task_detail", task_id=task.pk)


@member_required
@require_POST
def task_postpone(request: HttpRequest, task_id: int) -> HttpResponse:
    membership = _membership(request)
    task = task_for(membership, task_id)
    form = PostponeForm(request.POST)
    choice = str(request.POST.get("postpone", ""))
    try:
        if not form.is_valid():
            raise ValidationError(
                "; ".join(str(e) for errors in form.errors.values() for e in errors)
            )
        postpone_task(membership=membership, task=task, choice=choice, on=form.cleaned_data["on"])
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Task postponed."))
    return _back(request, task)


@member_required
@require_POST
def task_comment(request: HttpRequest, task_id: int) -> HttpResponse:
    membership = _membership(request)
    task = task_for(membership, task_id)
    try:
        comment_task(membership=membership, task=task, text=str(request.POST.get("text", "")))
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    return redirect("task_detail", task_id=task.pk)


@member_required
@require_POST
def task_reopen(request: HttpRequest, task_id: int) -> HttpResponse:
    membership = _membership(request)
    task = task_for(membership, task_id)
    try:
        reopen_task(membership=membership, task=task)
    except PermissionDenied as exc:
        _fail(request, exc)
    return _back(request, task)


@member_required
@require_GET
def task_list_page(request: HttpRequest) -> HttpResponseBase:
    """Every task the member sees, shaped as the other lists: saved views, filters, columns,
    bulk actions (crm_core.list_views)."""
    from crm_core.list_views import render_list

    return render_list(request, "tasks", "crm_core/task_list.html")
