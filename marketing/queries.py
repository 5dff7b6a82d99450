"""Reads of the marketing pages: campaigns with their figures, segments with their sizes, a
contact person's consents, and the return of a campaign (requests, deals, won revenue).

Campaigns and segments are the company's (every member sees them, as the reports); who is in
a segment is read through the member's own visibility (``services.segments.contacts_of``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.shortcuts import get_object_or_404

from crm_core.models import Contact, Deal, Lead, Stage
from crm_core.queries.clients import contact_for
from crm_core.queries.leads import visible_leads
from marketing.models import Campaign, Consent, Recipient, Segment, SendingSettings, Suppression
from tenants.models import Membership

R = Recipient.Status


def campaign_for(membership: Membership, campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("segment"), pk=campaign_id)


def segment_for(membership: Membership, segment_id: int) -> Segment:
    return get_object_or_404(Segment.objects.select_related("view"), pk=segment_id)


def segments(membership: Membership) -> QuerySet[Segment]:
    return Segment.objects.select_related("view").annotate(listed=Count("members"))


@dataclass
class Figures:
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    soft_bounced: int = 0
    complained: int = 0
    skipped: int = 0
    failed: int = 0
    requests: int = 0
    deals: int = 0
    won: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal(0))


FIGURES = {
    "queued": Count("id", filter=Q(status=R.QUEUED)),
    "sent": Count("id", filter=Q(status=R.SENT)),
    "delivered": Count("id", filter=Q(delivered_at__isnull=False)),
    "opened": Count("id", filter=Q(opened_at__isnull=False)),
    "clicked": Count("id", filter=Q(clicked_at__isnull=False)),
    "unsubscribed": Count("id", filter=Q(unsubscribed_at__isnull=False)),
    "bounced": Count("id", filter=Q(bounced_at__isnull=False)),
    "soft_bounced": Count("id", filter=Q(soft_bounced_at__isnull=False, bounced_at__isnull=True)),
    "complained": Count("id", filter=Q(complained_at__isnull=False)),
    "skipped": Count("id", filter=Q(status=R.SKIPPED)),
    "failed": Count("id", filter=Q(status=R.FAILED)),
}


def _utm(leads: QuerySet[Lead]) -> QuerySet[Any]:
    return leads.annotate(campaign_tag=KeyTextTransform("utm_campaign", "utm"))


def returns(membership: Membership, tags: list[str]) -> dict[str, dict[str, Any]]:
    """Requests carrying each campaign's utm_campaign (as the member sees requests), the
    deals made from them, and the won ones' amounts — one grouped query for all campaigns."""
    if not tags:
        return {}
    rows = (
        _utm(visible_leads(membership))
        .filter(campaign_tag__in=tags)
        .order_by()
        .values("campaign_tag")
        .annotate(
            requests=Count("id"),
            deals=Count("deal", distinct=True),
            won=Count("deal", distinct=True, filter=Q(deal__stage__outcome=Stage.Outcome.WON)),
            revenue=Sum("deal__amount", filter=Q(deal__stage__outcome=Stage.Outcome.WON)),
        )
    )
    return {row["campaign_tag"]: row for row in rows}


def campaigns_with_figures(membership: Membership) -> list[tuple[Campaign, Figures]]:
    campaigns = list(Campaign.objects.select_related("segment")[:500])
    ids = [c.pk for c in campaigns]
    counted = {
        row["campaign_id"]: row
        for row in Recipient.objects.filter(campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(**FIGURES)
    }
    back = returns(membership, [c.utm_campaign for c in campaigns if c.utm_campaign])
    result = []
    for campaign in campaigns:
        row: dict[str, Any] = dict(counted.get(campaign.pk, {}))
        got = back.get(campaign.utm_campaign, {})
        figures = Figures(
            **{k: int(row.get(k, 0)) for k in FIGURES},
            requests=got.get("requests", 0),
            deals=got.get("deals", 0),
            won=got.get("won", 0),
            revenue=got.get("revenue") or Decimal(0),
        )
        result.append((campaign, figures))
    return result


def figures_of(membership: Membership, campaign: Campaign) -> Figures:
    for found, figures in campaigns_with_figures(membership):
        if found.pk == campaign.pk:
            return figures
    return Figures()


def return_on_investment(cost: Decimal, revenue: Decimal) -> str:
    if not cost:
        return "—"
    return f"{(revenue - cost) / cost * 100:.0f} %"


def campaign_requests(membership: Membership, campaign: Campaign) -> QuerySet[Lead]:
    return _utm(visible_leads(membership)).filter(campaign_tag=campaign.utm_campaign)[:100]


def campaign_deals(membership: Membership, campaign: Campaign) -> QuerySet[Deal]:
    ids = _utm(visible_leads(membership)).filter(campaign_tag=campaign.utm_campaign).values("deal")
    return Deal.objects.filter(pk__in=ids).select_related("stage")[:100]


def consents_of(membership: Membership, contact_id: int) -> tuple[Contact, list[Consent]]:
    contact = contact_for(membership, contact_id)
    addresses = [e.lower() for e in contact.emails]
    found = Consent.objects.filter(Q(contact=contact) | Q(email__in=addresses)).order_by(
        "-given_at", "-id"
    )
    return contact, list(found)


def suppressions_of(contact: Contact) -> list[Suppression]:
    return list(Suppression.objects.filter(email__in=[e.lower() for e in contact.emails]))


def sending_settings_row() -> SendingSettings:
    from marketing.services.channel import sending_settings

    return sending_settings().settings


def recipients_of(campaign: Campaign) -> QuerySet[Recipient]:
    return Recipient.objects.filter(campaign=campaign).order_by("-id")


def recipients_shown(campaign: Campaign, limit: int = 50) -> list[Recipient]:
    """The campaign's latest letters, each with ``suppressed_as``: why the address is no
    longer written to (unsubscribed, bounced, soft bounces in a row…), or ""."""
    shown = list(recipients_of(campaign)[:limit])
    reasons = {
        row.email: row.get_reason_display()
        for row in Suppression.objects.filter(email__in=[r.email.lower() for r in shown])
    }
    for recipient in shown:
        recipient.suppressed_as = reasons.get(recipient.email.lower(), "")  # type: ignore[attr-defined]
    return shown
