"""The billing banner on every page of a company's CRM (payment overdue, read-only, trial)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from tenants.models import Company
from tenants.services import request_cache


def trial_ends_at(company: Company) -> Any:
    """When the company's trial ends, for the banner on every page: kept in the request cache,
    forgotten when the subscription changes (billing.apps)."""
    from billing.models import Subscription

    return request_cache.remembered(
        request_cache.company_key(company.pk, "trial_ends_at"),
        lambda: (
            Subscription.objects.filter(company=company)
            .values_list("trial_ends_at", flat=True)
            .first()
        ),
    )


def billing_notice(request: HttpRequest) -> dict[str, Any]:
    """The banner: a support session in progress first (on every page it lasts), then
    billing's own notice."""
    found = _billing_notice(request)
    session = getattr(request, "support_session", None)
    if session is None:
        return found
    banner = format_html(
        '<span id="support-banner">{}</span> <a href="{}" id="support-end-link">{}</a>{}',
        _(
            "Support session: %(operator)s from Relata sees this CRM read-only. "
            "It is recorded and shown to the company's administrators."
        )
        % {"operator": session.operator_email},
        reverse("support_end"),
        _("End support session"),
        format_html(" · {}", found["billing_notice"]) if found else "",
    )
    return {"billing_notice": banner}


def _billing_notice(request: HttpRequest) -> dict[str, Any]:
    company = getattr(request, "company", None)
    if company is None or getattr(request, "membership", None) is None:
        return {}
    if company.status == Company.Status.PAST_DUE:
        return {
            "billing_notice": _(
                "The last payment failed. Everything works as usual; please update the card "
                "in Settings → Billing before access becomes read-only."
            )
        }
    if company.status == Company.Status.SUSPENDED:
        return {
            "billing_notice": _(
                "The subscription is suspended: the CRM is read-only. Your data is safe and "
                "can be exported; pay in Settings → Billing to continue working."
            )
        }
    if company.status == Company.Status.TRIALING:
        ends = trial_ends_at(company)
        if ends and ends - timezone.now() < timedelta(days=3):
            return {
                "billing_notice": _("The trial ends on %(date)s.")
                % {"date": date_format(timezone.localtime(ends), "SHORT_DATE_FORMAT")}
            }
    return {}
