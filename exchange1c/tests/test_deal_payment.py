"""A deal's payment by its issued invoices — not paid, partly paid, paid — as 1C reports the
payments through the exchange or a member marks them on the card: on the deal's card, its
board card and its row in the deals list, and the reports' "paid by invoices" the same sum."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone, translation

from crm_core.documents.models import Document
from crm_core.reports.queries import results, scope_for
from exchange1c.tests.test_sale import _documents, _paid_report, _won_deals
from tenants.models import Membership
from tests.test_isolation import login_on_host


def _state(page: str, deal_id: int) -> str:
    """The payment shown on the board's card of the deal ("" when none)."""
    card = re.search(rf'<li class="deal-card" id="deal-card-{deal_id}".*?</li>', page, re.S)
    assert card is not None
    mark = re.search(r'class="card-mark mark-payment-(\w+)"', card.group(0))
    return mark.group(1) if mark else ""


def _shown(browser: Any, host: str, deal_id: int) -> tuple[str, str, str]:
    """(the card's state, the board card's state, the deals list's payment cells)."""
    card = browser.get(f"/deals/{deal_id}/", HTTP_HOST=host).content.decode()
    found = re.search(r'data-payment="(\w+)"', card)
    board = browser.get("/deals/", HTTP_HOST=host).content.decode()
    listing = browser.get("/deals/list/", HTTP_HOST=host).content.decode()
    return (found.group(1) if found else "", _state(board, deal_id), listing)


def _paid_by_invoices(exchange: Any) -> list[Decimal]:
    owner = Membership.objects.get(company=exchange.company, user=exchange.owner)
    # The report's period is the company's month: at 21:00 UTC Moscow is already on tomorrow.
    today = timezone.localdate(timezone=ZoneInfo(exchange.company.time_zone))
    scope = scope_for(owner, exchange.company, date_from=today.replace(day=1), date_to=today)
    with translation.override("en"):
        won = results(scope)
    column = won.headers.index("Paid by invoices")
    return [row[column] for row in won.rows]


def test_payments_reported_by_1c(exchange: Any, eager: None) -> None:
    with exchange.company:
        windows, doors, invoice = _won_deals(exchange)
    browser = login_on_host(exchange.owner, exchange.company, exchange.host)
    card, board, listing = _shown(browser, exchange.host, windows.pk)
    assert (card, board) == ("unpaid", "unpaid")
    assert "не оплачена" in listing
    assert _state(browser.get("/deals/", HTTP_HOST=exchange.host).content.decode(), doors.pk) == ""

    onec = exchange.onec("sale")
    assert onec.checkauth().word == "success"
    onec.init()
    (ordered,) = [
        d for d in _documents(onec.get("query").body) if d.findtext("Номер") == str(invoice.number)
    ]
    onec.get("success")
    part = _paid_report(ordered.findtext("Ид")).replace(b"41000.00", b"15000.00")
    onec.upload("orders-1.xml", part)
    assert onec.import_file("orders-1.xml").lines == ["success"]
    card, board, listing = _shown(browser, exchange.host, windows.pk)
    assert (card, board) == ("partly", "partly")
    assert "оплачена частично" in listing
    page = browser.get(f"/deals/{windows.pk}/", HTTP_HOST=exchange.host).content.decode()
    assert "15\xa0000\xa0₽ из 41\xa0000\xa0₽" in page
    with exchange.company:
        assert _paid_by_invoices(exchange) == [Decimal("15000.00")]

    onec = exchange.onec("sale")
    assert onec.checkauth().word == "success"
    onec.init()
    onec.upload("orders-2.xml", _paid_report(ordered.findtext("Ид")))
    assert onec.import_file("orders-2.xml").lines == ["success"]
    card, board, _listing = _shown(browser, exchange.host, windows.pk)
    assert (card, board) == ("paid", "paid")
    with exchange.company:
        assert _paid_by_invoices(exchange) == [Decimal("41000.00")]


def test_marked_paid_by_hand_on_the_card(exchange: Any, make_company: Any) -> None:
    with exchange.company:
        windows, _doors, invoice = _won_deals(exchange)
    other = make_company("Beta")
    browser = login_on_host(exchange.owner, exchange.company, exchange.host)
    page = browser.get(f"/deals/{windows.pk}/", HTTP_HOST=exchange.host).content.decode()
    assert f'action="/documents/{invoice.pk}/paid/"' in page

    # Another company's member cannot reach the invoice at all.
    stranger = login_on_host(other.owner, other.company, other.host)
    refused = stranger.post(f"/documents/{invoice.pk}/paid/", {"amount": ""}, HTTP_HOST=other.host)
    assert refused.status_code == 404
    # Not a sum, or more than the invoice: said, nothing marked.
    browser.post(f"/documents/{invoice.pk}/paid/", {"amount": "много"}, HTTP_HOST=exchange.host)
    browser.post(f"/documents/{invoice.pk}/paid/", {"amount": "99999"}, HTTP_HOST=exchange.host)
    with exchange.company:
        assert Document.objects.get(pk=invoice.pk).paid_at is None

    response = browser.post(
        f"/documents/{invoice.pk}/paid/", {"amount": "10000,50"}, HTTP_HOST=exchange.host
    )
    assert response.status_code == 302
    card, board, _listing = _shown(browser, exchange.host, windows.pk)
    assert (card, board) == ("partly", "partly")
    with exchange.company:
        paid = Document.objects.get(pk=invoice.pk)
        assert paid.paid_amount == Decimal("10000.50")
        assert windows.activities.filter(summary__contains="отмечен оплаченным").exists()
        assert _paid_by_invoices(exchange) == [Decimal("10000.50")]


def test_a_read_only_member_cannot_mark_an_invoice_paid(exchange: Any) -> None:
    with exchange.company:
        windows, _doors, invoice = _won_deals(exchange)
        reader = Membership.objects.create(
            company=exchange.company,
            user=type(exchange.owner).objects.create_user(email="reader@example.com"),
            role=Membership.Role.READ_ONLY,
        )
    browser = login_on_host(reader.user, exchange.company, exchange.host)
    page = browser.get(f"/deals/{windows.pk}/", HTTP_HOST=exchange.host).content.decode()
    assert "/paid/" not in page
    browser.post(f"/documents/{invoice.pk}/paid/", {"amount": ""}, HTTP_HOST=exchange.host)
    with exchange.company:
        assert Document.objects.get(pk=invoice.pk).paid_at is None


def test_a_payment_without_its_sum_counts_the_invoice_total_everywhere(exchange: Any) -> None:
    """1C said "paid" without a sum (an old row): the card and the reports count the total."""
    with exchange.company:
        windows, _doors, invoice = _won_deals(exchange)
        Document.objects.filter(pk=invoice.pk).update(paid_at=timezone.now(), paid_amount=None)
        assert _paid_by_invoices(exchange) == [Decimal("41000.00")]
    browser = login_on_host(exchange.owner, exchange.company, exchange.host)
    card, board, _listing = _shown(browser, exchange.host, windows.pk)
    assert (card, board) == ("paid", "paid")
