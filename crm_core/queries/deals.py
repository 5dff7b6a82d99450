"""Reads of deals, always through the member's visibility."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from crm_core.access import visible, visible_user_ids
from crm_core.currencies import sign as currency_sign
from crm_core.customfields import filter_by
from crm_core.models import CustomField, Deal, DealTotal, Pipeline, Stage, Task
from crm_core.queries.rates import Rates, rates_today
from relata.db import connection
from tenants.models import Membership

# Other parts of the CRM put a word on a deal's board card and its list row (documents: its
# payment by the invoices issued) without crm_core importing them: each source gets the deals'
# ids and returns {deal id: (code, text in the active language)}, in one query for them all.
DealMark = Callable[[list[int]], dict[int, tuple[str, str]]]
_MARK_SOURCES: list[DealMark] = []


def register_deal_mark(source: DealMark) -> None:
    if source not in _MARK_SOURCES:
        _MARK_SOURCES.append(source)


def deal_marks(deal_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Every source's marks of these deals (one query per source, not per deal)."""
    ids = list(deal_ids)
    found: dict[int, list[tuple[str, str]]] = {}
    for source in _MARK_SOURCES if ids else []:
        for deal_id, mark in source(ids).items():
            found.setdefault(deal_id, []).append(mark)
    return found


# Cards shown per column; the column links to the list for the rest (a column of 30,000 cards
# helps nobody and costs the page).
CARDS_PER_STAGE = 30


def visible_deals(membership: Membership) -> QuerySet[Deal]:
    return visible(Deal.objects.all(), membership)


def deal_for(membership: Membership, deal_id: int) -> Deal:
    """A deal the member may see, or 404 — never another person's deal by guessing its id."""
    return get_object_or_404(
        visible_deals(membership).select_related("client", "stage", "pipeline", "responsible"),
        pk=deal_id,
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
    # In the company's base currency as JavaScript reads it ("1500.50", never localised): the
    # board's script moves it between column sums; "0" when the currency has no rate today.
    amount: str
    amount_text: str  # in the deal's own currency as people read it ("1 500,50 €")
    version: str
    url: str = ""
    move_url: str = ""
    quick_url: str = ""
    responsible_name: str = ""
    initials: str = ""
    days_in_stage: int = 0
    # The deal's next open task (its earliest deadline): "overdue", "today", "later" or "none".
    task_due: str = "none"
    task_title: str = ""
    task_when: str = ""  # the deadline as people read it ("12 дек" or, today, "15:00")
    closed: bool = False  # in a won or lost stage: no next task is expected
    # How many open tasks the deal has: closing it (won or lost) on the board offers to close
    # them too, as the deal card does.
    open_tasks: int = 0
    # Texts in the person's language, made once per page in Python (``describe``): translation
    # tags in the card's template, 9 per card, were most of the board's rendering time.
    key: str = ""
    age_text: str = ""
    menu_label: str = ""
    avatar_label: str = ""
    due_label: str = ""
    close_tasks_label: str = ""  # "Also close 2 open tasks", when there are any
    html: str = ""  # the card's markup, made by the view (crm_core.board_views.card_html)
    marks: list[tuple[str, str]] = field(default_factory=list)  # (code, text): deal_marks


@dataclass
class Column:
    stage: Stage
    deals: list[Card]
    count: int
    total: Decimal

    @property
    def total_text(self) -> str:
        return money_text(self.total)

    @property
    def weighted(self) -> Decimal:
        """The forecast: the column's sum times its stage's probability (won 100 %, lost 0)."""
        return (self.total * self.stage.forecast_percent / 100).quantize(Decimal("0.01"))

    @property
    def weighted_text(self) -> str:
        return money_text(self.weighted)


def initials(name: str) -> str:
    """Up to two letters for an avatar: «Анна Петрова» → «АП», «anna@example.com» → «A»."""
    words = [w for w in name.replace("@", " ").replace(".", " ").split() if w[:1].isalpha()]
    if not words:
        return "?"
    if "@" in name:
        return words[0][0].upper()
    return "".join(w[0] for w in words[:2]).upper()


def money_text(value: Decimal | None, separators: tuple[str, str] | None = None) -> str:
    """An amount grouped by thousands with the language's separators, kopecks only when there
    are any — what ``floatformat:"-2g"`` shows, without its per-call format look-ups.
    ``separators``: the language's, when the caller formats many amounts at once."""
    amount = (value or Decimal(0)).quantize(Decimal("0.01"))
    digits = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    thousands, point = separators or _separators()
    return digits.replace(",", "\0").replace(".", point).replace("\0", thousands)


_SEPARATORS: dict[str, tuple[str, str]] = {}


def _separators() -> tuple[str, str]:
    """The active language's thousands and decimal separators (looked up once per language:
    get_format walks the format modules on every call, and a board formats 210 amounts)."""
    language = get_language() or ""
    found = _SEPARATORS.get(language)
    if found is None:
        found = (str(get_format("THOUSAND_SEPARATOR")), str(get_format("DECIMAL_SEPARATOR")))
        _SEPARATORS[language] = found
    return found


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
    rates: Rates | None = None,
) -> list[Column]:
    """The Kanban board: per stage, the newest cards, how many deals and their sum in the
    company's base currency (each currency converted at today's rate, ``rates``).

    Five queries whatever the number of deals: the stages; today's rates (``rates_today``,
    unless given); the column heads per currency (from the trigger-kept ``DealTotal`` rows
    when no filter narrows the board, otherwise counted); each stage's newest cards with their
    clients' and responsibles' names (``_newest_cards``); and the next open task of every card
    shown (``_add_next_tasks``).
    """
    stages = list(pipeline.stages.filter(is_archived=False).order_by("position", "id"))
    rates = rates or rates_today()
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    deals = filtered(visible_deals(membership).filter(pipeline=pipeline), filters, fields)
    totals = _in_base(_counted(deals) if filters else _kept_totals(membership, pipeline), rates)
    by_stage = _newest_cards(deals, stages, rates)
    for stage in stages:
        if stage.outcome != Stage.Outcome.OPEN:
            for card in by_stage[stage.pk]:
                card.closed = True
    _add_next_tasks([card for cards in by_stage.values() for card in cards])
    _add_marks([card for cards in by_stage.values() for card in cards])
    describe(card for cards in by_stage.values() for card in cards)
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


