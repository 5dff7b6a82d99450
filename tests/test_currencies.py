"""Deals in several currencies (issue #19): rates per day, entered by an admin or loaded from
a pluggable source; the board, the home page and the reports add up in the base currency at
today's rate and never add roubles to euros; a missing rate is said, not guessed."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_core.models import AuditEntry, Deal, DealTotal, ExchangeRate, Stage
from crm_core.queries.deals import board, board_total
from crm_core.queries.rates import RATE_HOLDS_DAYS, rates_today
from crm_core.rate_sources import CentralBankOfRussia, RateSourceError
from crm_core.services.deals import create_deal, move_deal
from crm_core.services.rates import set_rate, store_loaded
from relata.celery import app
from tests import rate_double
from tests.clock import company_today
from tests.test_isolation import login_on_host

CBR_XML = """<?xml version="1.0" encoding="windows-1251"?>
<ValCurs Date="05.12.2026" name="Foreign Currency Market">
<Valute ID="R01239"><NumCode>978</NumCode><CharCode>EUR</CharCode><Nominal>1</Nominal>
<Name>Евро</Name><Value>98,7654</Value><VunitRate>98,7654</VunitRate></Valute>
<Valute ID="R01335"><NumCode>398</NumCode><CharCode>KZT</CharCode><Nominal>100</Nominal>
<Name>Казахстанских тенге</Name><Value>17,5000</Value><VunitRate>0,175</VunitRate></Valute>
</ValCurs>
""".encode("cp1251")


def _rate(crm: Any, currency: str, rate: str, days_ago: int = 0) -> None:
    with crm.a:
        set_rate(
            membership=crm.owner,
            company=crm.a.company,
            day=timezone.localdate() - timedelta(days=days_ago),
            currency=currency,
            rate=Decimal(rate),
        )


def _deal(crm: Any, title: str, amount: str, currency: str, stage: Stage | None = None) -> Deal:
    return create_deal(
        membership=crm.owner,
        title=title,
        pipeline=crm.pipeline,
        stage=stage,
        amount=Decimal(amount),
        currency=currency,
    )


def test_the_board_adds_euros_to_roubles_only_at_the_days_rate(crm: Any) -> None:
    with crm.a:
        first = crm.pipeline.stages.filter(outcome="open").order_by("position").first()
        _deal(crm, "Окна", "1000", "RUB", first)
        euro = _deal(crm, "Fenster", "250.50", "EUR", first)
        # The kept totals hold the currencies apart.
        kept = {t.currency: t.amount for t in DealTotal.objects.filter(stage=first) if t.deals}
        assert kept == {"RUB": Decimal("1000.00"), "EUR": Decimal("250.50")}

        # No rate: the euros are counted as a deal but not added to the sum.
        columns = {c.stage.pk: c for c in board(crm.owner, crm.pipeline)}
        assert columns[first.pk].count == 2
        assert columns[first.pk].total == Decimal("1000")
        assert rates_today().missing == ("EUR",)
    browser = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="rates-missing"' in page
    assert "No exchange rate for EUR" in page
    card = re.search(rf'id="deal-card-{euro.pk}".*?</li>', page, re.S)
    assert card
    assert "250,50\xa0€" in card.group(0).replace(".", ",")
    assert 'data-amount="0"' in card.group(0)  # the script adds nothing without a rate

    _rate(crm, "EUR", "100")
    with crm.a:
        columns = {c.stage.pk: c for c in board(crm.owner, crm.pipeline)}
        assert columns[first.pk].total == Decimal("26050.00")  # 1000 + 250.50 × 100
        assert board_total(list(columns.values()))[1] == Decimal("26050.00")
    page = browser.get("/deals/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'id="rates-missing"' not in page
    assert "<strong data-total-sum>26\xa0050</strong> ₽" in page
    card = re.search(rf'id="deal-card-{euro.pk}".*?</li>', page, re.S)
    assert card
    assert 'data-amount="25050.00"' in card.group(0)
    assert "250,50\xa0€" in card.group(0)


def test_a_filtered_board_converts_too_and_moves_keep_currencies_apart(crm: Any) -> None:
    _rate(crm, "USD", "90")
    with crm.a:
        stages = list(crm.pipeline.stages.filter(outcome="open").order_by("position"))
        dollar = _deal(crm, "Doors", "10", "USD", stages[0])
        _deal(crm, "Двери", "100", "RUB", stages[0])
        move_deal(membership=crm.owner, deal=dollar, stage=stages[1])
        kept = {(t.stage_id, t.currency): (t.deals, t.amount) for t in DealTotal.objects.all()}
        assert kept[(stages[1].pk, "USD")] == (1, Decimal("10.00"))
        assert kept[(stages[0].pk, "USD")] == (0, Decimal("0.00"))
        columns = {
            c.stage.pk: c
            for c in board(crm.owner, crm.pipeline, {"responsible": crm.owner.user_id})
        }
        assert columns[stages[1].pk].total == Decimal("900.00")
        assert columns[stages[0].pk].total == Decimal("100")


def test_board_queries_stay_constant_with_deals_in_several_currencies(crm: Any) -> None:
    _rate(crm, "EUR", "100")
    _rate(crm, "USD", "90")

    def queries() -> int:
        with crm.a, CaptureQueriesContext(django_connection) as captured:
            board(crm.owner, crm.pipeline)
        return len([q for q in captured.captured_queries if not q["sql"].startswith("SET ")])

    with crm.a:
        for n in range(3):
            _deal(crm, f"d{n}", "10", ["RUB", "EUR", "USD"][n])
    few = queries()
    with crm.a:
        for n in range(30):
            _deal(crm, f"e{n}", "10", ["RUB", "EUR", "USD"][n % 3])
    assert queries() == few == 6  # ... the cards' next tasks and their marks (payments)


def test_a_rate_holds_two_weeks_and_the_newest_on_or_before_the_day_counts(crm: Any) -> None:
    _rate(crm, "EUR", "95", days_ago=3)
    _rate(crm, "EUR", "97", days_ago=1)
    with crm.a:
        _deal(crm, "Euro deal", "1", "EUR")
        today = timezone.localdate()
        assert rates_today().rate("EUR") == Decimal("97")
        assert rates_today(day=today - timedelta(days=2)).rate("EUR") == Decimal("95")
        stale = rates_today(day=today + timedelta(days=RATE_HOLDS_DAYS))
        assert stale.rate("EUR") is None
        assert stale.missing == ("EUR",)


def test_home_page_and_reports_sum_in_the_base_currency(crm: Any, media_root: Any) -> None:
    with crm.a:
        open_stage = crm.pipeline.stages.filter(outcome="open").order_by("position").first()
        won = crm.pipeline.stages.get(outcome="won")
        _deal(crm, "Rub open", "1000", "RUB", open_stage)
        _deal(crm, "Eur open", "10", "EUR", open_stage)
        _deal(crm, "Eur won", "20", "EUR", won)
        Deal.objects.filter(title="Eur won").update(closed_at=timezone.now())
    browser = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    home = browser.get("/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'id="rates-missing"' in home  # the euros are not added as roubles
    assert "1\xa0000\xa0₽" in home

    _rate(crm, "EUR", "100")
    home = browser.get("/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert 'id="rates-missing"' not in home
    assert "2\xa0000\xa0₽" in home  # in progress: 1000 ₽ + 10 € × 100
    assert re.search(r'id="month-revenue">2\xa0000\xa0₽<', home)  # won: 20 € × 100

    today = company_today(crm.a.company)
    query = f"date_from={today.replace(day=1):%Y-%m-%d}&date_to={today:%Y-%m-%d}"
    report = browser.get(f"/reports/results/?{query}", HTTP_HOST=crm.a.host).content.decode()
    assert "2\xa0000\xa0₽" in report
    # 1C reported the euro invoice paid: 15 € are 1,500 ₽ in the "paid by invoices" column.
    with crm.a:
        from django.core.files.base import ContentFile

        from crm_core.documents.models import Document, Kind
        from crm_core.models import Attachment

        deal = Deal.objects.get(title="Eur won")
        Document.objects.create(
            kind=Kind.INVOICE,
            year=today.year,
            number=1,
            deal=deal,
            attachment=Attachment.objects.create(
                deal=deal, name="invoice.pdf", file=ContentFile(b"%PDF", name="i.pdf")
            ),
            total=Decimal(20),
            paid_at=timezone.now(),
            paid_amount=Decimal(15),
        )
    page = browser.get(f"/reports/results/?{query}", HTTP_HOST=crm.a.host).content.decode()
    assert "1\xa0500" in page
    ahead = today + timedelta(days=400)
    report = browser.get(
        f"/reports/forecast/?date_from={today:%Y-%m-%d}&date_to={ahead:%Y-%m-%d}",
        HTTP_HOST=crm.a.host,
    ).content.decode()
    assert "4\xa0000\xa0₽" in report  # the amount: 1000 ₽ + 10 € + 20 € at 100


def test_currency_settings_page_for_admins_enters_rates_and_the_base(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.get("/settings/", HTTP_HOST=crm.a.host).content.decode()
    assert "/settings/currencies/" in page
    today = timezone.localdate()
    response = owner.post(
        "/settings/currencies/",
        {
            "part": "rate",
            "rate-day": f"{today:%Y-%m-%d}",
            "rate-currency": "EUR",
            "rate-rate": "99.5",
        },
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 302
    with crm.a:
        rate = ExchangeRate.objects.get(currency="EUR", day=today)
        assert (rate.rate, rate.base, rate.source) == (Decimal("99.5"), "RUB", "manual")
        assert AuditEntry.objects.filter(object_type="exchangerate", action="rate_set").exists()
    # Bad input: a clear error, nothing saved.
    response = owner.post(
        "/settings/currencies/",
        {
            "part": "rate",
            "rate-day": f"{today:%Y-%m-%d}",
            "rate-currency": "RUB",
            "rate-rate": "-1",
        },
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to" in response.content.decode()
    response = owner.post(
        "/settings/currencies/",
        {"part": "rate", "rate-day": f"{today:%Y-%m-%d}", "rate-currency": "RUB", "rate-rate": "2"},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "The base currency needs no rate" in response.content.decode()
    # A manager may not see the page, nor remove a rate.
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/currencies/", HTTP_HOST=crm.a.host).status_code == 404
    assert (
        manager.post(f"/settings/currencies/{rate.pk}/delete/", HTTP_HOST=crm.a.host).status_code
        == 404
    )
    # The base currency: sums then in euros; rates for the rouble base stay, unused.
    owner.post("/settings/currencies/", {"part": "base", "currency": "EUR"}, HTTP_HOST=crm.a.host)
    crm.a.company.refresh_from_db()
    assert crm.a.company.currency == "EUR"
    page = owner.get("/settings/currencies/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="no-rates"' in page
    with crm.a:
        assert ExchangeRate.objects.filter(base="RUB").count() == 1
    owner.post(f"/settings/currencies/{rate.pk}/delete/", HTTP_HOST=crm.a.host)
    with crm.a:
        assert not ExchangeRate.objects.filter(pk=rate.pk).exists()


def test_new_deal_in_a_currency_from_the_board_and_the_card_edit(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    page = owner.get("/deals/", HTTP_HOST=crm.a.host).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    data = {"title": "Contract", "amount": "500", "currency": "USD", "pipeline": crm.pipeline.pk}
    if token:
        data["form_token"] = token.group(1)
    owner.post("/deals/new/", data, HTTP_HOST=crm.a.host)
    with crm.a:
        deal = Deal.objects.get(title="Contract")
        assert (deal.amount, deal.currency) == (Decimal("500.00"), "USD")
        plain = _deal(crm, "Plain", "1", "")
        assert plain.currency == "RUB"  # the company's base
    card = owner.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "500\xa0$" in card


def test_rates_and_their_pages_stay_in_their_company(crm: Any) -> None:
    _rate(crm, "EUR", "100")
    b = crm.b
    with b:
        assert not ExchangeRate.objects.exists()
    with crm.a:
        rate = ExchangeRate.objects.get()
    b_owner = login_on_host(b.owner, b.company, b.host)
    assert (
        b_owner.post(f"/settings/currencies/{rate.pk}/delete/", HTTP_HOST=b.host).status_code == 404
    )
    page = b_owner.get("/settings/currencies/", HTTP_HOST=b.host).content.decode()
    assert 'id="no-rates"' in page
    with crm.a:
        assert ExchangeRate.objects.filter(pk=rate.pk).exists()


@pytest.fixture
def rate_double_source(settings: Any) -> None:
    settings.RATE_SOURCE = "tests.rate_double.FixedRates"
    rate_double.ASKED.clear()


def test_the_beat_task_asks_the_source_once_and_each_company_keeps_its_base(
    crm: Any, rate_double_source: None
) -> None:
    from crm_core.tasks import load_exchange_rates
    from tenants.models import Company

    Company.objects.filter(pk=crm.b.company.pk).update(currency="KZT")
    _rate(crm, "EUR", "101")  # typed by the admin today: the loaded one does not replace it
    app.conf.task_always_eager = True
    try:
        load_exchange_rates.apply()
    finally:
        app.conf.task_always_eager = False
    assert len(rate_double.ASKED) == 1
    today = timezone.localdate()
    with crm.a:
        rates = {r.currency: (r.rate, r.source) for r in ExchangeRate.objects.filter(day=today)}
        assert rates["EUR"] == (Decimal("101"), "manual")
        assert rates["USD"] == (Decimal("90"), "loaded")
        assert "RUB" not in rates
    with crm.b:
        in_tenge = {r.currency: r.rate for r in ExchangeRate.objects.filter(day=today)}
        assert set(ExchangeRate.objects.values_list("base", flat=True)) == {"KZT"}
        assert in_tenge["RUB"] == Decimal("5")  # 1 ₽ = 1 / 0.2 ₸
        assert in_tenge["EUR"] == Decimal("500")
        # Safe to run twice.
        assert store_loaded(
            company=Company.objects.get(pk=crm.b.company.pk),
            published=rate_double.FixedRates().rates_on(today),
        ) == len(in_tenge)
        assert ExchangeRate.objects.count() == len(in_tenge)


@pytest.fixture
def fake_cbr() -> Iterator[str]:
    """The Central Bank's daily XML served on 127.0.0.1, as the real one answers it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if "broken" in self.path:
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"<html>maintenance</html>")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml; charset=windows-1251")
            self.end_headers()
            self.wfile.write(CBR_XML)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/scripts/XML_daily.asp"
    finally:
        server.shutdown()
        server.server_close()
    assert any("date_req=" in path for path in asked)


