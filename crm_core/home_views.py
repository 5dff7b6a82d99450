"""The company's home page: the member's day, requests, deals and month at a glance, and a quick
way to add a client. Thin: figures come from crm_core.queries.home."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm_core.access import member_required
from crm_core.forms import ClientForm
from crm_core.once_views import acts_once
from crm_core.queries.clients import recent_clients
from crm_core.queries.duplicates import find_duplicates
from crm_core.queries.home import home_for
from crm_core.queries.home_chart import month_chart
from crm_core.services.clients import ClientInput, create_client
from crm_core.views import _errors_to_form
from tenants.models import Membership


def _page(request: HttpRequest, form: ClientForm, duplicates: object = None) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    company = request.company  # type: ignore[attr-defined]
    # The person's day in their own zone (PersonTimeZoneMiddleware activated it).
    home = home_for(membership, company, timezone.get_current_timezone())
    zone = ZoneInfo(company.time_zone)
    chart = month_chart(
        company_id=company.pk,
        ids=home.user_ids,
        zone=zone,
        today=home.today_local or timezone.now().astimezone(zone).date(),
        rates=home.rates,
        target=next((t.target for t in home.targets if t.kind == "amount"), None),
    )
    return render(
        request,
        "crm_core/workspace.html",
        {
            "form": form,
            "duplicates": duplicates,
            "home": home,
            "chart": chart,
            "clients": recent_clients(membership=membership, limit=5),
            "membership": membership,
            "currency": company.currency,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
@acts_once
def home(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    form = ClientForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return _page(request, form)
    data = form.cleaned_data
    duplicates = find_duplicates(
        membership, inn=data["inn"], phone=data["phone"], email=data["email"]
    )
    if duplicates.found and not data["create_anyway"]:
        form.add_error(None, _("A client with this INN, phone or e-mail already exists."))
        return _page(request, form, duplicates)
    try:
        client = create_client(
            membership=membership,
            company=request.company,  # type: ignore[attr-defined]
            data=ClientInput(
                name=data["name"],
                kind=data["kind"],
                inn=data["inn"],
                foreign_tax_id=data["foreign_tax_id"],
                phones=[data["phone"]],
                contact_name=data["contact_name"],
                email=data["email"],
            ),
        )
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return _page(request, form)
    messages.success(request, _("Client %(name)s added.") % {"name": client.name})
    return redirect("workspace")
