"""The API tokens page for owners and admins: make a token (shown once), see when each was
last used, revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.access import member_required, require_admin
from crm_core.api.forms import TokenForm
from crm_core.api.models import ApiToken
from crm_core.api.services import issue_token, revoke_token
from tenants.models import Membership, User


def _admin(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require_admin(membership)
    return membership


@member_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    members = list(
        Membership.objects.select_related("user")
        .filter(company_id=membership.company_id, is_active=True)
        .order_by("user__email")
    )
    form = TokenForm(request.POST or None, members=members, initial={"acting_as": membership.pk})
    secret = None
    if request.method == "POST" and form.is_valid():
        acting_as = next((m for m in members if m.pk == form.cleaned_data["acting_as"]), None)
        try:
            issued = issue_token(
                membership=membership,
                name=form.cleaned_data["name"],
                access=form.cleaned_data["access"],
                resources=form.cleaned_data["resources"],
                acting_as=acting_as,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            secret = issued.secret
            form = TokenForm(members=members, initial={"acting_as": membership.pk})
    rows = list(ApiToken.objects.all()[:200])
    ids = {t.user_id for t in rows} | {t.issued_by_id for t in rows if t.issued_by_id}
    people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "secret": secret,
            # The issuer is shown because the token stops working when they stop being an admin.
            "tokens": [(t, people.get(t.user_id), people.get(t.issued_by_id or 0)) for t in rows],
        },
    )


@member_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    membership = _admin(request)
    token = get_object_or_404(ApiToken, pk=token_id)
    revoke_token(membership=membership, token=token)
    messages.success(request, _("The token is revoked; calls with it are refused from now on."))
    return redirect("api_tokens")
