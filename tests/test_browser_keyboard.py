"""The deal card by keyboard alone (#18: "everything reachable by keyboard"): from the composer's
tabs, arrows choose note/call/task, Tab walks into the chosen form, Enter sends it; a call result,
a follow-up task for tomorrow, a field saved on leaving it, the stage moved and the deal's client
chosen — no mouse, no reload, no CSP violation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def test_the_deal_card_works_from_the_keyboard(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Activity, Client, Deal, Pipeline, Task
    from crm_core.services.deals import create_deal
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        client = Client.objects.create(name="Иванов Пётр", kind="person", responsible=made.owner)
        deal = create_deal(
            membership=owner,
            title="Окна на дачу",
            pipeline=Pipeline.objects.get(is_default=True),
            amount=Decimal(85000),
        )
        stages = list(deal.pipeline.stages.filter(outcome="open").order_by("position"))
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=made.owner, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    page.goto(f"http://{made.host}:{port}/deals/{deal.pk}/")
    page.wait_for_selector("#deal-title")
    page.evaluate("window.__sameDocument = true")
    keys = page.keyboard

    def focused() -> str:
        return str(page.evaluate("document.activeElement.id"))

    # A call: the tabs are a radio group — an arrow chooses "Call", Tab enters its form.
    page.focus("#composer-tab-note")
    keys.press("ArrowRight")
    assert page.is_checked("#composer-tab-call")
    keys.press("Tab")
    assert focused() == "id_log-result"
    keys.type("Договорились о замере")
    keys.press("Tab")
    assert focused() == "call-reached"
    keys.press("Enter")
    page.wait_for_selector("#card-feed .entry-call >> text=Договорились о замере")

    # A follow-up task for tomorrow: arrow to "Task", type the title, arrow the due choice,
    # back to the title and Enter.
    page.focus("#composer-tab-call")
    keys.press("ArrowRight")
    assert page.is_checked("#composer-tab-task")
    keys.press("Tab")
    assert focused() == "id_task-title"
    keys.press("Control+A")
    keys.type("Отправить КП")
    keys.press("Tab")
    assert focused() == "due-today"
    keys.press("ArrowRight")
    assert page.is_checked("#due-tomorrow")
    keys.press("Shift+Tab")
    keys.press("Enter")
    page.wait_for_selector("#card-feed ul.tasks.pinned >> text=Отправить КП")

    # A field is saved on leaving it.
    page.focus("#id_edit-source")
    keys.type("Авито")
    keys.press("Tab")
    page.wait_for_selector("#field-source .saved")
    assert page.evaluate("window.__sameDocument === true")  # nothing above reloaded the page

    # The stage: Tab along the progress bar, Enter on the next stage.
    page.focus(f"#stage-bar button[data-stage='{stages[0].pk}']")
    keys.press("Tab")
    assert page.evaluate("document.activeElement.dataset.stage") == str(stages[1].pk)
    keys.press("Enter")
    page.wait_for_function(
        f"() => document.querySelector('#deal-stage').innerText === '{stages[1].name}'"
    )

    # The client: open "Choose a client" with Enter, type, Tab to the answer, Enter.
    page.focus("#client-change summary")
    keys.press("Enter")
    keys.press("Tab")
    keys.type("Иванов")
    page.wait_for_selector("#client-options .client-choices button")
    keys.press("Tab")  # the search form's "Find" button
    keys.press("Tab")  # the first client found
    assert page.evaluate("document.activeElement.textContent.trim()") == "Иванов Пётр"
    keys.press("Enter")
    page.wait_for_selector(f"#card-fields a[href='/clients/{client.pk}/']")

    assert violations == []
    with made:
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.source == "Авито"
        assert fresh.stage_id == stages[1].pk
        assert fresh.client_id == client.pk
        assert Activity.objects.filter(deal=deal, kind="call").count() == 1
        task = Task.objects.get(deal=deal, title="Отправить КП")
        assert task.done_at is None
