"""The catalogue in a real browser: an admin adds a price list and a product with its VAT, unit
and dealer price; a manager sells it from the dealer list on a deal, gives a discount and sees
subtotal, discount, VAT and total. No CSP violation, no serious axe finding; screenshots at
1366×768 and 390×844 in Russian and English."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser


def test_product_form_and_the_deal_calculation_with_a_price_list_and_a_discount(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Client, Deal, DealItem, Pipeline, Product
    from crm_core.services.deals import create_deal
    from crm_core.services.items import add_item
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        Product.objects.create(
            name="Семена газона", unit="упак.", price=Decimal(450), vat_rate="10"
        )
        client = Client.objects.create(name="ООО «Дачник»")
        deal = create_deal(
            membership=owner,
            title="Окна и газон на даче",
            pipeline=Pipeline.objects.get(is_default=True),
            client=client,
        )
        add_item(membership=owner, deal=deal, name="Семена газона", quantity=Decimal(4), price=None)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    host = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": host}])

    # Settings → Price lists and VAT: a dealer list.
    page.goto(f"{host}/settings/")
    page.click("#nav-price-lists")
    page.fill("#id_name", "Дилерский")
    page.click("#price-list-add")
    page.wait_for_selector("#price-lists input[value='Дилерский']")
    save_screenshot(page, "catalogue-price-lists-after-add-1366x768-ru")
    # The price list link → a new product with its unit, VAT and the dealer price.
    page.goto(f"{host}/products/new/")
    page.fill("#id_name", "Окно ПВХ 1300×1400")
    page.fill("#id_unit", "шт")
    page.select_option("#id_vat_rate", "22")
    page.fill("#id_price", "15000")
    dealer_field = page.locator("input[name^='list_']")
    assert dealer_field.count() == 1
    dealer_field.fill("12200")
    save_screenshot(page, "catalogue-product-form-1366x768-ru")
    page.click("#product-save")
    page.wait_for_selector("#products")
    assert "12 200" in page.inner_text("#products").replace("\xa0", " ")

    # The deal: choose the dealer list (re-prices nothing yet: seeds have no dealer price).
    page.goto(f"{host}/deals/{deal.pk}/")
    page.select_option("#id_pl-price_list", label="Дилерский")
    page.click("#price-list-apply")
    page.wait_for_selector("#calculation")
    # Typing part of the name asks the catalogue: the suggestion arrives in the datalist.
    page.click("#id_item-name")
    page.keyboard.type("1300")
    page.wait_for_selector('#price-list option[value="Окно ПВХ 1300×1400"]', state="attached")
    page.fill("#id_item-name", "Окно ПВХ 1300×1400")
    page.fill("#id_item-quantity", "2")
    page.fill("#id_item-discount", "5")
    page.click("#item-add")
    page.wait_for_selector("#calc-totals")
    with made:
        window = DealItem.objects.get(deal=deal, name="Окно ПВХ 1300×1400")
        assert (window.price, window.discount, window.vat_rate) == (Decimal(12200), 5, "22")
        # 2 × 12 200 − 5 % = 23 180 (VAT 22 % inside: 4 180,00); seeds 4 × 450 = 1 800
        # (VAT 10 % inside: 163,64). Total 24 980.
        assert Deal.objects.get(pk=deal.pk).amount == Decimal("24980.00")
    totals = page.inner_text("#calc-totals").replace("\xa0", " ").replace("\u202f", " ")
    assert "26 200" in totals  # subtotal before the discount
    assert "−1 220" in totals
    assert "НДС 22%\n4 180 ₽" in totals
    assert "НДС 10%\n163,64 ₽" in totals
    assert "24 980" in totals
    watch.assert_clean("catalogue pages")

    problems: dict[str, list[str]] = {}
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for name, path in (
                ("deal", f"/deals/{deal.pk}/"),
                ("product", "/products/new/"),
                ("products", "/products/"),
                ("price-lists", "/settings/price-lists/"),
            ):
                where = f"{name}-{size}-{language}"
                response = page.goto(f"{host}{path}")
                assert response is not None
                assert response.status == 200, where
                page.wait_for_load_state("networkidle")
                if name == "deal":
                    page.locator("#calculation").scroll_into_view_if_needed()
                    page.locator("#calculation").screenshot(
                        path=str(save_screenshot(page, f"catalogue-{where}").with_name(
                            f"catalogue-{where}-calculation.png"
                        ))
                    )  # fmt: skip
                else:
                    save_screenshot(page, f"catalogue-{where}")
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
