"""The console's pages. Thin: reads in billing.operators.queries, actions in .services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import uuid4

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing.models import Plan, SeatChange, StripeEvent
from billing.operators import queries, services
from billing.operators.access import operator_required
from billing.operators.charts import bar_chart
from tenants.models import Company, Membership
from tenants.services.network import client_ip
from tenants.services.support import access_allowed
from tenants.urlbuilding import company_url


@operator_required
@require_GET
def company_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    plan = request.GET.get("plan", "")
    page = Paginator(queries.companies(search=search, status=status, plan=plan), 50).get_page(
        request.GET.get("page")
    )
    rows = [(company, queries.mrr_of(company)) for company in page.object_list]
    return render(
        request,
        "billing/ops/companies.html",
        {
            "rows": rows,
            "page": page,
            "q": search,
            "status": status,
            "plan": plan,
            "statuses": Company.Status.choices,
            "plans": Plan.objects.all(),
            "failed_seat_changes": SeatChange.objects.filter(state="failed").count(),
            "unknown_events": StripeEvent.objects.filter(state="unknown_customer").count(),
        },
    )


@operator_required
@require_GET
def company_detail(request: HttpRequest, company_id: int) -> HttpResponse:
    company = get_object_or_404(queries.companies(), pk=company_id)
    return render(
        request,
        "billing/ops/company.html",
        {
            "c": company,
            "mrr": queries.mrr_of(company),
            "log": queries.log_of(company),
            "plans": Plan.objects.all(),
            "owners": Membership.objects.filter(company=company, role="owner").select_related(
                "user"
            ),
            "seat_changes": SeatChange.objects.filter(company=company)[:20],
            "support_allowed": access_allowed(company),
            # One id per rendering of the page: a credit submitted twice is granted once.
            "operation": uuid4().hex,
        },
    )


def _days(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("days", ""))
    except ValueError as exc:
        raise ValidationError(_("Give a number of days from 1 to 366.")) from exc


def _amount(request: HttpRequest) -> Decimal:
    try:
        return Decimal(request.POST.get("amount", "").replace(",", ".").strip())
    except InvalidOperation as exc:
        raise ValidationError(
            _("Give an amount greater than zero, with at most two decimals.")
        ) from exc


ACTIONS: dict[str, Callable[[HttpRequest, Any, Company], object]] = {
    "extend_trial": lambda r, op, c: services.extend_trial(operator=op, company=c, days=_days(r)),
    "grant_free_period": lambda r, op, c: services.grant_free_period(
        operator=op, company=c, days=_days(r)
    ),
    "grant_credit": lambda r, op, c: services.grant_credit(
        operator=op, company=c, amount=_amount(r), operation=r.POST.get("operation", "")
    ),
    "change_plan": lambda r, op, c: services.change_plan(
        operator=op,
        company=c,
        plan=get_object_or_404(Plan, pk=r.POST.get("plan") or 0),
    ),
    "suspend": lambda r, op, c: services.suspend(operator=op, company=c),
    "restore": lambda r, op, c: services.restore(operator=op, company=c),
    "schedule_deletion": lambda r, op, c: services.schedule_deletion(operator=op, company=c),
    "cancel_deletion": lambda r, op, c: services.cancel_deletion(operator=op, company=c),
    "sync_seats": lambda r, op, c: services.sync_seats_now(operator=op, company=c),
}


@operator_required
@require_POST
def company_action(request: HttpRequest, company_id: int, action: str) -> HttpResponse:
    company = get_object_or_404(Company, pk=company_id)
    run = ACTIONS.get(action)
    if run is None:
        return HttpResponse(status=404)
    try:
        run(request, request.user, company)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Exception as exc:
        messages.error(request, _("Failed: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Done."))
    return redirect("ops_company", company_id=company.pk)


@operator_required
@require_POST
def open_support(request: HttpRequest, company_id: int) -> HttpResponse:
    """Into the company's CRM as support, if the company allows it (recorded, audited)."""
    company = get_object_or_404(Company, pk=company_id)
    try:
        token = services.open_support_session(
            operator=request.user,  # type: ignore[arg-type]
            company=company,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("ops_company", company_id=company.pk)
    return HttpResponseRedirect(company_url(request, company, f"/support/{token}/"))


@operator_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    figures = queries.metrics()
    chart = bar_chart(
        [(week.strftime("%d.%m"), count) for week, count in figures.new_by_week],
        title=_("New companies per week"),
    )
    seats_chart = bar_chart(
        [(day.strftime("%d.%m"), seats) for day, seats in figures.seats_by_day],
        title=_("Seats in use per day"),
    )
    return render(
        request,
        "billing/ops/metrics.html",
        {"m": figures, "chart": chart, "seats_chart": seats_chart},
    )
