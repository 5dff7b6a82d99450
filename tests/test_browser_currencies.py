"""Currencies in a real browser: a board with a deal in roubles and one in euros says the euro
has no rate instead of adding it; the admin enters the rate on Settings → Currencies and rates;
the board then adds the euros at that rate, and a dragged euro card moves its converted sum
between the column heads. No CSP violation, no serious axe finding; screenshots in Russian and
English at a laptop's and a phone's width."""

from __future__ import annotations

import re
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


def _sum(page: Any, stage: str) -> str:
    return str(page.locator(f'[data-stage-name="{stage}"] [data-sum]').inner_text())


def test_rates_entered_in_settings_convert_the_board(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import ExchangeRate, Pipeline
    from crm_core.services.deals import create_deal
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.filter(outcome="open").order_by("position"))
        first, second = stages[0], stages[1]
        create_deal(
            membership=owner,
            title="Окна в квартиру",
            pipeline=pipeline,
            stage=first,
            amount=Decimal(50000),
        )
        euro = create_deal(
            membership=owner,
            title="Fenster für Berlin",
            pipeline=pipeline,
            stage=first,
            amount=Decimal(1200),
            currency="EUR",
        )
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    host = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": host}])

    # No rate for the euro: the board counts the deal, says so, and adds only the roubles.
    page.goto(f"{host}/deals/")
    assert "EUR" in page.inner_text("#rates-missing")
    assert _sum(page, first.name) == "50\xa0000"
    assert "1\xa0200\xa0€" in page.inner_text(f"#deal-card-{euro.pk}")
    save_screenshot(page, "currencies-board-no-rate-1366x768-ru")

    # The warning's link → Settings → Currencies and rates: 1 € = 100 ₽ today.
    page.click("#rates-missing a")
    page.wait_for_selector("#rate-new")
    page.select_option("#id_rate-currency", "EUR")
    page.fill("#id_rate-rate", "100")
    page.click("#rate-add")
    page.wait_for_selector("#rate-table")
    assert "100" in page.inner_text("#rate-table")
    save_screenshot(page, "currencies-settings-1366x768-ru")
    with made:
        assert ExchangeRate.objects.get(currency="EUR").rate == Decimal(100)

    # The board adds the euros at the rate: 50 000 + 1 200 × 100.
    page.goto(f"{host}/deals/")
    assert page.locator("#rates-missing").count() == 0
    assert _sum(page, first.name) == "170\xa0000"
    assert page.inner_text("[data-total-sum]") == "170\xa0000"
    save_screenshot(page, "currencies-board-1366x768-ru")

    # Dragged to the next stage, the euro card takes its converted sum along.
    card = page.locator(f"#deal-card-{euro.pk}")
    target = page.locator(f'[data-stage-name="{second.name}"] [data-cards]')
    box, goal = card.bounding_box(), target.bounding_box()
    with page.expect_response(re.compile(r"/deals/\d+/move/")) as moved:
        page.mouse.move(box["x"] + 40, box["y"] + 10)
        page.mouse.down()
        page.mouse.move(goal["x"] + 60, goal["y"] + 30, steps=8)
        page.mouse.up()
    assert moved.value.status == 200
    assert _sum(page, first.name) == "50\xa0000"
    assert _sum(page, second.name) == "120\xa0000"
    page.reload()
    assert _sum(page, second.name) == "120\xa0000"  # the server's kept totals agree
    watch.assert_clean("board and currency settings")

    problems: dict[str, list[str]] = {}
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size in ("laptop", "phone"):
            page.set_viewport_size(SIZES[size])
            for name, path in (("settings", "/settings/currencies/"), ("board", "/deals/")):
                where = f"{name}-{size}-{language}"
                response = page.goto(f"{host}{path}")
                assert response is not None
                assert response.status == 200, where
                page.wait_for_load_state("networkidle")
                save_screenshot(page, f"currencies-{where}")
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
