"""The deal card in a real browser at 1366×768: a call logged in two clicks, a follow-up task in
three, the stage moved in one, no reload and no Content-Security-Policy violation; screenshots
at 1366×768 and 390×844 for a person to look at."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def _screenshots() -> Path:
    folder = Path(os.environ.get("RELATA_SCREENSHOTS", ".relata/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_deal_card_click_budgets_without_reload_or_csp_violations(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Activity, Client, Contact, Deal, Phone, Pipeline, Task
    from crm_core.services.deals import create_deal
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        client = Client.objects.create(name="Иванов Пётр", kind="person", tags=["дача"])
        person = Contact.objects.create(
            client=client, last_name="Иванова", first_name="Мария", emails=["maria@example.com"]
        )
        Phone.objects.create(contact=person, e164="+79161234567", raw="8 916 123-45-67")
        deal = create_deal(
            membership=owner,
            title="Окна в квартиру на Ленина",
            pipeline=Pipeline.objects.get(is_default=True),
            client=client,
            amount=Decimal(85000),
        )
        deal.contacts.add(person)
        stages = list(deal.pipeline.stages.filter(outcome="open").order_by("position"))
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    violations: list[str] = []
    step = ["start"]
    page.on(
        "console",
        lambda message: (
            violations.append(f"{step[0]} {page.url}: {message.text} ({message.location})")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=made.owner, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    violations.clear()  # the pages before are not this test's business; from here on, the cards
    page.goto(f"http://{made.host}:{port}/deals/{deal.pk}/")
    page.wait_for_selector("#deal-title")
    # The essentials are on the first screen: title, stage bar, composer, the fields panel.
    for essential in ("#deal-title", "#stage-bar", "#composer", "#card-fields", "#deal-amount"):
        box = page.locator(essential).bounding_box()
        assert box is not None
        assert box["y"] < 768, essential
    page.evaluate("window.__sameDocument = true")
    page.screenshot(path=str(_screenshots() / "deal-card-1366x768.png"))

    clicks = 0

    def click(selector: str) -> None:
        nonlocal clicks
        clicks += 1
        page.click(selector)

    # A call: "Call" in the composer, then its result. Two clicks.
    step[0] = "call"
    click("#composer-call")
    click("#call-no_answer")
    page.wait_for_selector("#card-feed .entry-call >> text=Не дозвонился")
    assert clicks == 2

    # A follow-up task: the Task tab, "Tomorrow", Add. Three clicks (its title is filled in).
    clicks = 0
    step[0] = "task"
    click("#composer-task")
    page.fill("#id_task-title", "Перезвонить после обеда")  # typing is not a click
    click("label[for=due-tomorrow]")
    click("#task-add")
    page.wait_for_selector("#card-feed ul.tasks.pinned >> text=Перезвонить после обеда")
    assert clicks == 3

    # A field saved in place: the source, on leaving the field.
    step[0] = "field"
    page.fill("#id_edit-source", "Авито")
    page.press("#id_edit-source", "Tab")
    page.wait_for_selector("#field-source .saved")

    # None of that reloaded the page.
    assert page.evaluate("window.__sameDocument === true")

    # The stage: one click on the progress bar (the page's version moved on with the field).
    clicks = 0
    step[0] = "stage"
    click(f"#stage-bar button[data-stage='{stages[1].pk}']")
    page.wait_for_function(
        f"() => document.querySelector('#deal-stage').innerText === '{stages[1].name}'"
    )
    assert clicks == 1
    page.screenshot(path=str(_screenshots() / "deal-card-1366x768-after.png"))

    # On a phone the card stacks, nothing overflows, and tap targets are at least 44 px high.
    step[0] = "phone"
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#deal-title")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    def tall_enough(selector: str) -> None:
        box = page.locator(selector).bounding_box()
        assert box is not None
        assert box["height"] >= 44, (selector, box)

    for tab in ("#composer-note", "#composer-call", "#composer-task", "#composer-file"):
        tall_enough(tab)
    page.click("#composer-task")
    for target in ("label[for=due-tomorrow]", "#task-add", "#id_task-title"):
        tall_enough(target)
    page.click("#composer-call")
    tall_enough("#call-reached")
    tall_enough(f"#stage-bar button[data-stage='{stages[0].pk}']")
    page.screenshot(path=str(_screenshots() / "deal-card-390x844.png"), full_page=True)

    assert violations == []
    with made:
        fresh = Deal.objects.get(pk=deal.pk)
        assert (fresh.stage_id, fresh.source) == (stages[1].pk, "Авито")
        assert Activity.objects.filter(deal=deal, kind="call").count() == 1
        assert Task.objects.filter(deal=deal, title="Перезвонить после обеда").exists()


def test_client_and_contact_cards_log_a_call_in_two_clicks_and_save_fields_in_place(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Activity, Client, Contact, Phone, Pipeline
    from crm_core.services.deals import create_deal
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        client = Client.objects.create(
            name="ООО «Стройка-Сервис»",
            full_name="Общество с ограниченной ответственностью «Стройка-Сервис»",
            inn="7707083893",
            legal_address="г. Москва, ул. Ленина, д. 1",
            tags=["опт", "застройщик"],
            responsible=made.owner,
        )
        Phone.objects.create(client=client, e164="+74951234567", raw="8 495 123-45-67")
        person = Contact.objects.create(
            client=client,
            last_name="Сидорова",
            first_name="Анна",
            position="Главный инженер",
            emails=["anna@example.com"],
            responsible=made.owner,
        )
        Phone.objects.create(contact=person, e164="+79161234567", raw="8 916 123-45-67")
        deal = create_deal(
            membership=owner,
            title="Остекление офиса",
            pipeline=Pipeline.objects.get(is_default=True),
            client=client,
            amount=Decimal(420000),
        )
        deal.contacts.add(person)
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=made.owner, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    violations.clear()
    page.goto(f"http://{made.host}:{port}/clients/{client.pk}/")
    page.wait_for_selector("[data-record=client]")
    page.evaluate("window.__sameDocument = true")
    for essential in ("#composer", "#card-fields", "#card-feed"):
        box = page.locator(essential).bounding_box()
        assert box is not None
        assert box["y"] < 768, essential
    page.screenshot(path=str(_screenshots() / "client-card-1366x768.png"))

    # A call: "Call", then its result. Two clicks, no reload.
    page.click("#composer-call")
    page.click("#call-reached")
    page.wait_for_selector("#card-feed .entry-call >> text=Дозвонился")

    # A field saved in place, then a second one (the version moved on with the first).
    page.fill("#id_edit-industry", "Строительство")
    page.press("#id_edit-industry", "Tab")
    page.wait_for_selector("#field-industry .saved")
    page.fill("#id_edit-source", "Выставка")
    page.press("#id_edit-source", "Tab")
    page.wait_for_selector("#field-source .saved")
    assert page.evaluate("window.__sameDocument === true")

    # The contact person's card: a note, a phone saved in place with its tel: link.
    page.goto(f"http://{made.host}:{port}/contacts/{person.pk}/card/")
    page.wait_for_selector("[data-record=contact]")
    page.screenshot(path=str(_screenshots() / "contact-card-1366x768.png"))
    page.fill("#note-text", "Любит звонки утром")
    page.click("#note-submit")
    page.wait_for_selector("#card-feed >> text=Любит звонки утром")
    page.fill("#id_edit-phones", "8 916 123-45-67\n+7 495 765-43-21")
    page.click("#id_edit-position")  # leaving the textarea saves it
    page.wait_for_selector("#field-phones a[href='tel:+74957654321']")
    page.wait_for_selector("#record-facts a[href='tel:+74957654321']")  # the header too

    # On a phone both cards stack without overflowing sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("[data-record=contact]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(_screenshots() / "contact-card-390x844.png"), full_page=True)
    page.goto(f"http://{made.host}:{port}/clients/{client.pk}/")
    page.wait_for_selector("[data-record=client]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("#composer-call")
    box = page.locator("#call-no_answer").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    page.screenshot(path=str(_screenshots() / "client-card-390x844.png"), full_page=True)

    assert violations == []
    with made:
        fresh = Client.objects.get(pk=client.pk)
        assert (fresh.industry, fresh.source) == ("Строительство", "Выставка")
        assert Activity.objects.filter(client=client, kind="call").count() == 1
        assert Activity.objects.filter(contact=person, kind="note").count() == 1
        assert sorted(p.e164 for p in Contact.objects.get(pk=person.pk).phones.all()) == [
            "+74957654321",
            "+79161234567",
        ]
