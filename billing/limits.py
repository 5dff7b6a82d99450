"""What a company's plan allows: the one read the CRM makes of its plan's limits.

``Plan.limits`` is a JSON object an operator edits; the keys the CRM enforces are listed in
``KNOWN``. A key that is absent (or empty) means "no limit". The CRM asks through
``limit_of`` and counts its own records itself: billing knows nothing of the CRM's tables.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from billing.queries import plan_of
from tenants.models import Company

STORAGE_MB = "storage_mb"
PIPELINES = "pipelines"
AUTOMATION_RULES = "automation_rules"
CUSTOM_FIELDS = "custom_fields"

# Key → what it limits, as the refusal names it.
KNOWN = {
    STORAGE_MB: _("file storage, MB"),
    PIPELINES: _("pipelines"),
    AUTOMATION_RULES: _("automation rules"),
    CUSTOM_FIELDS: _("custom fields"),
}


def limit_of(company: Company, key: str) -> Decimal | None:
    """The plan's limit for ``key``; None when the plan sets none (or sets it unreadably —
    an operator's typo must not lock a company out of its own CRM)."""
    plan = plan_of(company)
    if plan is None or not isinstance(plan.limits, dict):
        return None
    value = plan.limits.get(key)
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        limit = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return limit if limit.is_finite() and limit >= 0 else None


def plan_name(company: Company) -> str:
    plan = plan_of(company)
    return plan.name if plan is not None else ""
