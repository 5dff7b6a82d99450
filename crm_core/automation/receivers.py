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


def on_deals_moved(sender: Any, deals: list[Deal], to_stage: Stage, **kwargs: Any) -> None:
    """A bulk stage change: what ``on_deal_moved`` does for each deal, set-based where it can
    be (timers stopped in one statement; rules looked up once, run per deal only if any)."""
    if to_stage.outcome != Stage.Outcome.OPEN:
        timers.stop_for_deals([deal.pk for deal in deals])
    company = _company()
    if company is not None and rules.has_rules_at(to_stage):
        for deal in deals:
            rules.on_deal_at_stage(company, deal, created=False)


def on_task_completed(sender: Any, task: Task, **kwargs: Any) -> None:
    timers.cancel_for_task(task)


def on_tasks_completed(sender: Any, tasks: list[Task], **kwargs: Any) -> None:
    timers.cancel_for_tasks([task.pk for task in tasks])


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


def publish_tasks_created(sender: Any, tasks: list[Task], **kwargs: Any) -> None:
    if subscriptions.has_subscribers(subscriptions.Event.TASK_CREATED):
        for task in tasks:
            subscriptions.task_created(task)


def publish_task_completed(sender: Any, task: Task, **kwargs: Any) -> None:
    subscriptions.task_completed(task)


def publish_tasks_completed(sender: Any, tasks: list[Task], **kwargs: Any) -> None:
    if subscriptions.has_subscribers(subscriptions.Event.TASK_COMPLETED):
        for task in tasks:
            subscriptions.task_completed(task)


def publish_deals_moved(
    sender: Any, deals: list[Deal], from_stages: dict[int, Stage], to_stage: Stage, **kwargs: Any
) -> None:
    if subscriptions.has_subscribers(subscriptions.Event.DEAL_STAGE_CHANGED):
        for deal in deals:
            subscriptions.deal_stage_changed(deal, from_stages.get(deal.pk), to_stage)


def publish_deals_changed(
    sender: Any, deals: list[Deal], changes: dict[int, dict[str, tuple[Any, Any]]], **kwargs: Any
) -> None:
    if subscriptions.has_subscribers(subscriptions.Event.DEAL_UPDATED):
        for deal in deals:
            if changes.get(deal.pk):
                subscriptions.deal_updated(deal, changes[deal.pk])


def publish_contacts_changed(sender: Any, contacts: list[Contact], **kwargs: Any) -> None:
    if subscriptions.has_subscribers(subscriptions.Event.CONTACT_UPDATED):
        for contact in contacts:
            subscriptions.contact_saved(contact, created=False)
