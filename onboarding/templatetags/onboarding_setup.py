"""The "continue setting up" entry every CRM page shows to owners and admins until the
setup is finished or dismissed (and, on settings pages, the way back to it)."""

from __future__ import annotations

from typing import Any

from django import template

from tenants.models import Membership

register = template.Library()


@register.inclusion_tag("onboarding/setup/_entry.html", takes_context=True)
def setup_entry(context: Any) -> dict[str, Any]:
    from onboarding.models import SetupProgress
    from onboarding.services import setup

    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in (
        Membership.Role.OWNER,
        Membership.Role.ADMIN,
    ):
        return {"open": False}
    if request.path.startswith("/setup/"):
        return {"open": False}
    # Read only: a page view never writes (the row is made when a step is first saved).
    row = SetupProgress.objects.first() or SetupProgress()
    left = sum(1 for s in setup.STEPS if s.value not in row.steps)
    return {
        "open": setup.is_open(row),
        "fresh": not row.steps,
        "left": left,
        "on_settings": request.path.startswith("/settings"),
        "csrf_token": context.get("csrf_token"),
    }
