"""SLA timers and stage-rule delays: rows with ``due_at``, fired once by whoever claims them.

Finding due work across 1,000 companies without visiting each schema: a Redis sorted set maps
each company's schema to the earliest ``due_at`` of its pending timers. Writing a timer adds
its due time after commit (ZADD LT keeps the earlier one); beat reads the schemas whose score
has passed and sends one task per company. The rows in each schema stay the truth: a company
task removes its entry, fires what is due, and puts back its next due time; a periodic reindex
rebuilds the set from the rows, so a flushed Redis or a crashed task delays a timer, never
loses it. Claiming uses ``SELECT … FOR UPDATE SKIP LOCKED`` and marks the row fired in the same
transaction as its action, so two workers or a restarted beat never act twice on one deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_core.automation.models import AutomationSettings, Timer
from crm_core.automation.services.clock import add_working_minutes
from crm_core.automation.services.notify import heads_of, notify
from crm_core.models import Deal, Task
from relata.db import connection
from tenants.models import Company

logger = logging.getLogger(__name__)
# How long beat waits before sending a company again when its task has not reported back.
LEASE_SECONDS = 60
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client  # noqa: PLW0603  (one connection pool per process)
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_CACHE_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return _client


def index_key() -> str:
    # The cache prefix separates deployments (and tests) sharing one Redis.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:automation:next-due"


def _note(schema: str, due_at: datetime) -> None:
    try:
        _redis().zadd(index_key(), {schema: due_at.timestamp()}, lt=True)
    except redis.RedisError:
        logger.warning("timer index unavailable; %s is picked up by the next reindex", schema)


def note_due(due_at: datetime) -> None:
    """After commit, tell the index that the current company has something due at ``due_at``."""
    schema = connection.schema_name
    transaction.on_commit(lambda: _note(schema, due_at))


@dataclass(frozen=True)
class DueSource:
    """Deadlines another part of the product keeps in its own rows (customer service's SLA
    on tickets): the engine asks ``next_due`` when it indexes a company and calls ``fire``
    (company, now) -> how many were acted on, with the company's language set, when the
    company is due. ``fire`` must claim its rows itself (SKIP LOCKED) and be safe to repeat."""

    name: str
    next_due: Callable[[], datetime | None]
    fire: Callable[[Company, datetime], int]


_SOURCES: dict[str, DueSource] = {}


def register_due_source(source: DueSource) -> None:
    _SOURCES[source.name] = source


def schedule(**fields: Any) -> Timer:
    timer = Timer.objects.create(**fields)
    note_due(timer.due_at)
    return timer


def due_schemas(now: datetime | None = None, limit: int = 5000) -> list[str]:
    """Schemas with something due, each leased so beat does not send it again at once."""
    now = now or timezone.now()
    client = _redis()
    names = client.zrangebyscore(index_key(), "-inf", now.timestamp(), start=0, num=limit)
    schemas = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    if schemas:
        lease = now.timestamp() + LEASE_SECONDS
        client.zadd(index_key(), dict.fromkeys(schemas, lease), xx=True)
    return schemas


def next_due() -> datetime | None:
    own = Timer.objects.filter(fired_at__isnull=True).aggregate(m=Min("due_at"))["m"]
    others = [source.next_due() for source in _SOURCES.values()]
    return min((d for d in [own, *others] if d is not None), default=None)


def reindex_current() -> None:
    due = next_due()
    if due is not None:
        _note(connection.schema_name, due)


def fire_due(company: Company, *, batch: int = 200) -> int:
    """Act on every due timer of the current company schema; returns how many were fired.

    Safe to run in several workers at once: each row is taken by one transaction only.
    """
    schema = connection.schema_name
    try:
        _redis().zrem(index_key(), schema)
    except redis.RedisError:
        logger.warning("timer index unavailable while firing %s", schema)
    fired = 0
    with translation.override(company.language):
        while True:
            now = timezone.now()
            with transaction.atomic():
                timers = list(
                    Timer.objects.select_for_update(skip_locked=True)
                    .filter(fired_at__isnull=True, due_at__lte=now)
                    .order_by("due_at", "id")[:batch]
                )
                if not timers:
                    break
                for timer in timers:
                    timer.outcome = _act_safely(company, timer, now)[:200]
                    timer.fired_at = now
                Timer.objects.bulk_update(timers, ["fired_at", "outcome"])
                fired += len(timers)
            if len(timers) < batch:
                break  # a short batch was the last one: no need to ask again
        for source in _SOURCES.values():
            try:
                fired += source.fire(company, timezone.now())
            except Exception:
                # One source's failure must not hold back the others or the index.
                logger.exception("due source %s failed", source.name)
    reindex_current()
    return fired


def _act_safely(company: Company, timer: Timer, now: datetime) -> str:
    # A broken action is recorded on its timer; it must not hold back the other deadlines.
    try:
        with transaction.atomic():
            return act(company, timer, now)
    except Exception as exc:
        logger.exception("timer %s failed", timer.pk)
        return f"error: {exc}"


def act(company: Company, timer: Timer, now: datetime) -> str:
    if timer.kind == Timer.Kind.STAYS:
        return _stays(company, timer)
    task = timer.task
    if task is None or task.done_at is not None:
        return "task done in time"
    url = f"/deals/{task.deal_id}/" if task.deal_id else "/tasks/"
    if timer.kind == Timer.Kind.SLA_OVERDUE:
        notify(
            company,
            task.assignee_id,
            _("Deadline missed: %(task)s") % {"task": task.title},
            url,
        )
        delay = AutomationSettings.current().escalate_after_minutes
        schedule(
            kind=Timer.Kind.SLA_ESCALATE,
            due_at=add_working_minutes(company, now, delay),
            deal_id=task.deal_id,
            task=task,
        )
        return "assignee notified"
    heads = heads_of(company, task.assignee_id)
    for head in heads:
        notify(
            company,
            head,
            _("Escalation: %(task)s is overdue (%(who)s)")
            % {"task": task.title, "who": _assignee_name(task.assignee_id)},
            url,
        )
    return f"escalated to {len(heads)}"


def _assignee_name(user_id: int | None) -> str:
    from tenants.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    return user.get_full_name() if user else "—"


def _stays(company: Company, timer: Timer) -> str:
    from crm_core.automation.services.rules import run_actions

    deal = timer.deal
    rule = timer.rule
    if deal is None or rule is None or not rule.is_active:
        return "rule or deal gone"
    if deal.stage_id != rule.stage_id or deal.stage_entered_at != timer.stage_entered_at:
        return "deal moved on"
    return "; ".join(run_actions(company, rule, deal))[:200] or "nothing to do"


def start_sla(company: Company, task: Task) -> Timer:
    return schedule(
        kind=Timer.Kind.SLA_OVERDUE, due_at=task.deadline, deal_id=task.deal_id, task=task
    )


def cancel_for_task(task: Task) -> int:
    """A task done: its pending SLA timers will not fire (kept, marked, for the record)."""
    return Timer.objects.filter(task=task, fired_at__isnull=True).update(
        fired_at=timezone.now(), outcome="task done"
    )


def cancel_for_tasks(task_ids: list[int]) -> int:
    """``cancel_for_task`` for many tasks in one statement (the tasks of closed deals)."""
    return Timer.objects.filter(task_id__in=task_ids, fired_at__isnull=True).update(
        fired_at=timezone.now(), outcome="task done"
    )


DEAL_CLOSED = "deal closed"


def stop_for_deal(deal: Deal) -> int:
    """A deal won or lost: none of its pending timers will fire (kept, marked, for the record)."""
    return Timer.objects.filter(deal=deal, fired_at__isnull=True).update(
        fired_at=timezone.now(), outcome=DEAL_CLOSED
    )


def stop_for_deals(deal_ids: list[int]) -> int:
    """``stop_for_deal`` for many deals in one statement (a bulk move to won or lost)."""
    return Timer.objects.filter(deal_id__in=deal_ids, fired_at__isnull=True).update(
        fired_at=timezone.now(), outcome=DEAL_CLOSED
    )


def pending_for_deal(deal: Deal) -> list[Timer]:
    return list(
        Timer.objects.filter(deal=deal)
        .filter(kind__in=[Timer.Kind.SLA_OVERDUE, Timer.Kind.SLA_ESCALATE])
        .select_related("task")
        .order_by("-due_at")[:10]
    )
