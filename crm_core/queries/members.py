"""The company's people a task or a deal can be given to."""

from __future__ import annotations

from tenants.models import Membership


def assignable_members(membership: Membership) -> list[tuple[int, str]]:
    """Active members who may work (not read-only), the acting person first."""
    members = (
        Membership.objects.filter(company_id=membership.company_id, is_active=True)
        .exclude(role=Membership.Role.READ_ONLY)
        .select_related("user")
        .order_by("user__email")
    )
    choices = [(m.user_id, m.user.get_full_name()) for m in members]
    choices.sort(key=lambda choice: choice[0] != membership.user_id)
    return choices
