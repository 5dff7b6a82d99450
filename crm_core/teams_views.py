"""The company's teams (owners and admins): create, rename, name heads, move people, delete.

Thin: the rules are in crm_core.services.teams, the page's data in crm_core.queries.teams.
The members themselves (invitations, roles) are on the Team page of tenants; this screen
only places them in teams.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.access import member_required
from crm_core.models import Team
from crm_core.queries.teams import Person, also_used_by, structure
from crm_core.services import once
from crm_core.services import teams as service
from crm_core.settings_views import _admins_only
from crm_core.views import _errors_to_form, _fail, _membership
from relata.inputs import whole_number
from tenants.models import Membership


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=service.NAME_LENGTH)
    head = forms.TypedChoiceField(
        label=gettext_lazy("Head"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, people: list[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["head"].choices = [  # type: ignore[attr-defined]
            ("", _("No head yet")),
            *((p.user_id, f"{p.name} · {p.role_label}") for p in people),
        ]


@member_required
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    """All teams as cards, everyone with their team, and a form for a new team."""
    _admins_only(request)
    membership = _membership(request)
    found = structure(membership)
    form = TeamForm(request.POST or None, people=found.people)
    if request.method == "POST" and form.is_valid():
        try:
            with once.acting_once(request.POST.get(once.FIELD)):
                team = service.create_team(
                    membership=membership,
                    name=form.cleaned_data["name"],
                    head_id=form.cleaned_data["head"],
                )
        except once.AlreadySubmittedError:
            return redirect("teams")
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
            return redirect("teams")
    return render(
        request,
        "crm_core/teams.html",
        {
            "structure": found,
            "form": form,
            "teams": [t.team for t in found.teams],
            "head_role": Membership.Role.HEAD.label,
        },
        status=400 if form.errors else 200,
    )


@member_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    _admins_only(request)
    membership = _membership(request)
    team = get_object_or_404(Team, pk=team_id)
    found = structure(membership)
    view = next(t for t in found.teams if t.team.pk == team.pk)
    form = TeamForm(
        request.POST or None,
        people=found.people,
        initial={"name": team.name, "head": team.head_id or ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            service.change_team(
                membership=membership,
                team=team,
                name=form.cleaned_data["name"],
                head_id=form.cleaned_data["head"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("teams")
    joinable = [p for p in found.people if p.team_id != team.pk]
    return render(
        request,
        "crm_core/team_edit.html",
        {
            "view": view,
            "form": form,
            "joinable": joinable,
            "used_by": also_used_by(team),
            "head_role": Membership.Role.HEAD.label,
        },
        status=400 if form.errors else 200,
    )


@member_required
@require_POST
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    _admins_only(request)
    team = get_object_or_404(Team, pk=team_id)
    name = team.name
    try:
        count = service.delete_team(membership=_membership(request), team=team)
    except PermissionDenied as exc:
        _fail(request, exc)
        return redirect("teams")
    messages.success(
        request,
        _("Team “%(name)s” deleted; its %(count)d people stay in the company without a team.")
        % {"name": name, "count": count},
    )
    return redirect("teams")


@member_required
@require_POST
def team_move(request: HttpRequest) -> HttpResponse:
    """Put one person into a team, or out of any (team empty). Back to where it was asked."""
    _admins_only(request)
    user_id = whole_number(request.POST.get("user", ""))
    raw_team = request.POST.get("team", "")
    team = None
    if raw_team:
        team_id = whole_number(raw_team)
        team = Team.objects.filter(pk=team_id).first() if team_id is not None else None
        if team is None:
            messages.error(request, _("That team is gone: reload the page."))
            return _back(request)
    if user_id is None:
        messages.error(request, _("Choose a person."))
        return _back(request)
    try:
        moved = service.move_member(membership=_membership(request), user_id=user_id, team=team)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        if moved:
            messages.success(
                request,
                _("Moved to “%(team)s”.") % {"team": team.name}
                if team
                else _("Taken out of the team."),
            )
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    back = whole_number(request.POST.get("back_to_team", ""))
    if back is not None and Team.objects.filter(pk=back).exists():
        return redirect("team_edit", back)
    return redirect("teams")
