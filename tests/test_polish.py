"""Small wrongs of issue #18: the menu twice on automation pages, no favicon, amounts written
two ways on the reports and the price list."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from crm_core.models import Product
from crm_core.services.deals import create_deal, move_deal
from tests.test_isolation import login_on_host

AUTOMATION_PAGES = [
    "/automation/",
    "/automation/hours/",
    "/automation/webhooks/",
    "/automation/subscriptions/",
    "/automation/rules/new/",
    "/automation/forms/new/",
]


def test_the_main_menu_is_shown_once_on_automation_pages(crm: Any) -> None:
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    for path in AUTOMATION_PAGES:
        page = admin.get(path, HTTP_HOST=crm.a.host)
        assert page.status_code == 200, path
        html = page.content.decode()
        assert html.count('class="crm-nav"') == 1, path  # the main menu, from base.html
        assert html.count('class="sub-nav"') == 1, path  # automation's own links


def test_pages_link_a_favicon_that_is_served(crm: Any) -> None:
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = admin.get("/", HTTP_HOST=crm.a.host).content.decode()
    assert '<link rel="icon" href="/static/relata/favicon.svg" type="image/svg+xml">' in page
    icon = admin.get("/static/relata/favicon.svg", HTTP_HOST=crm.a.host)
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    body = b"".join(icon.streaming_content)  # type: ignore[attr-defined]
    assert body.lstrip().startswith(b"<svg")


def test_reports_and_the_price_list_write_amounts_one_way(crm: Any) -> None:
    with crm.a:
        Product.objects.create(name="Окно ПВХ", price=Decimal("74400.00"))
        deal = create_deal(
            membership=crm.owner, title="Окна", pipeline=crm.pipeline, amount=Decimal(74400)
        )
        won = crm.pipeline.stages.get(outcome="won")
        move_deal(membership=crm.owner, deal=deal, stage=won)
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    products = admin.get("/products/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru")
    assert "74\xa0400\xa0₽" in products.content.decode()
    report = admin.get("/reports/results/", HTTP_HOST=crm.a.host, HTTP_ACCEPT_LANGUAGE="ru")
    text = report.content.decode()
    assert report.status_code == 200
    assert "74400,00" not in text
    assert "74\xa0400\xa0₽" in text


def test_rule_texts_write_the_amount_as_pages_do(crm: Any) -> None:
    from crm_core.automation.services.placeholders import fill

    with crm.a:
        deal = create_deal(
            membership=crm.owner, title="Окна", pipeline=crm.pipeline, amount=Decimal(74400)
        )
        assert fill("Сумма: {amount}", deal, crm.a.company) == "Сумма: 74\xa0400\xa0₽"


def test_the_main_menu_marks_the_section_the_page_is_in(crm: Any) -> None:
    """One entry is current: a deal's card is under "Deals", the calendar is not "My day"."""
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    expected = {
        "/": "/",
        "/deals/": "/deals/",
        "/clients/": "/clients/",
        "/tasks/": "/tasks/",
        "/tasks/calendar/": "/tasks/calendar/",
        "/reports/": "/reports/",
        "/settings/": "/settings/",
    }
    for path, entry in expected.items():
        html = admin.get(path, HTTP_HOST=crm.a.host).content.decode()
        start = html.index('class="crm-nav"')
        menu = html[start : html.index("</nav>", start)]
        current = re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', menu)
        assert current == [entry], (path, current)
