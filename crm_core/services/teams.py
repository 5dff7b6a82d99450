"""Setting up the company's teams: naming heads and moving people between teams.

A team's head sees its members' records when her role is "head of sales"
(crm_core/access.py); request forms share requests among a team's members in turn; the
reports filter by team. Owners and admins set teams up; every change is in the audit log.
A person heads any number of teams and belongs to at most one (Employee.team), so a head
may head one team and work in another.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.models import Employee, Team
from crm_core.services.audit import record
from tenants.models import Membership

NAME_LENGTH = Team._meta.get_field("name").max_length or 200


def _clean_name(name: str, *, team: Team | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Name the team.")})
    if len(name) > NAME_LENGTH:
        raise ValidationError({"name": _("At most %(n)d characters, please.") % {"n": NAME_LENGTH}})
    same = Team.objects.filter(name__iexact=name)
    if team is not None:
        same = same.exclude(pk=team.pk)
    if same.exists():
        raise ValidationError({"name": _("There is a team with this name already.")})
    return name


def _colleague(actor: Membership, user_id: int | None, field: str) -> int | None:
    """A user id the actor named, checked against the actor's own company: only its active
    members who may work (not read-only) head or join a team."""
    if user_id is None:
        return None
    found = (
        Membership.objects.filter(company_id=actor.company_id, user_id=user_id, is_active=True)
        .exclude(role=Membership.Role.READ_ONLY)
        .exists()
    )
    if not found:
        raise ValidationError({field: _("Choose one of the company's active members.")})
    return user_id


@transaction.atomic
def create_team(*, membership: Membership, name: str, head_id: int | None) -> Team:
    require_admin(membership)
    team = Team.objects.create(
        name=_clean_name(name), head_id=_colleague(membership, head_id, "head")
    )
    record(membership, team, "create", {"name": (None, team.name), "head": (None, team.head_id)})
    return team


@transaction.atomic
def change_team(*, membership: Membership, team: Team, name: str, head_id: int | None) -> Team:
    """Rename the team and name its head (or none); the log gets what changed."""
    require_admin(membership)
    current = Team.objects.select_for_update().get(pk=team.pk)
    new_name = _clean_name(name, team=current)
    new_head = _colleague(membership, head_id, "head")
    changes: dict[str, tuple[object, object]] = {}
    if current.name != new_name:
        changes["name"] = (current.name, new_name)
    if current.head_id != new_head:
        changes["head"] = (current.head_id, new_head)
    if changes:
        current.name = new_name
        current.head_id = new_head
        current.save(update_fields=["name", "head"])
        record(membership, current, "update", changes)
    return current


@transaction.atomic
def delete_team(*, membership: Membership, team: Team) -> int:
    """Delete the team. Its members stay in the company without a team; their records,
    deals and tasks are untouched (request forms that shared requests among the team give
    them to the form's own person). Returns how many people were in it."""
    require_admin(membership)
    current = Team.objects.select_for_update().get(pk=team.pk)
    members = Employee.objects.filter(team=current)
    count = members.count()
    record(
        membership,
        current,
        "delete",
        {"name": (current.name, None), "head": (current.head_id, None)},
    )
    for employee in members:
        # By name: the team's id will point at nothing once it is gone.
        record(membership, employee, "update", {"team": (current.name, None)})
    members.update(team=None)
    current.delete()
    return count


@transaction.atomic
def move_member(*, membership: Membership, user_id: int, team: Team | None) -> bool:
    """Put a member into ``team`` (None: out of any team). Returns whether anything moved."""
    require_admin(membership)
    if team is not None or not Employee.objects.filter(user_id=user_id).exists():
        # Taking someone out of a team needs no more than their row here: a member who left
        # the company can still be taken out of the team they were in.
        _colleague(membership, user_id, "user")
    employee, _created = Employee.objects.select_for_update().get_or_create(user_id=user_id)
    if employee.team_id == (team.pk if team else None):
        return False
    record(membership, employee, "update", {"team": (employee.team_id, team.pk if team else None)})
    employee.team = team
    employee.save(update_fields=["team"])
    return True
