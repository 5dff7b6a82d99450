"""The catalogue: VAT arithmetic to the kopeck, products with VAT and units, price lists chosen
per deal, discounts per line, VAT included or on top, documents with mixed rates, and a second
company that sees none of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm_core import pricing
from crm_core.documents.models import DocumentTemplate, Kind
from crm_core.documents.services.documents import generate
from crm_core.models import (
    Attachment,
    Deal,
    DealItem,
    Pipeline,
    PriceList,
    PricingSettings,
    Product,
)
from crm_core.services.deals import create_deal
from crm_core.services.items import add_item, choose_price_list, set_discount
from crm_core.services.products import (
    save_price_list,
    save_pricing_settings,
    save_product,
)
from tests.test_documents import pdf_text
from tests.test_isolation import login_on_host

D = Decimal

# --- Arithmetic (no database) ---------------------------------------------------------------


def test_vat_inside_the_price_is_rounded_per_line_half_up() -> None:
    # 1C: СуммаНДС = Окр(Сумма × Ставка / (100 + Ставка), 2) for each line.
    line = pricing.line(quantity=D(3), price=D("12345.67"), rate="22")
    assert (line.amount, line.vat, line.net, line.total) == (
        D("37037.01"), D("6678.81"), D("30358.20"), D("37037.01"),
    )  # fmt: skip
    assert pricing.line(quantity=D(1), price=D("0.05"), rate="10").vat == D("0.00")
    assert pricing.line(quantity=D(1), price=D("0.11"), rate="10").vat == D("0.01")
    # Half up at exactly half a kopeck: 1,10 × 10 / 110 = 0,10; 0,55 × 10 / 110 = 0,05.
    assert pricing.line(quantity=D(1), price=D("0.55"), rate="10").vat == D("0.05")
    # Quantity with grams: 1,255 kg × 99,99 = 125,487… → 125,49.
    assert pricing.line(quantity=D("1.255"), price=D("99.99"), rate="none").amount == D("125.49")


def test_vat_on_top_discounts_and_rates_without_vat() -> None:
    on_top = pricing.line(
        quantity=D(2), price=D(1000), rate="22", discount_percent=D(10), prices_include_vat=False
    )
    assert (on_top.amount, on_top.discount, on_top.net, on_top.vat, on_top.total) == (
        D("2000.00"), D("200.00"), D("1800.00"), D("396.00"), D("2196.00"),
    )  # fmt: skip
    amount_off = pricing.line(quantity=D(1), price=D(500), rate="10", discount_amount=D(50))
    assert (amount_off.total, amount_off.vat) == (D("450.00"), D("40.91"))
    assert pricing.line(quantity=D(1), price=D(10), rate="22", discount_amount=D(99)).total == 0
    zero = pricing.line(quantity=D(1), price=D(100), rate="0")
    none = pricing.line(quantity=D(1), price=D(100), rate="none")
    assert zero.vat == none.vat == 0
    totals = pricing.totals([on_top, amount_off, zero, none])
    assert totals.vat_by_rate == {
        "22": D("396.00"), "10": D("40.91"), "0": D(0), "none": D(0),
    }  # fmt: skip
    assert totals.total == D("2196.00") + D("450.00") + 100 + 100
    assert totals.with_vat
    assert not pricing.totals([none]).with_vat


# --- Products, price lists, deals -----------------------------------------------------------


def test_price_lists_price_the_deal_and_repricing_follows_the_list(crm: Any) -> None:
    with crm.a:
        dealer = save_price_list(membership=crm.owner, name="Дилерский")
        with pytest.raises(ValidationError):
            save_price_list(membership=crm.owner, name="дилерский")
        with pytest.raises(PermissionDenied):
            save_price_list(membership=crm.manager, name="Опт")
        window = save_product(
            membership=crm.owner, name="Окно ПВХ", sku="OK-1", unit="м²", price=D(15000),
            is_active=True, vat_rate="22", list_prices={dealer.pk: D(12000)},
        )  # fmt: skip
        seeds = save_product(
            membership=crm.owner, name="Семена", sku="", unit="упак.", price=D(110),
            is_active=True, vat_rate="10",
        )  # fmt: skip
        with pytest.raises(ValidationError):
            save_product(
                membership=crm.owner, name="Х", sku="", unit="шт", price=D(1), is_active=True,
                vat_rate="18",
            )  # fmt: skip
        deal = create_deal(membership=crm.manager, title="Окна на дачу", pipeline=crm.pipeline)
        item = add_item(
            membership=crm.manager, deal=deal, name="окно пвх", quantity=D(2), price=None
        )
        assert (item.price, item.vat_rate, item.unit) == (D(15000), "22", "м²")
        add_item(membership=crm.manager, deal=deal, name="Семена", quantity=D(3), price=None)
        add_item(
            membership=crm.manager, deal=deal, name="Доставка", quantity=D(1), price=D(990),
            vat_rate="none",
        )  # fmt: skip
        deal.refresh_from_db()
        assert deal.amount == D(30000 + 330 + 990)
        # Choosing the dealer list re-prices the catalogue's lines; a typed line keeps its price.
        assert (
            choose_price_list(membership=crm.manager, deal=deal, price_list=dealer, reprice=True)
            == 1
        )
        deal.refresh_from_db()
        assert deal.price_list == dealer
        assert deal.amount == D(24000 + 330 + 990)
        # A new line from the catalogue takes the deal's list price.
        again = add_item(
            membership=crm.manager, deal=deal, name="Окно ПВХ", quantity=D(1), price=None
        )
        assert again.price == D(12000)
        # A discount on a line: the amount follows.
        set_discount(membership=crm.manager, item=again, discount=D(10), discount_kind="percent")
        deal.refresh_from_db()
        assert deal.amount == D(24000 + 330 + 990 + 10800)
        with pytest.raises(ValidationError):
            set_discount(
                membership=crm.manager, item=again, discount=D(101), discount_kind="percent"
            )
        with pytest.raises(ValidationError):
            set_discount(
                membership=crm.manager, item=again, discount=D(12001), discount_kind="amount"
            )
        # Back to base prices without re-pricing: the lines stay as they are.
        choose_price_list(membership=crm.manager, deal=deal, price_list=None, reprice=False)
        deal.refresh_from_db()
        assert deal.price_list is None
        assert deal.amount == D(24000 + 330 + 990 + 10800)
        # VAT on top: the company's choice; the deal's total grows by the VAT.
        assert PricingSettings.objects.count() == 0  # the default (VAT included) needs no row
        save_pricing_settings(membership=crm.owner, prices_include_vat=False)
        deal_id, seeds_id = deal.pk, seeds.pk
        assert window.pk != seeds_id
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    card = browser.get(f"/deals/{deal_id}/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="calc-totals"' in card
    assert "НДС начисляется сверх цен." in card  # the manager reads Russian
    assert 'id="price-list-form"' in card
    assert "Дилерский" in card


def test_pages_for_products_price_lists_and_the_deal_panel(crm: Any) -> None:
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    host = {"HTTP_HOST": crm.a.host}
    answer = owner.post("/settings/price-lists/", {"part": "list", "name": "Розница"}, **host)
    assert answer.status_code == 302
    answer = owner.post("/settings/price-lists/", {"part": "list", "name": "  "}, **host)
    assert answer.status_code == 200
    assert "errorlist" in answer.content.decode()
    with crm.a:
        retail = PriceList.objects.get()
    answer = owner.post(
        "/products/new/",
        {
            "name": "Монтаж", "sku": "", "unit": "усл.", "vat_rate": "22", "price": "5000",
            f"list_{retail.pk}": "5500", "is_active": "on",
        },
        **host,
    )  # fmt: skip
    assert answer.status_code == 302
    bad = owner.post(
        "/products/new/",
        {"name": "Плохой", "unit": "шт", "vat_rate": "21", "price": "-1", "is_active": "on"},
        **host,
    )
    assert bad.status_code == 200
    with crm.a:
        product = Product.objects.get()
        assert (product.unit, product.vat_rate) == ("усл.", "22")
        assert product.list_prices.get().price == D(5500)
    listing = owner.get("/products/", **host).content.decode()
    assert "Розница" in listing
    assert "5 500" in listing.replace("\xa0", " ")
    assert owner.get("/settings/", **host).content.decode().count('href="/settings/price-lists/"')
    answer = owner.post(
        "/settings/price-lists/", {"part": "vat", "prices_include_vat": "0"}, **host
    )
    assert answer.status_code == 302
    with crm.a:
        assert PricingSettings.objects.get().prices_include_vat is False
    # A manager sells from the lists but cannot change them.
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/price-lists/", **host).status_code == 404
    assert manager.get(f"/products/{product.pk}/", **host).status_code == 404
    with crm.a:
        deal = create_deal(membership=crm.manager, title="Монтаж окон", pipeline=crm.pipeline)
    answer = manager.post(
        f"/deals/{deal.pk}/price-list/", {"pl-price_list": retail.pk, "pl-reprice": "on"}, **host
    )
    assert answer.status_code == 302
    answer = manager.post(
        f"/deals/{deal.pk}/items/",
        {"item-name": "Монтаж", "item-quantity": "2", "item-discount": "1000",
         "item-discount_kind": "amount"},
        **host,
    )  # fmt: skip
    assert answer.status_code == 302
    with crm.a:
        line = DealItem.objects.get(deal=deal)
        assert (line.price, line.discount, line.discount_kind) == (D(5500), D(1000), "amount")
        deal.refresh_from_db()
        # VAT on top (set above): (11 000 − 1 000) + 22 % = 12 200.
        assert deal.amount == D(12200)
    answer = manager.post(
        f"/deals/{deal.pk}/items/{line.pk}/discount/",
        {f"line{line.pk}-discount": "abc", f"line{line.pk}-discount_kind": "percent"},
        **host,
    )
    assert answer.status_code == 302
    card = manager.get(f"/deals/{deal.pk}/", **host).content.decode()
    assert "Enter the discount as a number." in card or "Введите скидку числом." in card


def test_the_line_form_suggests_products_as_the_person_types(crm: Any) -> None:
    """A catalogue of any size: the card carries no product list, the suggestions come from
    what is typed (part of the name or the SKU's start), active products only, 20 at most."""
    with crm.a:
        Product.objects.bulk_create(
            Product(name=f"Окно ПВХ {n:03d}", sku=f"OK-{n:03d}", price=D(1000 + n))
            for n in range(1, 41)
        )
        Product.objects.create(name="Монтаж окна", sku="MNT-1", unit="усл.", price=D(5000))
        Product.objects.create(name="Окно снятое с продажи", price=D(1), is_active=False)
        deal = create_deal(membership=crm.manager, title="Окна", pipeline=crm.pipeline)
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    host = {"HTTP_HOST": crm.a.host}
    card = manager.get(f"/deals/{deal.pk}/", **host).content.decode()
    assert "Окно ПВХ 001" not in card
    assert 'hx-get="/products/options/"' in card
    options = manager.get("/products/options/", {"item-name": "монтаж"}, **host)
    assert options.status_code == 200
    text = options.content.decode().replace("\xa0", " ")
    assert '<option value="Монтаж окна">MNT-1 · 5 000' in text
    assert "Окно ПВХ" not in text
    by_sku = manager.get("/products/options/", {"item-name": "ok-03"}, **host).content.decode()
    assert by_sku.count("<option") == 10  # OK-030 … OK-039
    many = manager.get("/products/options/", {"item-name": "окно"}, **host).content.decode()
    assert many.count("<option") == 20
    assert "снятое" not in many
    assert "снятое" not in manager.get("/products/options/", **host).content.decode()
    # Signed out: the sign-in page, not the catalogue.
    anonymous = manager.__class__()
    answer = anonymous.get("/products/options/", {"item-name": "окно"}, **host)
    assert "Окно ПВХ" not in answer.content.decode()
    assert answer.status_code in (302, 403)
    # Company B asks its own catalogue: A's products never appear.
    b = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    other = b.get("/products/options/", {"item-name": "окно"}, HTTP_HOST=crm.b.host)
    assert other.status_code == 200
    assert "<option" not in other.content.decode()


def test_the_catalogue_page_is_paged(crm: Any) -> None:
    with crm.a:
        Product.objects.bulk_create(
            Product(name=f"Профиль {n:03d}", price=D(100)) for n in range(1, 61)
        )
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    first = owner.get("/products/", HTTP_HOST=crm.a.host).content.decode()
    assert "Профиль 050" in first
    assert "Профиль 051" not in first
    assert 'href="?&amp;page=2" rel="next"' in first
    second = owner.get("/products/", {"page": "2"}, HTTP_HOST=crm.a.host).content.decode()
    assert "Профиль 060" in second
    assert "Профиль 050" not in second
    found = owner.get("/products/", {"q": "Профиль 05"}, HTTP_HOST=crm.a.host).content.decode()
    assert found.count(">Профиль 05") == 10  # the rows, not the search box
    assert 'rel="next"' not in found


def test_a_second_company_sees_none_of_the_catalogue(crm: Any) -> None:
    with crm.a:
        secret = PriceList.objects.create(name="Секретный дилерский")
        product = Product.objects.create(name="Окно A", price=D(1))
        deal = create_deal(membership=crm.owner, title="Сделка A", pipeline=crm.pipeline)
        line = add_item(membership=crm.owner, deal=deal, name="Окно A", quantity=D(1), price=None)
    b = crm.b
    browser = login_on_host(b.owner, b.company, b.host)
    host = {"HTTP_HOST": b.host}
    with b:
        assert not PriceList.objects.exists()
        assert not Product.objects.filter(name="Окно A").exists()
        pipeline_b = Pipeline.objects.get(is_default=True)
        deal_b = Deal.objects.create(
            title="B", pipeline=pipeline_b, stage=pipeline_b.stages.get(position=0)
        )
    assert "Секретный" not in browser.get("/products/", **host).content.decode()
    assert "Секретный" not in browser.get("/settings/price-lists/", **host).content.decode()
    assert browser.get(f"/products/{product.pk}/", **host).status_code == 404
    assert browser.post(f"/settings/price-lists/{secret.pk}/delete/", **host).status_code == 404
    # A's deal and line by id, from B: never A's. (Schemas number rows alike, so B may have a
    # deal with the same id — then B changes its own, never A's.)
    with crm.a:
        Deal.objects.filter(pk=deal.pk).update(price_list=secret)
    answer = browser.post(f"/deals/{deal.pk}/price-list/", {"pl-price_list": ""}, **host)
    assert answer.status_code in (302, 404)
    answer = browser.post(
        f"/deals/{deal.pk}/items/{line.pk}/discount/", {f"line{line.pk}-discount": "50"}, **host
    )
    assert answer.status_code in (302, 404)
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).price_list_id == secret.pk
        assert DealItem.objects.get(pk=line.pk).discount == line.discount
    # A's price list id sent to B's deal: not a choice there.
    browser.post(f"/deals/{deal_b.pk}/price-list/", {"pl-price_list": secret.pk}, **host)
    with b:
        deal_b.refresh_from_db()
        assert deal_b.price_list_id is None
    with crm.a:
        assert PriceList.objects.filter(pk=secret.pk).exists()


