"""Kirill's manager's day in a real browser, on a laptop and a phone, in Russian and English:
open the board, drag a card, open the deal, log a call, add a task, issue an invoice, win.
Clicks are counted where the product promises a number: a call result in ≤ 2 clicks from the
card, a follow-up task in ≤ 3, a stage move in 1. No CSP violation or script error anywhere."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import child_env
from tenants.services import handoff
from tests.browser import SIZES, ConsoleWatch, save_screenshot, start_web

pytestmark = pytest.mark.browser


def _morning(made: Any) -> dict[str, Any]:
    """Requisites filled in, a request turned deal at the first stage with a call-back task."""
    from crm_core.documents.services.setup import save_requisites
    from crm_core.models import Pipeline
    from crm_core.services.clients import ClientInput, create_client
    from crm_core.services.deals import create_deal
    from crm_core.services.items import add_item
    from crm_core.services.tasks import create_task
    from tenants.models import Membership

    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        save_requisites(
            membership=owner,
            name="ООО «Окна Кирилла»",
            inn="7707083893",
            kpp="770701001",
            address="г. Москва, ул. Ленина, д. 5",
            bank_name="АО «ТБанк»",
            bik="044525974",
            correspondent_account="30101810145250000974",
            bank_account="40702810610000000001",
            director="Кириллов К. К.",
        )
        pipeline = Pipeline.objects.get(is_default=True)
        client = create_client(
            membership=owner,
            company=made.company,
            data=ClientInput(name="Иванов Пётр", phones=["+7 916 123-45-67"]),
        )
        deal = create_deal(
            membership=owner,
            title="Окна в квартиру на Ленина",
            pipeline=pipeline,
            client=client,
            amount=Decimal(0),
        )
        add_item(
            membership=owner,
            deal=deal,
            name="Окно ПВХ 1300×1400",
            quantity=Decimal(2),
            price=Decimal(37200),
        )
        create_task(
            membership=owner,
            title="Перезвонить клиенту",
            deadline=timezone.now() + timedelta(hours=2),
            deal=deal,
        )
        stages = list(pipeline.stages.order_by("position"))
    return {
        "deal": deal.pk,
        "second": next(
            s for s in stages if s.outcome == "open" and s.position > stages[0].position
        ),
        "won": next(s for s in stages if s.outcome == "won"),
    }


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_kirills_day_counting_clicks(  # noqa: PLR0917
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    tmp_path: Path,
    size: str,
    language: str,
) -> None:
    from crm_core.automation.models import Timer
    from crm_core.documents.models import Document
    from crm_core.models import Activity, Deal, Task

    made = committed_companies("Окна Кирилла")
    day = _morning(made)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    host = f"http://{made.host}:{port}"
    page = chromium_page
    page.set_viewport_size(SIZES[size])
    page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
    watch = ConsoleWatch(page)
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    name = f"day-{size}-{language}"

    # The board; the card is dragged to the next stage (a pointer drag, as a mouse or pen).
    page.goto(f"{host}/deals/")
    page.wait_for_selector("[data-board]")
    page.wait_for_load_state("load")  # board.js (deferred) listens from here on
    card = page.locator(f"#deal-card-{day['deal']}")
    target = page.locator(f"[data-stage='{day['second'].pk}'] [data-cards]")
    card.scroll_into_view_if_needed()
    box, goal = card.bounding_box(), target.bounding_box()
    assert box is not None
    assert goal is not None
    with page.expect_response(re.compile(r"/deals/\d+/move/")) as moved:
        page.mouse.move(box["x"] + 30, box["y"] + 10)
        page.mouse.down()
        # On a phone the next column only peeks in at the right edge: drop on what shows.
        drop_x = min(goal["x"] + 40, SIZES[size]["width"] - 15)
        page.mouse.move(drop_x, goal["y"] + 30, steps=10)
        page.mouse.up()
    assert moved.value.status == 200
    save_screenshot(page, f"{name}-1-board")
    with made:
        assert Deal.objects.get(pk=day["deal"]).stage_id == day["second"].pk

    # The deal card.
    page.goto(f"{host}/deals/{day['deal']}/")
    page.wait_for_selector("#deal-title")
    page.evaluate("window.__sameDocument = true")
    clicks = 0

    def click(selector: str) -> None:
        nonlocal clicks
        clicks += 1
        page.click(selector)

    # A call's result: two clicks.
    click("#composer-call")
    click("#call-reached")
    page.wait_for_selector("#card-feed .entry-call")
    assert clicks == 2

    # A follow-up task: three clicks (typing its title is not a click).
    clicks = 0
    click("#composer-task")
    page.fill("#id_task-title", "Замер в субботу")
    click("label[for=due-tomorrow]")
    click("#task-add")
    page.wait_for_selector("#card-feed ul.tasks.pinned >> text=Замер в субботу")
    assert clicks == 3
    assert page.evaluate("window.__sameDocument === true")  # no reload for either
    save_screenshot(page, f"{name}-2-card")

    # The invoice, from the documents panel (the requisites are filled in: no question asked).
    invoice = page.evaluate(
        """() => [...document.querySelectorAll('#document-template option')]
              .find(o => /Счёт|Invoice/.test(o.textContent)).value"""
    )
    page.select_option("#document-template", value=invoice)
    page.click("#document-generate")
    page.wait_for_selector(".document-link")

    # Won: one click on the stage bar, and its open tasks close with it.
    clicks = 0
    click(f"#stage-bar button[data-stage='{day['won'].pk}']")
    page.wait_for_function(
        "s => document.querySelector('#deal-stage').innerText === s", arg=day["won"].name
    )
    assert clicks == 1
    save_screenshot(page, f"{name}-3-won")

    with made:
        deal = Deal.objects.get(pk=day["deal"])
        assert deal.stage_id == day["won"].pk
        assert Activity.objects.filter(deal=deal, kind=Activity.Kind.CALL).count() == 1
        assert Document.objects.filter(deal=deal).count() == 1
        assert not Task.objects.filter(deal=deal, done_at__isnull=True).exists()
        assert not Timer.objects.filter(deal=deal, fired_at__isnull=True).exists()
    watch.assert_clean(name)
