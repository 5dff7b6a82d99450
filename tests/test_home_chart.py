"""The home page's month chart (#18: charts through a maintained library): revenue won day by
day, added up, beside last month and the revenue target, for whoever's figures the page shows
(a manager her own, the owner the company's); another company's deals never count; with no
revenue the page says what the chart is for and loads no chart code. The vendored Chart.js is
an unmodified npm release whose files match its manifest."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from crm_core.models import Deal, Pipeline, SalesTarget, Stage
from crm_core.services.deals import create_deal, move_deal
from tests.test_isolation import login_on_host

ROOT = Path(__file__).resolve().parent.parent


def _won(membership: Any, amount: int, closed_at: datetime | None = None) -> Deal:
    pipeline = Pipeline.objects.get(is_default=True)
    won = pipeline.stages.get(outcome=Stage.Outcome.WON)
    deal = create_deal(
        membership=membership, title="Окна", pipeline=pipeline, amount=Decimal(amount)
    )
    move_deal(membership=membership, deal=deal, stage=won)
    if closed_at is not None:
        Deal.objects.filter(pk=deal.pk).update(closed_at=closed_at)
    return deal


def _chart(browser: Any, host: str) -> dict[str, Any] | None:
    html = browser.get("/", HTTP_HOST=host).content.decode()
    found = re.search(
        r'<script id="month-chart-data" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1)) if found else None


def test_the_chart_adds_up_the_month_by_day_beside_last_month_and_the_target(crm: Any) -> None:
    with crm.a:
        zone = ZoneInfo(crm.a.company.time_zone)
        today = timezone.now().astimezone(zone).date()
        first = datetime.combine(today.replace(day=1), time(12), zone)
        last_month_first = datetime.combine(
            (today.replace(day=1) - timedelta(days=1)).replace(day=1), time(12), zone
        )
        _won(crm.manager, 50_000, closed_at=first)
        _won(crm.manager, 100_000)  # today
        _won(crm.manager, 70_000, closed_at=last_month_first)
        _won(crm.colleague, 999_000)  # a colleague's: not in her chart, in the owner's
        SalesTarget.objects.create(
            month=today.replace(day=1), kind="amount", user=crm.manager.user, value=400_000
        )
    with crm.b:
        _won(crm.b.owner.memberships.get(company=crm.b.company), 5_000_000)

    mine = _chart(login_on_host(crm.manager.user, crm.a.company, crm.a.host), crm.a.host)
    assert mine is not None
    assert len(mine["this"]) == today.day
    assert mine["this"][0] == 50_000 + (100_000 if today.day == 1 else 0)
    assert mine["this"][-1] == 150_000
    assert mine["last"][0] == 70_000
    assert mine["last"][-1] == 70_000
    assert mine["target"] == 400_000
    assert mine["currency"] == "RUB"

    owners = _chart(login_on_host(crm.owner.user, crm.a.company, crm.a.host), crm.a.host)
    assert owners is not None
    assert owners["this"][-1] == 1_149_000  # the company's, not company B's five million
    assert owners["target"] is None  # no company target was set


def test_without_revenue_the_panel_teaches_and_no_chart_code_loads(crm: Any) -> None:
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    html = browser.get("/", HTTP_HOST=crm.a.host).content.decode()
    assert 'id="home-revenue"' in html
    assert "month-chart-data" not in html
    assert "chart.umd.min.js" not in html


def test_vendored_browser_libraries_match_their_manifests() -> None:
    manifests = sorted(ROOT.glob("*/static/vendor/*/MANIFEST.json"))
    assert manifests, "the vendored Chart.js has a manifest"
    for manifest in manifests:
        folder = manifest.parent
        described = json.loads(manifest.read_text())
        assert folder.name == f"{described['npm_package']}-{described['version']}", folder
        assert described["tarball"].startswith("https://registry.npmjs.org/")
        listed = set(described["files"])
        present = {p.name for p in folder.iterdir()} - {"MANIFEST.json"}
        assert present == listed, (folder, present ^ listed)  # nothing unlisted, nothing missing
        assert any(name.upper().startswith("LICENSE") for name in listed), folder
        for name, entry in described["files"].items():
            digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            assert digest == entry["sha256"], f"{folder.name}/{name} differs from the release"
