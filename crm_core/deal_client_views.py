"""The deal card's client: found by name or INN and chosen, created from the typed name, or
taken off the deal. Choosing is rare beside the card's other fields, so each choice is a plain
form post that reloads the card (the contact persons and the header change with the client);
only the search answers htmx with the list it finds."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_core.access import member_required
from crm_core.queries.clients import client_for, client_list
from crm_core.queries.deals import deal_for
from crm_core.services.clients import ClientInput, create_client
from crm_core.services.deals import update_deal
from crm_core.views import _membership
from relata.inputs import whole_number

# Enough to pick from while typing; a longer list means the person should type more.
SHOWN = 10


@member_required
@require_GET
def deal_client_options(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The clients the person sees whose name (or INN) matches what they typed."""
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    query = request.GET.get("q", "").strip()[:100]
    found = list(client_list(membership, {"q": query}, sort="name")[: SHOWN + 1]) if query else []
    context = {
        "deal": deal,
        "query": query,
        "clients": found[:SHOWN],
        "more": len(found) > SHOWN,
    }
    if getattr(request, "htmx", False):
        return render(request, "crm_core/components/deal_client_options.html", context)
    return render(request, "crm_core/deal_client.html", context)


@member_required
@require_POST
def deal_client(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Put the chosen client (``client``), a new one (``client_name``) or none on the deal."""
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    version = whole_number(request.POST.get("version"))
    try:
        if version is None:
            raise ValidationError(_("Reload the page and try again."), code="version")
        name = request.POST.get("client_name", "").strip()
        if name:
            client = create_client(
                membership=membership,
                company=request.company,  # type: ignore[attr-defined]
                data=ClientInput(name=name[:300], kind="person"),
            )
        elif request.POST.get("client"):
            chosen = whole_number(request.POST.get("client"))
            if chosen is None:
                raise ValidationError(_("Choose a client from the list."), code="client")
            client = client_for(membership, chosen)
        else:
            client = None
        chosen_id = client.pk if client else None
        update_deal(membership=membership, deal=deal, version=version, client_id=chosen_id)
    except PermissionDenied:
        messages.error(request, _("Your role can only look, not change."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if client is None:
            messages.success(request, _("The deal has no client now."))
        else:
            messages.success(request, _("The deal's client is %(name)s.") % {"name": client.name})
    return redirect("deal_detail", deal_id=deal.pk)
