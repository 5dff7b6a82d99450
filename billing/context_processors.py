"""The billing banner on every page of a company's CRM (payment overdue, read-only, trial)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tenants.models import Company


def billing_notice(request: HttpRequest) -> dict[str, Any]:
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
        from billing.models import Subscription

        ends = (
            Subscription.objects.filter(company=company)
            .values_list("trial_ends_at", flat=True)
            .first()
        )
        if ends and ends - timezone.now() < timedelta(days=3):
            return {
                "billing_notice": _("The trial ends on %(date)s.")
                % {"date": date_format(timezone.localtime(ends), "SHORT_DATE_FORMAT")}
            }
    return {}