# --- Documents -----------------------------------------------------------------------------


def test_a_mixed_rate_invoice_shows_vat_per_rate(crm: Any, media_root: Any) -> None:
    with crm.a:
        deal = create_deal(membership=crm.owner, title="Смешанный счёт", pipeline=crm.pipeline)
        add_item(membership=crm.owner, deal=deal, name="Окно", quantity=D(2), price=D("12200"),
                 vat_rate="22")  # fmt: skip
        seeds = add_item(membership=crm.owner, deal=deal, name="Семена", quantity=D(3),
                         price=D("110"), vat_rate="10")  # fmt: skip
        set_discount(membership=crm.owner, item=seeds, discount=D(10), discount_kind="percent")
        add_item(membership=crm.owner, deal=deal, name="Консультация", quantity=D(1),
                 price=D("1000"), vat_rate="none")  # fmt: skip
        template = DocumentTemplate.objects.get(kind=Kind.INVOICE, name="Счёт на оплату")
        document = generate(membership=crm.owner, deal=deal, template=template)
        text = pdf_text(Attachment.objects.get(pk=document.attachment_id).file.read())
        deal.refresh_from_db()
    # 24 400 incl. 4 400 VAT 22 %; 330 − 33 = 297 incl. 27 VAT 10 %; 1 000 without VAT.
    assert document.total == deal.amount == D("25697.00")
    assert document.vat == D("4427.00")
    assert "В том числе НДС 22%: 4 400,00" in text
    assert "В том числе НДС 10%: 27,00" in text
    assert "Без налога (НДС)" in text
    assert "Всего к оплате: 25 697,00" in text
    assert "Двадцать пять тысяч шестьсот девяносто семь рублей 00 копеек" in text
    assert "33,00" in text  # the discount on the seeds' line


def test_vat_on_top_invoice(crm: Any, media_root: Any) -> None:
    with crm.a:
        save_pricing_settings(membership=crm.owner, prices_include_vat=False)
        deal = create_deal(membership=crm.owner, title="Сверху", pipeline=crm.pipeline)
        add_item(membership=crm.owner, deal=deal, name="Окно", quantity=D(1), price=D(10000),
                 vat_rate="22")  # fmt: skip
        template = DocumentTemplate.objects.get(kind=Kind.INVOICE, name="Счёт на оплату")
        document = generate(membership=crm.owner, deal=deal, template=template)
        text = pdf_text(Attachment.objects.get(pk=document.attachment_id).file.read())
    assert (document.total, document.vat) == (D("12200.00"), D("2200.00"))
    assert "Итого: 10 000,00" in text
    assert "НДС 22%: 2 200,00" in text
    assert "В том числе" not in text
    assert "Всего к оплате: 12 200,00" in text
