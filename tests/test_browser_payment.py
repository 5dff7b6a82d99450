"""A deal's payment in a real browser: an invoice marked partly paid on the deal's card, the
card and the board then say "partly paid"; no Content-Security-Policy violation, no serious
accessibility problem; screenshots of both for a person to look at."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import ConsoleWatch, save_screenshot, serious_accessibility_problems, start_web

pytestmark = pytest.mark.browser


def test_an_invoice_marked_partly_paid_on_the_card(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.documents.models import DocumentTemplate, Kind
    from crm_core.documents.services.defaults import install_default_templates
    from crm_core.documents.services.documents import generate
    from crm_core.models import Client, Pipeline
    from crm_core.services.deals import create_deal
    from crm_core.services.items import add_item
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        client = Client.objects.create(name="ООО «Ромашка»", inn="7707083893")
        deal = create_deal(
            membership=owner,
            title="Окна в офис",
            pipeline=Pipeline.objects.get(is_default=True),
            client=client,
        )
        add_item(
            membership=owner, deal=deal, name="Окно ПВХ", quantity=Decimal(2), price=Decimal(20000)
        )
        install_default_templates()
        template = DocumentTemplate.objects.filter(kind=Kind.INVOICE).first()
        assert template is not None
        invoice = generate(membership=owner, deal=deal, template=template)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=made.owner, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    watch.take()
    page.goto(f"http://{made.host}:{port}/deals/{deal.pk}/")
    page.wait_for_selector("#deal-payment[data-payment=unpaid]")
    page.fill(f"form[action='/documents/{invoice.pk}/paid/'] input[name=amount]", "15000")
    page.click(f"form[action='/documents/{invoice.pk}/paid/'] button")
    page.wait_for_selector("#deal-payment[data-payment=partly]")
    assert "оплачена частично" in page.inner_text("#deal-payment")
    page.locator("#deal-documents").scroll_into_view_if_needed()
    save_screenshot(page, "deal-payment-card")
    watch.assert_clean("the deal card")
    assert serious_accessibility_problems(page) == []

    page.goto(f"http://{made.host}:{port}/deals/")
    mark = page.locator(f"#deal-card-{deal.pk} .card-mark")
    assert mark.inner_text() == "оплачена частично"
    save_screenshot(page, "deal-payment-board")
    watch.assert_clean("the board")
    assert serious_accessibility_problems(page) == []
