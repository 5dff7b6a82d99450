"""SLA clocks of tickets, run by automation's timer engine (crm_core.automation.services.timers).

Deadlines are counted in the company's working hours and holidays (automation's ``clock``).
A ticket keeps its deadlines and one ``sla_check_at``: the next moment anything is due — a
warning at 80 % of the time, the breach, or the escalation to the queue's head a while after
it (``AutomationSettings.escalate_after_minutes``, as for task SLAs). The timer engine's index
learns that moment after commit (``note_due``) and calls ``fire_due`` for the company; the
rows stay the truth, so a flushed Redis delays a warning, never loses it.

Waiting for the customer pauses the resolution clock: on leaving "waiting" the deadline moves
on by the working time the ticket waited.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Min, Q
from django.utils.translation import gettext as _

from crm_core.automation.models import AutomationSettings
from crm_core.automation.services import timers
from crm_core.automation.services.clock import add_working_minutes, working_minutes_between
from crm_core.automation.services.notify import heads_of, notify
from service.models import SlaPolicy, Ticket
from tenants.models import Company

log = logging.getLogger(__name__)
WARN_AT = 0.8  # of the allowed time: "20 % left" is when a warning still helps


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The most specific active policy: client and priority, client, priority, general."""
    candidates = SlaPolicy.objects.filter(is_active=True).filter(
        Q(client__isnull=True) | Q(client_id=ticket.client_id)
    )
    candidates = candidates.filter(Q(priority="") | Q(priority=ticket.priority))
    best: tuple[int, SlaPolicy] | None = None
    for policy in candidates:
        score = (2 if policy.client_id else 0) + (1 if policy.priority else 0)
        if best is None or score > best[0] or (score == best[0] and policy.pk < best[1].pk):
            best = (score, policy)
    return best[1] if best else None


def start(company: Company, ticket: Ticket) -> None:
    """Set the deadlines of a new ticket (or one whose priority or client changed) from the
    policy that fits it now; saves the SLA fields."""
    policy = policy_for(ticket)
    ticket.sla_policy = policy
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
    else:
        begin = ticket.created_at
        if ticket.first_responded_at is None:
            ticket.first_response_due_at = add_working_minutes(
                company, begin, policy.first_response_minutes
            )
        ticket.resolution_due_at = add_working_minutes(company, begin, policy.resolution_minutes)
    _plan(company, ticket)


def _warn_time(company: Company, ticket: Ticket, due: datetime | None) -> datetime | None:
    policy = ticket.sla_policy
    if due is None or policy is None:
        return None
    minutes = (
        policy.first_response_minutes
        if due == ticket.first_response_due_at
        else policy.resolution_minutes
    )
    lead = int(minutes * (1 - WARN_AT))
    # The warning is "lead" working minutes before the deadline: count from the start.
    return add_working_minutes(company, ticket.created_at, max(minutes - lead, 0))


def _pending(company: Company, ticket: Ticket) -> list[datetime]:
    if not ticket.is_open or ticket.merged_into_id is not None:
        return []
    moments: list[datetime | None] = []
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        if not ticket.first_response_warned:
            moments.append(_warn_time(company, ticket, ticket.first_response_due_at))
        if not ticket.first_response_breached:
            moments.append(ticket.first_response_due_at)
    if ticket.paused_at is None and ticket.resolution_due_at is not None:
        if not ticket.resolution_warned:
            moments.append(_warn_time(company, ticket, ticket.resolution_due_at))
        if not ticket.resolution_breached:
            moments.append(ticket.resolution_due_at)
    if ticket.escalate_at is not None and ticket.escalated_at is None:
        moments.append(ticket.escalate_at)
    return [m for m in moments if m is not None]


def _plan(company: Company, ticket: Ticket) -> None:
    moments = _pending(company, ticket)
    ticket.sla_check_at = min(moments) if moments else None
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_policy=ticket.sla_policy,
        first_response_due_at=ticket.first_response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        sla_check_at=ticket.sla_check_at,
        paused_at=ticket.paused_at,
        escalate_at=ticket.escalate_at,
    )
    if ticket.sla_check_at is not None:
        timers.note_due(ticket.sla_check_at)


def replan(company: Company, ticket: Ticket) -> None:
    """After a reply, a status change or a merge: the next moment to look, if any."""
    _plan(company, ticket)


def pause(company: Company, ticket: Ticket, now: datetime) -> None:
    if ticket.paused_at is None:
        ticket.paused_at = now
    _plan(company, ticket)


