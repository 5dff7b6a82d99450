"""Reactions to what crm_core's services announce (connected in AutomationConfig.ready)."""

from __future__ import annotations

from typing import Any

from crm_core.automation.services import rules, subscriptions, timers
from crm_core.models import Contact, Deal, Stage, Task
from relata.db import connection
from tenants.models import Company


def _company() -> Company | None:
    tenant = getattr(connection, "tenant", None)
    return tenant if isinstance(tenant, Company) else None


def on_deal_created(sender: Any, deal: Deal, **kwargs: Any) -> None:
    company = _company()
    if company is not None:
        rules.on_deal_at_stage(company, deal, created=True)


def on_deal_moved(sender: Any, deal: Deal, **kwargs: Any) -> None:
    to_stage = kwargs.get("to_stage")
    if to_stage is not None and to_stage.outcome != Stage.Outcome.OPEN:
        # A won or lost deal: no SLA countdown, no "stays at a stage" rule fires for it.
        timers.stop_for_deal(deal)
    company = _company()
    if company is not None:
        rules.on_deal_at_stage(company, deal, created=False)


def on_task_completed(sender: Any, task: Task, **kwargs: Any) -> None:
    timers.cancel_for_task(task)


# Outgoing webhooks for integrations: each CRM event is queued for its subscribers, inside the
# event's transaction (a rolled-back change sends nothing).


def publish_deal_created(sender: Any, deal: Deal, **kwargs: Any) -> None:
    subscriptions.deal_created(deal)


def publish_deal_moved(
    sender: Any, deal: Deal, from_stage: Stage | None, to_stage: Stage, **kwargs: Any
) -> None:
    subscriptions.deal_stage_changed(deal, from_stage, to_stage)


def publish_deal_changed(
    sender: Any, deal: Deal, changes: dict[str, tuple[Any, Any]], **kwargs: Any
) -> None:
    if changes:
        subscriptions.deal_updated(deal, changes)


def publish_contact_saved(sender: Any, contact: Contact, created: bool, **kwargs: Any) -> None:
    subscriptions.contact_saved(contact, created=created)


def publish_task_created(sender: Any, task: Task, **kwargs: Any) -> None:
    subscriptions.task_created(task)


def publish_task_completed(sender: Any, task: Task, **kwargs: Any) -> None:
    subscriptions.task_completed(task)
