"""Missed calls not yet called back, as a source of the person's inbox (communications' registry).

A missed call waits until someone talks to that number afterwards — a call back, or the client
calling again and being answered — or its call-back task is done. One line per number (the
oldest missed call first, with how many times it rang), in the inbox of whoever has the call-back
task (or the extension's member when there is no task), and of the owners and admins.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from communications.inbox import InboxItem
from crm_core.access import is_admin
from crm_core.templatetags.crm_format import phone as phone_text
from telephony.models import Call
from telephony.queries import visible_calls
from tenants.models import Membership

SCAN = 500


def waiting_calls(membership: Membership) -> QuerySet[Call]:
    talked_later = Call.objects.filter(
        number=OuterRef("number"),
        started_at__gt=OuterRef("started_at"),
        status=Call.Status.ENDED,
    ).filter(Q(answered_at__isnull=False) | Q(duration_seconds__gt=0))
    calls = (
        visible_calls(membership)
        .filter(status=Call.Status.MISSED, direction=Call.Direction.INCOMING)
        .exclude(number="")
        .filter(Q(callback_task__isnull=True) | Q(callback_task__done_at__isnull=True))
        .exclude(Exists(talked_later))
    )
    if not is_admin(membership):
        calls = calls.filter(
            Q(callback_task__assignee_id=membership.user_id)
            | Q(callback_task__isnull=True, manager_id=membership.user_id)
        )
    return calls


class MissedCalls:
    key = "calls"

    def label(self) -> str:
        return str(_("Missed calls"))

    def waiting(self, membership: Membership, *, limit: int) -> list[InboxItem]:
        per_number: dict[str, list[Call]] = {}
        for call in (
            waiting_calls(membership)
            .select_related("callback_task")
            .order_by("started_at", "id")[:SCAN]
        ):
            per_number.setdefault(call.number, []).append(call)
        return [_item(calls) for calls in list(per_number.values())[:limit]]

    def count(self, membership: Membership) -> int:
        return waiting_calls(membership).order_by().values("number").distinct().count()


def _item(calls: list[Call]) -> InboxItem:
    first = calls[0]
    if first.contact_id is not None:
        url = reverse("contact_card", args=[first.contact_id])
    elif first.client_id is not None:
        url = reverse("client_detail", args=[first.client_id])
    elif first.callback_task_id is not None:
        url = reverse("task_detail", args=[first.callback_task_id])
    else:
        url = reverse("calls")
    who = str(first.contact or first.client or phone_text(first.number))
    times = len(calls)
    summary = _("Missed call, call back %(number)s") % {"number": phone_text(first.number)}
    if times > 1:
        summary += " " + _("(%(n)s times)") % {"n": times}
    return InboxItem(
        waiting_since=first.started_at,
        channel="calls",
        channel_label=str(_("Call")),
        who=who,
        summary=summary,
        url=url,
        unread=times,
        client=first.client,
    )
