from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm_core.access import member_required
from crm_core.forms import ClientForm
from crm_core.queries import recent_clients
from crm_core.services import add_client


@member_required
@require_http_methods(["GET", "POST"])
def workspace(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        add_client(membership=membership, name=form.cleaned_data["name"])
        return redirect("workspace")
    clients = recent_clients(membership=membership)
    return render(request, "crm_core/workspace.html", {"form": form, "clients": clients})