def test_central_bank_source_reads_the_daily_xml(fake_cbr: str) -> None:
    from datetime import date

    published = CentralBankOfRussia(url=fake_cbr).rates_on(date(2026, 12, 6))
    assert published.day == date(2026, 12, 5)  # the day the Bank set them
    assert published.quote == "RUB"
    assert published.rates == {"EUR": Decimal("98.7654"), "KZT": Decimal("0.175")}
    with pytest.raises(RateSourceError):
        CentralBankOfRussia(url=fake_cbr + "?broken=1").rates_on(date(2026, 12, 6))
    with pytest.raises(RateSourceError):
        CentralBankOfRussia(url="http://127.0.0.1:9/", timeout=1).rates_on(date(2026, 12, 6))


def test_the_deal_card_changes_the_deals_currency_in_place(crm: Any) -> None:
    with crm.a:
        deal = _deal(crm, "Switch", "70", "RUB")
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    card = owner.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'name="edit-currency"' in card
    response = owner.post(
        f"/deals/{deal.pk}/card/field/currency/",
        {"edit-currency": "CNY", "version": deal.version},
        HTTP_HOST=crm.a.host,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    with crm.a:
        deal.refresh_from_db()
        assert deal.currency == "CNY"
        assert DealTotal.objects.get(currency="CNY", deals=1).amount == Decimal("70.00")
