"""Reads of deals, always through the member's visibility."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.shortcuts import get_object_or_404

from crm_core.access import visible, visible_user_ids
from crm_core.customfields import filter_by
from crm_core.models import CustomField, Deal, DealTotal, Pipeline, Stage
from relata.db import connection
from tenants.models import Membership

# Cards shown per column; the column links to the list for the rest (a column of 30,000 cards
# helps nobody and costs the page).
CARDS_PER_STAGE = 30


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

    Four queries whatever the number of deals: the stages; the column heads (from the
    trigger-kept ``DealTotal`` rows when no filter narrows the board, otherwise counted); the
    ids of each stage's newest cards, one ``LIMIT`` per stage walking ``deal_board_idx``; and
    those cards with their clients.
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    deals = filtered(visible_deals(membership).filter(pipeline=pipeline), filters, fields)
    totals = _counted(deals) if filters else _kept_totals(membership, pipeline)
    by_stage: dict[int, list[Deal]] = {stage.pk: [] for stage in stages}
    ids = _newest_ids(deals, stages)
    if ids:
        for deal in (
            deals.filter(pk__in=ids).select_related("client").order_by("-created_at", "-id")
        ):
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


Totals = dict[int, tuple[int, Decimal]]


def _counted(deals: QuerySet[Deal]) -> Totals:
    return {
        row["stage_id"]: (row["n"], row["total"] or Decimal(0))
        for row in deals.values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    }


def _kept_totals(membership: Membership, pipeline: Pipeline) -> Totals:
    rows = DealTotal.objects.filter(pipeline=pipeline)
    ids = visible_user_ids(membership)
    if ids is not None:
        rows = rows.filter(responsible_key__in=ids)
    return {
        row["stage_id"]: (row["n"] or 0, row["total"] or Decimal(0))
        for row in rows.values("stage_id").annotate(n=Sum("deals"), total=Sum("amount"))
    }


def _newest_ids(deals: QuerySet[Deal], stages: list[Stage]) -> list[int]:
    """The newest CARDS_PER_STAGE deal ids of every stage in one round trip: a UNION ALL of
    per-stage ``ORDER BY created_at DESC LIMIT n`` queries, each an index walk that stops
    after n rows (a window function over the pipeline would read every deal first)."""
    if not stages:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for stage in stages:
        sql, stage_params = (
            deals.filter(stage_id=stage.pk)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[:CARDS_PER_STAGE]
            .query.sql_with_params()
        )
        parts.append(f"({sql})")
        params.extend(stage_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return [row[0] for row in cursor.fetchall()]


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
