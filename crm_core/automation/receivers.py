"""Reactions to what crm_core's services announce (connected in AutomationConfig.ready)."""

from __future__ import annotations

from typing import Any

from crm_core.automation.services import rules, timers
from crm_core.models import Deal, Task
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
    company = _company()
    if company is not None:
        rules.on_deal_at_stage(company, deal, created=False)


def on_task_completed(sender: Any, task: Task, **kwargs: Any) -> None:
    timers.cancel_for_task(task)
