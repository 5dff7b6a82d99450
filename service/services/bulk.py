"""Bulk actions on the tickets list, through crm_core's bulk machinery (the job row with its
checkpoint, the Celery worker, the progress page): assign to a person or a queue, change the
status or the priority of the ticked tickets or of all matching the list's filters.

Each ticket goes through ``tickets.change`` — the same audit entry, notice to the new assignee,
SLA recount and survey on "solved" as a change on the ticket's page — and the selection is
read again through the person's visibility for every chunk (``queries.ticket_list``): tickets
they lost since are not touched, whatever ids the job holds."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core.automation.services.notify import is_active_member
from crm_core.models import BulkJob
from crm_core.queries.lists import filters_only
from crm_core.queries.members import assignable_members
from crm_core.services.bulk import OtherList
from service import queries
from service.models import Priority, Queue, Ticket
from service.services import tickets
from tenants.models import Membership

ACTIONS: dict[str, Any] = {
    "ticket_assign": gettext_lazy("Assign to a person"),
    "ticket_queue": gettext_lazy("Move to a queue"),
    "ticket_status": gettext_lazy("Change the status"),
    "ticket_priority": gettext_lazy("Change the priority"),
}


def fields(membership: Membership) -> dict[str, tuple[forms.Field, tuple[str, ...]]]:
    """The bulk bar's inputs, each with the action it serves."""
    members = assignable_members(membership)
    queues = [(q.pk, q.team.name) for q in Queue.objects.select_related("team")]
    return {
        "assignee": (
            forms.TypedChoiceField(
                label=gettext_lazy("Assignee"),
                coerce=int,
                required=False,
                empty_value=None,
                choices=[("", "—"), (0, _("Nobody")), *members],
            ),
            ("ticket_assign",),
        ),
        "queue": (
            forms.TypedChoiceField(
                label=gettext_lazy("Queue"),
                coerce=int,
                required=False,
                empty_value=None,
                choices=[("", "—"), (0, _("No queue")), *queues],
            ),
            ("ticket_queue",),
        ),
        "status": (
            forms.ChoiceField(
                label=gettext_lazy("Status"),
                required=False,
                choices=[("", "—"), *Ticket.Status.choices],
            ),
            ("ticket_status",),
        ),
        "priority": (
            forms.ChoiceField(
                label=gettext_lazy("Priority"),
                required=False,
                choices=[("", "—"), *Priority.choices],
            ),
            ("ticket_priority",),
        ),
    }


def clean(membership: Membership, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """The action's input checked and reduced to JSON (the job keeps it)."""
    if action == "ticket_assign":
        person = params.get("assignee")
        if person is None:
            raise ValidationError({"assignee": _("Choose whom to give the tickets to.")})
        if person and not is_active_member(membership.company, int(person)):
            raise ValidationError({"assignee": _("Choose a member of the company.")})
        return {"assignee": int(person) or None}
    if action == "ticket_queue":
        queue = params.get("queue")
        if queue is None:
            raise ValidationError({"queue": _("Choose a queue.")})
        if queue and not Queue.objects.filter(pk=queue).exists():
            raise ValidationError({"queue": _("Choose a queue.")})
        return {"queue": int(queue) or None}
    if action == "ticket_status":
        if params.get("status") not in Ticket.Status.values:
            raise ValidationError({"status": _("Choose a status.")})
        return {"status": params["status"]}
    if action == "ticket_priority":
        if params.get("priority") not in Priority.values:
            raise ValidationError({"priority": _("Choose a priority.")})
        return {"priority": params["priority"]}
    raise ValidationError(_("This action is not available for this list."))


def select(
    membership: Membership, query: str, ids: list[int], all_matching: bool
) -> QuerySet[Ticket]:
    """The tickets the member may change: visible ones (as on the list), none for read-only
    members; the ticked ones, or all matching the list's filters."""
    if membership.role == Membership.Role.READ_ONLY:
        return Ticket.objects.none()
    data = filters_only(query)
    form = queries.TicketFilterForm(data or None, members=assignable_members(membership))
    filters = form.cleaned_data if form.is_valid() else {}
    listed = queries.ticket_list(membership, filters).tickets.order_by()
    return listed if all_matching else listed.filter(pk__in=ids)


def _apply(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    """The chunk's tickets one by one through ``tickets.change`` (only what the job names)."""
    params = job.params
    queue: Queue | bool | None = False
    if "queue" in params:
        queue = Queue.objects.filter(pk=params["queue"]).first() if params["queue"] else None
    for ticket in Ticket.objects.filter(pk__in=ids).order_by("pk"):
        tickets.change(
            company=membership.company,
            actor=membership,
            ticket=ticket,
            status=params.get("status"),
            priority=params.get("priority"),
            queue=queue,
            assignee_id=params.get("assignee", False),
        )
    return len(ids)


LIST = OtherList(
    actions=ACTIONS,
    fields=fields,
    clean=clean,
    select=select,
    handlers=dict.fromkeys(ACTIONS, _apply),
)
