"""Settings → currencies: the company's base currency and the exchange rates (owners and
admins). Rates come from the daily beat task too; what an admin types for a day wins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.currencies import NAMES, sign
from crm_core.forms import BaseCurrencyForm, ExchangeRateForm
from crm_core.models import ExchangeRate
from crm_core.queries.rates import rates_today, recent_rates
from crm_core.services.rates import delete_rate, set_base_currency, set_rate
from crm_core.views import _errors_to_form, _fail, _membership
from tenants.models import Company


def _admins_only(request: HttpRequest) -> None:
    if not is_admin(_membership(request)):
        raise Http404("owners and admins only")


def _company(request: HttpRequest) -> Company:
    return request.company  # type: ignore[attr-defined]


@member_required
@require_http_methods(["GET", "POST"])
def currency_settings(request: HttpRequest) -> HttpResponse:
    _admins_only(request)
    membership, company = _membership(request), _company(request)
    part = request.POST.get("part")
    base_form = BaseCurrencyForm(
        request.POST if part == "base" else None, initial={"currency": company.currency}
    )
    rate_form = ExchangeRateForm(
        request.POST if part == "rate" else None,
        # The first currency that is not the base: the rate people most often type.
        initial={
            "day": timezone.localdate(),
            "currency": next(code for code in NAMES if code != company.currency),
        },
        prefix="rate",
    )
    if request.method == "POST":
        try:
            if part == "base" and base_form.is_valid():
                set_base_currency(
                    membership=membership,
                    company=company,
                    currency=base_form.cleaned_data["currency"],
                )
                messages.success(request, _("Saved."))
                return redirect("currency_settings")
            if part == "rate" and rate_form.is_valid():
                set_rate(membership=membership, company=company, **rate_form.cleaned_data)
                messages.success(request, _("Rate saved."))
                return redirect("currency_settings")
            if part == "load":
                from crm_core.tasks import load_company_rates

                load_company_rates.delay()
                messages.success(request, _("Loading today's rates: they appear here in a minute."))
                return redirect("currency_settings")
        except ValidationError as exc:
            _errors_to_form(rate_form if part == "rate" else base_form, exc)
        except PermissionDenied as exc:
            _fail(request, exc)
    return render(
        request,
        "crm_core/currencies.html",
        {
            "base_form": base_form,
            "rate_form": rate_form,
            "base": company.currency,
            "base_sign": sign(company.currency),
            "base_name": NAMES.get(company.currency, company.currency),
            "rates": recent_rates(company.currency),
            "today": rates_today(company.currency),
        },
    )


@member_required
@require_POST
def rate_delete(request: HttpRequest, rate_id: int) -> HttpResponse:
    _admins_only(request)
    rate = get_object_or_404(ExchangeRate, pk=rate_id)
    try:
        delete_rate(membership=_membership(request), rate=rate)
        messages.success(request, _("Rate removed."))
    except PermissionDenied as exc:
        _fail(request, exc)
    return redirect("currency_settings")
