"""The requests-by-source report, by campaign: the requests in the period that carry a
campaign's utm_campaign, the deals made of them, the won ones and their revenue, beside what
the campaign cost — registered into the reports page (crm_core.reports knows nothing of
campaigns)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext as _

from crm_core.models import Stage
from crm_core.queries.leads import visible_leads
from crm_core.reports.queries import Bar, Report, Scope, _in_team, _percent
from marketing.models import Campaign
from marketing.queries import return_on_investment


def requests_by_campaign(scope: Scope) -> Report:
    leads = visible_leads(scope.membership).filter(
        created_at__gte=scope.start, created_at__lt=scope.end
    )
    leads = _in_team(leads, scope, "responsible").annotate(
        tag=KeyTextTransform("utm_campaign", "utm")
    )
    campaigns = {c.utm_campaign: c for c in Campaign.objects.exclude(utm_campaign="")}
    grouped = list(
        leads.filter(tag__in=list(campaigns))
        .order_by()
        .values("tag")
        .annotate(
            total=Count("id"),
            converted=Count("id", filter=Q(status="converted")),
            won=Count("id", filter=Q(deal__stage__outcome=Stage.Outcome.WON)),
            revenue=Sum(
                scope.rates.in_base("deal__amount", "deal__currency"),
                filter=Q(deal__stage__outcome=Stage.Outcome.WON),
            ),
        )
        .order_by("-total", "tag")
    )
    rows = []
    for row in grouped:
        campaign = campaigns[row["tag"]]
        revenue = row["revenue"] or Decimal(0)
        rows.append(
            [
                campaign.name,
                row["total"],
                row["converted"],
                row["won"],
                _percent(row["won"], row["total"]),
                revenue,
                campaign.cost,
                return_on_investment(campaign.cost, revenue),
            ]
        )
    bars = [Bar(campaigns[r["tag"]].name, r["total"], str(r["total"])) for r in grouped]
    return Report(
        "campaigns",
        str(_("Requests by campaign")),
        [
            _("Campaign"),
            _("Requests"),
            _("Made into deals"),
            _("Won"),
            _("Conversion into won"),
            _("Revenue"),
            _("Cost"),
            "ROI",
        ],
        rows,
        bars,
        str(_("Requests by campaign")),
    )