def resume(company: Company, ticket: Ticket, now: datetime) -> None:
    """Waiting is over (the customer answered, or a manager moved it on): the resolution
    deadline moves on by the working time spent waiting."""
    if ticket.paused_at is not None and ticket.resolution_due_at is not None:
        waited = working_minutes_between(company, ticket.paused_at, now)
        if waited:
            ticket.resolution_due_at = add_working_minutes(
                company, ticket.resolution_due_at, waited
            )
    ticket.paused_at = None
    _plan(company, ticket)


def next_due() -> datetime | None:
    return Ticket.objects.filter(sla_check_at__isnull=False).aggregate(m=Min("sla_check_at"))["m"]


def fire_due(company: Company, now: datetime, *, batch: int = 200) -> int:
    """Warn, mark breaches and escalate for every ticket whose moment has come (the timer
    engine calls this for the company). Each ticket is claimed by one worker (SKIP LOCKED) and
    its flags are written with its notices, so nobody is told twice."""
    acted = 0
    while True:
        with transaction.atomic():
            due = list(
                Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sla_check_at__lte=now)
                .select_related("sla_policy", "queue__team")
                .order_by("sla_check_at", "id")[:batch]
            )
            for ticket in due:
                _act(company, ticket, now)
                _plan(company, ticket)
                Ticket.objects.filter(pk=ticket.pk).update(
                    first_response_warned=ticket.first_response_warned,
                    resolution_warned=ticket.resolution_warned,
                    first_response_breached=ticket.first_response_breached,
                    resolution_breached=ticket.resolution_breached,
                    escalated_at=ticket.escalated_at,
                )
            acted += len(due)
        if len(due) < batch:
            return acted


def _url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.pk}/"


def _who(company: Company, ticket: Ticket) -> list[int]:
    """Who is told of a warning or a breach: the assignee, else the queue's head, else the
    company's owners and admins (a ticket nobody has is everybody's problem)."""
    if ticket.assignee_id:
        return [ticket.assignee_id]
    if ticket.queue is not None and ticket.queue.team.head_id:
        return [ticket.queue.team.head_id]
    return heads_of(company, None)


def _act(company: Company, ticket: Ticket, now: datetime) -> None:
    label = f"#{ticket.number} {ticket.subject}"[:200]
    waiting_first = ticket.first_responded_at is None and ticket.first_response_due_at
    if waiting_first and not ticket.first_response_breached:
        assert ticket.first_response_due_at is not None
        if now >= ticket.first_response_due_at:
            ticket.first_response_breached = ticket.first_response_warned = True
            for user_id in _who(company, ticket):
                notify(
                    company,
                    user_id,
                    _("First response overdue: %(t)s") % {"t": label},
                    _url(ticket),
                )
            _plan_escalation(company, ticket, now)
        elif not ticket.first_response_warned:
            ticket.first_response_warned = True
            for user_id in _who(company, ticket):
                notify(
                    company,
                    user_id,
                    _("Answer soon: the first response is due %(t)s") % {"t": label},
                    _url(ticket),
                )
    if ticket.paused_at is None and ticket.resolution_due_at and not ticket.resolution_breached:
        if now >= ticket.resolution_due_at:
            ticket.resolution_breached = ticket.resolution_warned = True
            for user_id in _who(company, ticket):
                notify(
                    company, user_id, _("Resolution overdue: %(t)s") % {"t": label}, _url(ticket)
                )
            _plan_escalation(company, ticket, now)
        elif not ticket.resolution_warned and now >= (
            _warn_time(company, ticket, ticket.resolution_due_at) or now
        ):
            ticket.resolution_warned = True
            for user_id in _who(company, ticket):
                notify(
                    company,
                    user_id,
                    _("Solve soon: the resolution is due %(t)s") % {"t": label},
                    _url(ticket),
                )
    if ticket.escalate_at is not None and ticket.escalated_at is None and now >= ticket.escalate_at:
        ticket.escalated_at = now
        for head in escalation_heads(company, ticket):
            notify(
                company,
                head,
                _("Escalation: the SLA of %(t)s is missed") % {"t": label},
                _url(ticket),
            )


def _plan_escalation(company: Company, ticket: Ticket, now: datetime) -> None:
    if ticket.escalate_at is None:
        delay = AutomationSettings.current().escalate_after_minutes
        ticket.escalate_at = add_working_minutes(company, now, delay)


def escalation_heads(company: Company, ticket: Ticket) -> list[int]:
    """The queue's head; without one, whoever is above the assignee (their team's head, else
    the owners and admins — as for task SLAs)."""
    if ticket.queue is not None and ticket.queue.team.head_id:
        head = ticket.queue.team.head_id
        if head != ticket.assignee_id:
            return [head]
    return heads_of(company, ticket.assignee_id)
