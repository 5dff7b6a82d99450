"""Kirill's manager at work, in a real browser on a phone-sized screen, in Russian."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import child_env
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def test_deal_from_request_to_measurement_with_call_log_and_task(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Activity, Deal, Task

    made = committed_companies("Окна Кирилла")
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.wait_for_selector("#workspace-title")

    # A request came in: a deal at «Первый звонок».
    page.locator(".crm-nav").get_by_role("link", name="Сделки").click()
    page.click("summary")
    page.fill("#id_title", "Окна в квартиру на Ленина")
    page.fill("#id_client_name", "Иванов Пётр")
    page.fill("#id_phone", "8 916 123-45-67")
    page.fill("#id_amount", "85000")
    page.click("#deal-create")
    page.wait_for_selector("#deal-title")
    assert page.inner_text("#deal-stage") == "Первый звонок"

    # The manager calls, writes what was agreed and saves with the call's result: two clicks.
    page.click("#composer-call")
    page.fill("#id_log-result", "Договорились о замере в субботу")
    page.click("#call-reached")
    page.wait_for_selector("text=Договорились о замере в субботу")

    # …and gives the measurer a task for Saturday.
    deadline = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.click("#composer-task")
    page.fill("#id_task-title", "Замер: Ленина, 5")
    page.select_option("#id_task-kind", "measurement")
    page.fill("#id_task-deadline", deadline)
    page.get_by_role("button", name="Добавить задачу").click()
    page.wait_for_selector("text=Замер: Ленина, 5")

    # At the office, on the board, the card is dragged from «Первый звонок» to «Замер».
    # (On a phone the deal card's stage buttons do the same: touch screens have no drag.)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name=re.compile("Продажи")).click()
    card = page.locator("[data-deal]").first
    target = page.locator('[data-stage-name="Замер"] [data-cards]')
    with page.expect_response(re.compile(r"/deals/\d+/move/")) as moved:
        card.drag_to(target)
    assert moved.value.status == 200
    assert page.locator('[data-stage-name="Замер"] [data-count]').inner_text() == "1"
    assert page.locator('[data-stage-name="Первый звонок"] [data-count]').inner_text() == "0"

    # Back on the phone: the deal card moves it on to «Согласование» and back with one tap.
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("[data-deal] a").first.click()
    page.get_by_role("button", name="Согласование").click()
    page.wait_for_function(
        "() => document.querySelector('#deal-stage').innerText === 'Согласование'"
    )
    page.get_by_role("button", name="Замер").click()
    page.wait_for_function("() => document.querySelector('#deal-stage').innerText === 'Замер'")

    # The task is done from «Мой день».
    page.goto(f"http://{made.host}:{port}/tasks/")
    page.get_by_role("button", name="Готово").first.click()
    page.wait_for_selector("[data-empty=tasks]")

    with made:
        deal = Deal.objects.get()
        assert deal.stage.name == "Замер"
        assert deal.client is not None
        assert deal.client.name == "Иванов Пётр"
        assert Task.objects.get().done_at is not None
        kinds = set(Activity.objects.filter(deal=deal).values_list("kind", flat=True))
        assert {"call", "stage", "task_done"} <= kinds


def test_client_card_edited_and_contact_added_on_a_phone(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    """Kirill's manager fills in a client's details and a contact person from a phone."""
    from crm_core.models import Client, Phone

    made = committed_companies("Окна Кирилла")
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    page.set_viewport_size({"width": 390, "height": 844})
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.wait_for_selector("#workspace-title")

    page.fill("#id_name", "Стройка-Сервис")
    page.get_by_role("button", name="Добавить клиента").click()
    page.locator(".crm-nav").get_by_role("link", name="Клиенты").click()
    page.get_by_role("link", name="Стройка-Сервис").click()
    page.click("#client-edit")
    page.fill("#id_inn", "7707083893")
    page.fill("#id_kpp", "77070")  # a mistake first
    page.fill("#id_tags", "опт, застройщик")
    page.click("#client-save")
    page.wait_for_selector("text=КПП — 9 знаков")
    page.fill("#id_kpp", "770701001")
    page.click("#client-save")
    page.wait_for_selector("text=Сохранено.")

    page.get_by_role("link", name="Добавить контактное лицо").click()
    page.fill("#id_last_name", "Сидорова")
    page.fill("#id_first_name", "Анна")
    page.fill("#id_position", "Снабженец")
    page.fill("#id_phones", "8 916 765-43-21 доб. 5")
    page.click("#contact-save")
    page.wait_for_selector("#contacts >> text=Сидорова Анна")
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    with made:
        client = Client.objects.get(name="Стройка-Сервис")
        assert (client.inn, client.kpp, client.tags) == (
            "7707083893",
            "770701001",
            ["опт", "застройщик"],
        )
        assert Phone.objects.get(contact__client=client).extension == "5"
