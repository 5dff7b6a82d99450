"""The company's teams as the set-up screen shows them: heads, members, who is where."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Model

from crm_core.models import Employee, Team
from tenants.models import Membership

Role = Membership.Role
# Roles that see a team's records once they head it (the others see all, or only their own).
SEES_TEAM = {Role.HEAD}
SEES_ALL = {Role.OWNER, Role.ADMIN}


@dataclass
class Person:
    user_id: int
    name: str
    email: str
    role: str
    role_label: str
    is_active: bool
    team_id: int | None = None
    heads: list[str] = field(default_factory=list)


@dataclass
class TeamView:
    team: Team
    head: Person | None
    members: list[Person]

    @property
    def head_sees_nothing_more(self) -> bool:
        """The head's role gives her no view of the team's records (a plain manager): the
        screen says so and points at the role, rather than failing quietly."""
        return self.head is not None and self.head.role not in SEES_TEAM | SEES_ALL


@dataclass
class Structure:
    teams: list[TeamView]
    people: list[Person]  # active members who may be in a team, by name
    without_team: list[Person]


def _people(membership: Membership) -> dict[int, Person]:
    rows = (
        Membership.objects.filter(company_id=membership.company_id)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    return {
        m.user_id: Person(
            user_id=m.user_id,
            name=m.user.get_full_name() or m.user.email,
            email=m.user.email,
            role=m.role,
            role_label=m.get_role_display(),
            is_active=m.is_active,
        )
        for m in rows
    }


def structure(membership: Membership) -> Structure:
    """Every team with its head and members, and every active member with their team: three
    queries whatever the company's size (members, teams, employees)."""
    people = _people(membership)
    teams = list(Team.objects.order_by("name", "id"))
    placed = dict(Employee.objects.filter(team__isnull=False).values_list("user_id", "team_id"))
    views = []
    for team in teams:
        head = people.get(team.head_id) if team.head_id else None
        if head is not None:
            head.heads.append(team.name)
        members = [
            person
            for user_id, team_id in placed.items()
            if team_id == team.pk and (person := people.get(user_id)) is not None
        ]
        members.sort(key=lambda p: (not p.is_active, p.name.lower()))
        views.append(TeamView(team=team, head=head, members=members))
    for user_id, team_id in placed.items():
        if user_id in people:
            people[user_id].team_id = team_id
    working = [p for p in people.values() if p.is_active and p.role != Role.READ_ONLY]
    return Structure(
        teams=views,
        people=working,
        without_team=[p for p in working if p.team_id is None],
    )


def team_view(membership: Membership, team: Team) -> TeamView:
    return next(t for t in structure(membership).teams if t.team.pk == team.pk)


def also_used_by(team: Team) -> list[tuple[str, int]]:
    """What else points at the team (request forms, …) and will lose it when it is deleted,
    found through the model's relations so the CRM's sub-apps need not be named here."""
    found = []
    for relation in Team._meta.related_objects:
        related: type[Model] = relation.related_model
        if related is Employee or not relation.field.concrete:
            continue
        count = related._default_manager.filter(**{relation.field.name: team}).count()
        if count:
            found.append((str(related._meta.verbose_name_plural), count))
    return found
