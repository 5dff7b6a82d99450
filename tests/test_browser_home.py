"""A manager's home page in a real browser, on a laptop and on a phone: it renders without a
single Content-Security-Policy violation and nothing overflows the phone's width."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import child_env
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser

SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


def _screenshots() -> Path:
    folder = Path(os.environ.get("RELATA_SCREENSHOTS", ".relata/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _fill(made: Any, manager: Any) -> None:
    from crm_core.models import Lead, Pipeline, Task
    from crm_core.services.deals import create_deal, move_deal

    with made:
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.order_by("position"))
        won = next(s for s in stages if s.outcome == "won")
        for n, (title, amount, stage) in enumerate(
            [
                ("Окна в квартиру на Ленина", 85_000, 0),
                ("Остекление балкона", 42_500, 0),
                ("Коттедж в Жуковке", 640_000, 1),
                ("Офис на Тверской", 1_250_000, 2),
                ("Дача в Кратово", 120_000, 3),
            ]
        ):
            deal = create_deal(
                membership=manager, title=title, pipeline=pipeline, amount=Decimal(amount)
            )
            if stage:
                move_deal(membership=manager, deal=deal, stage=stages[stage])
            if n < 3:
                Task.objects.create(
                    title=f"Позвонить: {title}",
                    assignee=manager.user,
                    deal=deal,
                    deadline=timezone.now() + timedelta(hours=-2 if n == 0 else 0.2 * n),
                )
        sold = create_deal(
            membership=manager, title="Окна для школы", pipeline=pipeline, amount=Decimal(310_000)
        )
        move_deal(membership=manager, deal=sold, stage=won)
        Lead.objects.create(name="Орлов Георгий", phone="+7 916 123-45-67", source="Веб-форма")
        Lead.objects.create(
            name="Сидорова Анна", email="anna@example.com", responsible=manager.user
        )


def test_a_managers_home_page_on_a_laptop_and_a_phone(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from tenants.models import Membership, User

    made = committed_companies("Окна Кирилла")
    user = User.objects.create_user(
        email=f"manager-{uuid.uuid4().hex[:8]}@example.com", password="Manager-Pass-991"
    )
    manager = Membership.objects.create(
        user=user, company=made.company, role=Membership.Role.MANAGER
    )
    _fill(made, manager)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=user, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    folder = _screenshots()
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.reload()
        page.wait_for_selector("#home-stages")
        assert page.locator("#home-tasks [data-task]").count() == 3
        assert page.locator("#home-requests [data-lead]").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        # The month chart is drawn by the vendored Chart.js from the page's figures: this
        # month's line ends at the deal won today.
        page.wait_for_function("() => window.Chart && window.Chart.getChart('month-chart')")
        drawn = page.evaluate(
            "(() => { const c = Chart.getChart('month-chart');"
            " return [c.data.datasets.length, c.data.datasets[0].data.at(-1)]; })()"
        )
        assert drawn == [2, 310000], drawn
        page.screenshot(path=str(folder / f"home-{name}.png"), full_page=True)
    assert violations == [], violations

    # A task is done from the home page, and the page comes back without it.
    page.locator("#home-tasks .done-button").first.click()
    page.wait_for_selector("#home-tasks")
    assert page.locator("#home-tasks [data-task]").count() == 2

    # The owner sees the company's figures, with each manager's month.
    page.set_viewport_size({"width": 1366, "height": 768})
    owner_link = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{owner_link}/")
    page.wait_for_selector("#home-team")
    assert page.locator(f'#home-team [data-person="{user.pk}"]').count() == 1
    page.screenshot(path=str(folder / "home-owner.png"), full_page=True)

    # An empty list teaches what it is for and offers the one action that fills it.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"http://{made.host}:{port}/contacts/")
    page.wait_for_selector("[data-empty=contacts] [data-empty-action]")
    page.screenshot(path=str(folder / "empty-contacts.png"), full_page=True)
    assert violations == [], violations