def _counted(deals: QuerySet[Deal]) -> list[Any]:
    return list(
        deals.order_by().values("stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"))
    )


def _kept_totals(membership: Membership, pipeline: Pipeline) -> list[Any]:
    rows = DealTotal.objects.filter(pipeline=pipeline)
    ids = visible_user_ids(membership)
    if ids is not None:
        rows = rows.filter(responsible_key__in=ids)
    return list(
        rows.order_by().values("stage_id", "currency").annotate(n=Sum("deals"), total=Sum("amount"))
    )


def _in_base(rows: list[dict[str, Any]], rates: Rates) -> Totals:
    """Per stage: how many deals and their sum in the base currency. A currency without a
    rate adds its deals to the count but nothing to the sum (the page says so)."""
    totals: Totals = {}
    for row in rows:
        count, amount = totals.get(row["stage_id"], (0, Decimal(0)))
        totals[row["stage_id"]] = (
            count + (row["n"] or 0),
            amount + rates.to_base(row["total"], row["currency"]),
        )
    return totals


CARD_COLUMNS = (
    "pk",
    "title",
    "amount",
    "currency",
    "version",
    "created_at",
    "client__name",
    "stage_entered_at",
    "responsible__full_name",
    "responsible__email",
)


def _card(
    row: tuple[Any, ...],
    today: date,
    zone: tzinfo,
    rates: Rates,
    separators: tuple[str, str] | None = None,
) -> Card:
    pk, title, amount, currency, version, _created, client, entered, full_name, email = row
    responsible = full_name or email or ""
    return Card(
        pk=pk,
        title=title,
        client_name=client or "",
        amount=str(rates.to_base(amount, currency)),
        amount_text=f"{money_text(amount, separators)}\N{NO-BREAK SPACE}{currency_sign(currency)}",
        version=str(version),
        responsible_name=responsible,
        initials=initials(responsible) if responsible else "",
        days_in_stage=max(0, (today - entered.astimezone(zone).date()).days),
    )


