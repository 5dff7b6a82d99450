"""Reads of deals, always through the member's visibility."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils.formats import get_format

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


@dataclass(slots=True)
class Card:
    """One deal on the board, with its numbers already turned into text.

    A board has up to 210 cards; rendering model instances with the template's number
    localisation and URL reversal per card was most of the page's CPU, so the page gets plain
    strings (the view fills in the links from one reversed pattern).
    """

    pk: int
    title: str
    client_name: str
    amount: str  # as JavaScript reads it ("1500.50"), never localised
    amount_text: str  # as people read it ("1 500,50")
    version: str
    url: str = ""
    move_url: str = ""


@dataclass
class Column:
    stage: Stage
    deals: list[Card]
    count: int
    total: Decimal

    @property
    def total_text(self) -> str:
        return money_text(self.total)


def money_text(value: Decimal | None) -> str:
    """An amount grouped by thousands with the language's separators, kopecks only when there
    are any — what ``floatformat:"-2g"`` shows, without its per-call format look-ups."""
    amount = (value or Decimal(0)).quantize(Decimal("0.01"))
    digits = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    thousands = str(get_format("THOUSAND_SEPARATOR"))
    point = str(get_format("DECIMAL_SEPARATOR"))
    return digits.replace(",", "\0").replace(".", point).replace("\0", thousands)


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

    Three queries whatever the number of deals: the stages; the column heads (from the
    trigger-kept ``DealTotal`` rows when no filter narrows the board, otherwise counted); and
    each stage's newest cards with their clients' names (``_newest_cards``).
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    deals = filtered(visible_deals(membership).filter(pipeline=pipeline), filters, fields)
    totals = _counted(deals) if filters else _kept_totals(membership, pipeline)
    by_stage = _newest_cards(deals, stages)
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


def _newest_cards(deals: QuerySet[Deal], stages: list[Stage]) -> dict[int, list[Card]]:
    """The newest CARDS_PER_STAGE cards of every stage in one query.

    A LATERAL join runs the per-stage ``ORDER BY created_at DESC LIMIT n`` once per stage, each
    an index walk on ``deal_board_idx`` that stops after n rows (a window function over the
    pipeline would read every deal first). The per-stage query is compiled once, with the stage
    taken from the outer row, and reads only the columns a card shows.
    """
    by_stage: dict[int, list[Card]] = {stage.pk: [] for stage in stages}
    if not stages:
        return by_stage
    sql, params = (
        deals.filter(stage_id=RawSQL("board_stage.id", ()))
        .order_by("-created_at", "-id")
        .values_list("pk", "title", "amount", "version", "created_at", "client__name")[
            :CARDS_PER_STAGE
        ]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT board_stage.id, card.* FROM unnest(%s::bigint[]) AS board_stage(id) "
            f"CROSS JOIN LATERAL ({sql}) AS card(id, title, amount, version, created_at, client) "
            "ORDER BY board_stage.id, card.created_at DESC, card.id DESC",
            [list(by_stage), *params],
        )
        for stage_id, pk, title, amount, version, _created, client in cursor.fetchall():
            by_stage[stage_id].append(
                Card(
                    pk=pk,
                    title=title,
                    client_name=client or "",
                    amount=str(amount),
                    amount_text=money_text(amount),
                    version=str(version),
                )
            )
    return by_stage


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
