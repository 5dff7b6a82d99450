"""Reads of deals, always through the member's visibility."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from crm_core.access import visible
from crm_core.customfields import filter_by
from crm_core.models import CustomField, Deal, Pipeline, Stage
from tenants.models import Membership

CARDS_PER_STAGE = 50


def visible_deals(membership: Membership) -> QuerySet[Deal]:
    return visible(Deal.objects.all(), membership)


def deal_for(membership: Membership, deal_id: int) -> Deal:
    """A deal the member may see, or 404 — never another person's deal by guessing its id."""
    return get_object_or_404(
        visible_deals(membership).select_related("client", "stage", "pipeline"), pk=deal_id
    )


@dataclass
class Column:
    stage: Stage
    deals: list[Deal]
    count: int
    total: Decimal


def filtered(
    deals: QuerySet[Deal], filters: Mapping[str, Any], fields: Iterable[CustomField] = ()
) -> QuerySet[Deal]:
    """The filters shared by the board and the list (cleaned ``DealFilterForm`` data)."""
    if filters.get("responsible"):
        deals = deals.filter(responsible_id=filters["responsible"])
    if filters.get("stage"):
        deals = deals.filter(stage_id=filters["stage"].pk)
    if filters.get("source"):
        deals = deals.filter(source=filters["source"])
    if filters.get("tag"):
        deals = deals.filter(client__tags__contains=[filters["tag"]])
    if filters.get("created_from"):
        deals = deals.filter(created_at__date__gte=filters["created_from"])
    if filters.get("created_to"):
        deals = deals.filter(created_at__date__lte=filters["created_to"])
    return filter_by(deals, fields, filters)


def board(
    membership: Membership,
    pipeline: Pipeline,
    filters: Mapping[str, Any] | None = None,
    fields: Iterable[CustomField] = (),
) -> list[Column]:
    """The Kanban board: per stage, the newest cards, how many deals and their sum.

    Three queries whatever the number of deals: stages, per-stage totals, and the cards
    (a window function keeps the newest CARDS_PER_STAGE of each stage).
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    deals = filtered(visible_deals(membership).filter(pipeline=pipeline), filters or {}, fields)
    totals: dict[int, tuple[int, Decimal]] = {
        row["stage_id"]: (row["n"], row["total"] or Decimal(0))
        for row in deals.values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    }
    cards = (
        deals.select_related("client")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=CARDS_PER_STAGE)
        .order_by("stage_id", "rank")
    )
    by_stage: dict[int, list[Deal]] = {stage.pk: [] for stage in stages}
    for deal in cards:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    return [
        Column(
            stage=stage,
            deals=by_stage.get(stage.pk, []),
            count=totals.get(stage.pk, (0, Decimal(0)))[0],
            total=totals.get(stage.pk, (0, Decimal(0)))[1],
        )
        for stage in stages
    ]


SORTS = {
    "new": ("-created_at", "-id"),
    "old": ("created_at", "id"),
    "amount": ("-amount", "-id"),
    "close": ("expected_close", "id"),
    "title": ("title", "id"),
}


def deal_list(
    membership: Membership,
    filters: Mapping[str, Any] | None = None,
    fields: Iterable[CustomField] = (),
    sort: str = "new",
) -> QuerySet[Deal]:
    """The list view's deals: filtered, sorted and within visibility (paged by the caller)."""
    deals = filtered(
        visible_deals(membership).select_related("client", "stage"), filters or {}, fields
    )
    return deals.order_by(*SORTS.get(sort, SORTS["new"]))