def _newest_cards(
    deals: QuerySet[Deal], stages: list[Stage], rates: Rates
) -> dict[int, list[Card]]:
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
        .values_list(*CARD_COLUMNS)[:CARDS_PER_STAGE]
        .query.sql_with_params()
    )
    today, zone = timezone.localdate(), timezone.get_current_timezone()
    separators = _separators()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT board_stage.id, card.* FROM unnest(%s::bigint[]) AS board_stage(id) "
            f"CROSS JOIN LATERAL ({sql}) AS card(id, title, amount, currency, version, created_at, "
            "client, entered, full_name, email) "
            "ORDER BY board_stage.id, card.created_at DESC, card.id DESC",
            [list(by_stage), *params],
        )
        for stage_id, *row in cursor.fetchall():
            by_stage[stage_id].append(_card(tuple(row), today, zone, rates, separators))
    return by_stage


def _add_next_tasks(cards: list[Card]) -> None:
    """Each card's next open task (the earliest deadline), how due it is and how many open
    tasks the deal has, in one query for all the cards (``DISTINCT ON`` the deal; the count
    is a window over the deal's open tasks, computed before the distinct keeps one row)."""
    if not cards:
        return
    tasks = (
        Task.objects.filter(deal_id__in=[card.pk for card in cards], done_at__isnull=True)
        .annotate(open_tasks=Window(Count("id"), partition_by=[F("deal_id")]))
        .order_by("deal_id", "deadline", "id")
        .distinct("deal_id")
        .values_list("deal_id", "title", "deadline", "open_tasks")
    )
    nearest = {deal_id: (title, deadline, n) for deal_id, title, deadline, n in tasks}
    now = timezone.now()
    today = timezone.localdate()
    for card in cards:
        if card.pk not in nearest:
            continue
        title, deadline, card.open_tasks = nearest[card.pk]
        local = timezone.localtime(deadline)
        card.task_title = title
        if deadline < now:
            card.task_due = "overdue"
        elif local.date() == today:
            card.task_due = "today"
        else:
            card.task_due = "later"
        card.task_when = (
            date_format(local, "H:i") if local.date() == today else date_format(local, "j b")
        )


def _add_marks(cards: list[Card]) -> None:
    marks = deal_marks(card.pk for card in cards)
    for card in cards:
        card.marks = marks.get(card.pk, [])


def describe(cards: Iterable[Card]) -> None:
    """The cards' texts in the active language (see ``Card``)."""
    ages: dict[int, str] = {}
    due = {"overdue": _("Overdue") + " · ", "today": _("Today") + " "}
    closing: dict[int, str] = {}
    # Translated once, filled in per card (a board has 210 cards: 420 catalogue look-ups).
    actions, responsible = _("Actions: %(title)s"), _("Responsible: %(name)s")
    for card in cards:
        if card.open_tasks and card.open_tasks not in closing:
            closing[card.open_tasks] = ngettext(
                "Also close %(tasks)s open task", "Also close %(tasks)s open tasks", card.open_tasks
            ) % {"tasks": card.open_tasks}
        card.close_tasks_label = closing.get(card.open_tasks, "")
        if card.days_in_stage not in ages:
            ages[card.days_in_stage] = ngettext(
                "%(days)s d in stage", "%(days)s d in stage", card.days_in_stage
            ) % {"days": card.days_in_stage}
        card.key = str(card.pk)
        card.age_text = ages[card.days_in_stage]
        card.menu_label = actions % {"title": card.title}
        if card.responsible_name:
            card.avatar_label = responsible % {"name": card.responsible_name}
        card.due_label = due.get(card.task_due, "")


def card_for(membership: Membership, deal_id: int) -> tuple[Card, int]:
    """One deal's board card (and its stage), as the board shows it — for the quick actions
    that redraw a single card."""
    row = get_object_or_404(
        visible_deals(membership).values_list("stage_id", "stage__outcome", *CARD_COLUMNS),
        pk=deal_id,
    )
    card = _card(
        tuple(row[2:]), timezone.localdate(), timezone.get_current_timezone(), rates_today()
    )
    card.closed = row[1] != Stage.Outcome.OPEN
    _add_next_tasks([card])
    _add_marks([card])
    describe([card])
    return card, row[0]


def board_total(columns: list[Column]) -> tuple[int, Decimal, Decimal]:
    """The board's foot: all its deals, their sum and the weighted forecast of the open ones
    (the won and lost stages are not a forecast)."""
    return (
        sum(c.count for c in columns),
        sum((c.total for c in columns), Decimal(0)),
        sum((c.weighted for c in columns if c.stage.outcome == Stage.Outcome.OPEN), Decimal(0)),
    )


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
