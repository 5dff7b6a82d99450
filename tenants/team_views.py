"""The team page on a company's host, and accepting an invitation on the public site.

Thin: the rules live in tenants.services.team; lookups by id go through tenants.queries.team,
which scopes them to the acting member's company.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.queries import seat_summary
from relata.inputs import whole_number
from tenants.models import Membership, User
from tenants.queries import support as support_queries
from tenants.queries import team as team_queries
from tenants.services import handoff, support
from tenants.services import team as team_service
from tenants.urlbuilding import company_url, public_url
from tenants.views import AUTH_BACKEND

Role = Membership.Role


def _manager(request: HttpRequest) -> Membership:
    membership = getattr(request, "membership", None)
    if getattr(request, "company", None) is None or not team_queries.can_manage_team(membership):
        raise Http404("owners and admins only")
    return membership  # type: ignore[return-value]


def _refused(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, PermissionDenied):
        messages.error(request, _("Only the owner can do this."))
    else:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


def _link(request: HttpRequest) -> team_service.LinkBuilder:
    return lambda token: public_url(request, team_service.invitation_link_path(token))


def _back() -> HttpResponseRedirect:
    return redirect("team")


@require_GET
def team(request: HttpRequest) -> HttpResponse:
    if getattr(request, "company", None) is not None and not request.user.is_authenticated:
        return redirect("company_login")
    actor = _manager(request)
    members = list(team_queries.members(actor))
    heirs = [m for m in members if m.is_active and m.role != Role.READ_ONLY]
    return render(
        request,
        "tenants/team.html",
        {
            "members": members,
            "heirs": heirs,
            "invitations": list(team_queries.open_invitations(actor)),
            "roles": [(value, label) for value, label in Role.choices if value != Role.OWNER],
            "seats": seat_summary(actor.company),
            "is_owner": actor.role == Role.OWNER,
            "company": actor.company,
            "support_allowed": support.access_allowed(actor.company),
            "support_days": support.ACCESS_DAYS,
            "support_sessions": list(support_queries.sessions_seen_by(actor)),
        },
    )


def _carry_out(request: HttpRequest, write: Callable[[], object], done: str) -> HttpResponse:
    """Run one team change; say it was done, or why it was refused; back to the team page."""
    try:
        write()
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, done)
    return _back()


@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    email = request.POST.get("email", "")
    return _carry_out(
        request,
        lambda: team_service.invite(
            actor=actor, email=email, role=request.POST.get("role", ""), link=_link(request)
        ),
        _("Invitation sent to %(email)s.") % {"email": email.strip()},
    )


@require_POST
def support_access(request: HttpRequest) -> HttpResponse:
    """The company's consent to Relata's support entering its CRM (read-only, recorded)."""
    actor = _manager(request)
    allowed = request.POST.get("allowed") == "on"
    raw_days = request.POST.get("days", "")
    days = whole_number(raw_days, below=10_000)
    return _carry_out(
        request,
        lambda: support.set_access(actor=actor, allowed=allowed, days=days),
        _("Support access allowed.") if allowed else _("Support access switched off."),
    )


@require_POST
def resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    actor = _manager(request)
    invitation = team_queries.invitation_for(actor, invitation_id)
    return _carry_out(
        request,
        lambda: team_service.resend(actor=actor, invitation=invitation, link=_link(request)),
        _("Invitation sent again."),
    )


@require_POST
def revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    actor = _manager(request)
    invitation = team_queries.invitation_for(actor, invitation_id)
    return _carry_out(
        request,
        lambda: team_service.revoke(actor=actor, invitation=invitation),
        _("Invitation revoked."),
    )


@require_POST
def change_role(request: HttpRequest, member_id: int) -> HttpResponse:
    actor = _manager(request)
    member = team_queries.member_for(actor, member_id)
    return _carry_out(
        request,
        lambda: team_service.change_role(
            actor=actor, member=member, role=request.POST.get("role", "")
        ),
        _("Role changed."),
    )


@require_POST
def deactivate(request: HttpRequest, member_id: int) -> HttpResponse:
    actor = _manager(request)
    member = team_queries.member_for(actor, member_id)
    heir = None
    heir_id = request.POST.get("reassign_to", "")
    if (heir_pk := whole_number(heir_id)) is not None:
        heir = team_queries.members(actor).filter(pk=heir_pk).first()
    return _carry_out(
        request,
        lambda: team_service.deactivate(actor=actor, member=member, reassign_to=heir),
        _("Member deactivated; their open work was handed over."),
    )


@require_POST
def transfer(request: HttpRequest, member_id: int) -> HttpResponse:
    actor = _manager(request)
    member = team_queries.member_for(actor, member_id)
    return _carry_out(
        request,
        lambda: team_service.transfer_ownership(actor=actor, member=member),
        _("Ownership transferred."),
    )


# --- Public site: accepting an invitation ------------------------------------------------


def _into(request: HttpRequest, membership: Membership) -> HttpResponseRedirect:
    token = handoff.issue(user=membership.user, company=membership.company)
    return HttpResponseRedirect(company_url(request, membership.company, f"/handoff/{token}/"))


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = team_queries.invitation_by_token(token)
    if invitation is None:
        return render(
            request,
            "tenants/invitation.html",
            {"error": _("This invitation link is not valid.")},
            status=404,
        )
    error = None
    if invitation.revoked_at is not None:
        error = _("This invitation was revoked.")
    elif invitation.accepted_at is not None:
        error = _("This invitation has already been used.")
    elif not invitation.is_open():
        error = _("This invitation has expired. Ask the person who invited you to send it again.")
    user = request.user if request.user.is_authenticated else None
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    if request.method == "POST" and error is None:
        try:
            if user is not None:
                membership = team_service.accept(token=token, user=user)
            else:
                if request.POST.get("password") != request.POST.get("password2"):
                    raise team_service.TeamError(_("The two passwords differ."))
                membership = team_service.register_and_accept(
                    token=token,
                    full_name=request.POST.get("full_name", ""),
                    password=request.POST.get("password", ""),
                )
                login(request, membership.user, backend=AUTH_BACKEND)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return _into(request, membership)
    login_next = reverse("account_login") + "?" + urlencode({"next": request.path})
    return render(
        request,
        "tenants/invitation.html",
        {
            "invitation": invitation,
            "error": error,
            "other_user": user is not None and user.email.lower() != invitation.email.lower(),
            "has_account": has_account,
            "login_url": login_next,
        },
        status=200 if error is None else 400,
    )


@require_POST
def leave_for_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Logged in as someone else: log out and come back to the invitation."""
    logout(request)
    return redirect("accept_invitation", token=token)
