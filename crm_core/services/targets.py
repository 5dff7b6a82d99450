"""Sales targets: what a manager, a team or the whole company should sell in a month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.models import SalesTarget, Team
from crm_core.services.audit import record
from tenants.models import Membership

LARGEST = Decimal("99999999999999")


@dataclass(frozen=True)
class TargetCell:
    """One cell of the targets grid: whose (a user id, a team id, or neither for the company),
    which month, and the value typed (None: no target)."""

    month: date
    value: Decimal | None
    user_id: int | None = None
    team_id: int | None = None


def _check(cell: TargetCell, kind: str) -> None:
    if cell.month.day != 1:
        raise ValidationError(_("A target is set for a whole month."))
    if cell.value is None:
        return
    if cell.value < 0 or cell.value > LARGEST:
        raise ValidationError(_("A target is a number from 0 up."))
    if kind == SalesTarget.Kind.WON_DEALS and cell.value != cell.value.to_integral_value():
        raise ValidationError(_("A number of deals is a whole number."))


@transaction.atomic
def save_targets(
    *, membership: Membership, kind: str, cells: Iterable[TargetCell], member_ids: set[int]
) -> int:
    """Write a grid of targets at once: a value sets (or changes) a target, an empty cell
    removes it. People must be members of the company (``member_ids``) and teams its own.
    All or nothing: one bad cell and no cell is saved. Returns how many targets changed."""
    require_admin(membership)
    if kind not in SalesTarget.Kind.values:
        raise ValidationError(_("Choose revenue or won deals."))
    team_ids = set(Team.objects.values_list("pk", flat=True))
    changed = 0
    for cell in cells:
        _check(cell, kind)
        if cell.user_id is not None and cell.user_id not in member_ids:
            raise ValidationError(_("This person is not a member of the company."))
        if cell.team_id is not None and cell.team_id not in team_ids:
            raise ValidationError(_("No such team."))
        # ``user_id=None`` means IS NULL here: the company's own target has neither.
        whose: dict[str, int | None] = {"user_id": cell.user_id, "team_id": cell.team_id}
        current = SalesTarget.objects.filter(month=cell.month, kind=kind, **whose).first()
        if cell.value is None:
            if current is not None:
                record(membership, current, "delete", {"value": (current.value, "")})
                current.delete()
                changed += 1
        elif current is None:
            target = SalesTarget.objects.create(
                month=cell.month,
                kind=kind,
                user_id=cell.user_id,
                team_id=cell.team_id,
                value=cell.value,
            )
            record(membership, target, "create", {"value": ("", cell.value)})
            changed += 1
        elif current.value != cell.value:
            record(membership, current, "update", {"value": (current.value, cell.value)})
            current.value = cell.value
            current.save(update_fields=["value"])
            changed += 1
    return changed
