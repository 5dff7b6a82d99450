"""The "continue setting up" entry every CRM page shows to owners and admins until the
setup is finished or dismissed (and, on settings pages, the way back to it)."""

from __future__ import annotations

from typing import Any

from django import template

from relata.db import connection
from tenants.models import Membership
from tenants.services import request_cache

register = template.Library()


def entry_state() -> tuple[bool, bool, int]:
    """Whether the entry shows, whether nothing is done yet, and how many steps are left — kept
    in the request cache under the current company's schema, forgotten whenever the progress
    row is saved or deleted (onboarding.apps)."""
    from onboarding.models import SetupProgress
    from onboarding.services import setup

    def load() -> tuple[bool, bool, int]:
        # Read only: a page view never writes (the row is made when a step is first saved).
        row = SetupProgress.objects.first() or SetupProgress()
        left = sum(1 for s in setup.STEPS if s.value not in row.steps)
        return (setup.is_open(row), not row.steps, left)

    return request_cache.remembered(
        request_cache.company_key(connection.schema_name, "setup_entry"), load
    )


@register.inclusion_tag("onboarding/setup/_entry.html", takes_context=True)
def setup_entry(context: Any) -> dict[str, Any]:
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in (
        Membership.Role.OWNER,
        Membership.Role.ADMIN,
    ):
        return {"open": False}
    if request.path.startswith("/setup/"):
        return {"open": False}
    is_open, fresh, left = entry_state()
    return {
        "open": is_open,
        "fresh": fresh,
        "left": left,
        "on_settings": request.path.startswith("/settings"),
        "csrf_token": context.get("csrf_token"),
    }
