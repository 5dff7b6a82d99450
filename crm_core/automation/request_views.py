"""Company-wide settings of incoming requests (owners and admins). Thin: writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_core.access import is_admin, member_required
from crm_core.automation.forms import RepeatWindowForm
from crm_core.automation.services import setup
from tenants.models import Membership


@member_required
@require_POST
def repeat_window(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    if not is_admin(membership):
        raise Http404("owners and admins only")
    form = RepeatWindowForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
        return redirect("automation_overview")
    try:
        setup.save_repeat_window(
            membership=membership, minutes=form.cleaned_data["repeat_window_minutes"]
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Saved."))
    return redirect("automation_overview")
