"""Kirill's whole story in one run, in Chromium, in Russian (docs: product.md).

A customer leaves a request on the company's form → a deal and a call-back task due in 15
minutes → the time passes and beat's timer fires → the manager sees the overdue notice → each
stage change brings the next task from Kirill's rules → the manager puts the windows in the
calculation and makes the invoice PDF (read back: the amount and the amount in words) → the
deal is won and the owner's report counts it.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from conftest import child_env
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def _pass_time(minutes: int) -> None:
    """As if ``minutes`` went by: every pending deadline moves that much earlier."""
    from crm_core.automation.models import Timer
    from crm_core.models import Task

    for timer in Timer.objects.filter(fired_at__isnull=True):
        timer.due_at -= timedelta(minutes=minutes)
        timer.save(update_fields=["due_at"])
    for task in Task.objects.filter(done_at__isnull=True):
        task.deadline -= timedelta(minutes=minutes)
        task.save(update_fields=["deadline"])


def test_kirills_story_from_the_web_form_to_the_report(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.automation.models import RequestForm
    from crm_core.automation.services.setup import install_window_template
    from crm_core.automation.tasks import fire_company_timers
    from crm_core.documents.models import Document
    from crm_core.models import Deal, Notification, Product, Task
    from tenants.models import Membership, User

    made = committed_companies("Окна Кирилла")
    owner = Membership.objects.get(company=made.company, user=made.owner)
    manager_user = User.objects.create_user(email=f"manager-{made.company.slug}@example.com")
    Membership.objects.create(user=manager_user, company=made.company, role="manager")
    with made:
        install_window_template(membership=owner, company=made.company)
        form = RequestForm.objects.create(
            name="Заявка с сайта", target=RequestForm.Target.DEAL, assignee=manager_user
        )
        Product.objects.create(name="Окно ПВХ 1300×1400", unit="шт", price=Decimal("18450.50"))
    media = tmp_path / "media"
    base = start_web(run_process, child_env(MEDIA_ROOT=str(media)), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    site = f"http://{made.host}:{port}"
    page = chromium_page

    # The owner fills in the company's requisites once, in Settings → Documents.
    page.goto(f"{site}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    page.goto(f"{site}/settings/")
    page.click("#nav-documents")
    page.wait_for_selector("text=Счёт на оплату")
    page.click("#requisites-edit")
    page.fill("#id_name", "ООО «Окна Кирилла»")
    page.fill("#id_inn", "7707083893")
    page.fill("#id_kpp", "770101001")
    page.fill("#id_bank_name", "АО «Банк»")
    page.fill("#id_bik", "044525974")
    page.fill("#id_bank_account", "40702810610000000001")
    page.fill("#id_correspondent_account", "30101810145250000974")
    page.fill("#id_address", "г. Москва, ул. Ленина, д. 5")
    page.fill("#id_director", "Кириллов К. К.")
    page.click("#requisites-save")
    page.wait_for_selector("text=Реквизиты компании сохранены.")
    page.context.clear_cookies()

    # 1. A customer leaves a request on the company's site (the hosted form).
    page.goto(f"{site}/public/forms/{form.public_id}/?utm_source=yandex&utm_medium=cpc")
    page.fill("#f_name", "Пётр Иванов")
    page.fill("#f_phone", "+7 916 123-45-67")
    requested_at = timezone.now()
    page.click("#request-send")
    page.wait_for_selector("#request-thanks")

    # 2. A deal at «Первый звонок» and a call-back task for the manager, due in 15 minutes.
    with made:
        deal = Deal.objects.get()
        assert deal.stage.name == "Первый звонок"
        assert deal.source == "yandex"
        call_back = Task.objects.get(deal=deal)
        assert call_back.assignee_id == manager_user.pk
        assert call_back.title.startswith("Перезвонить клиенту")
        due_in = call_back.deadline - requested_at
        assert timedelta(minutes=14) < due_in <= timedelta(minutes=15, seconds=30)

    # 3. Nobody called back: 16 minutes later beat's timer fires, the manager is told.
    with made:
        assert fire_company_timers() == 0  # not yet
        _pass_time(16)
        assert fire_company_timers() == 1
        assert Notification.objects.filter(
            user=manager_user, text__startswith="Срок пропущен"
        ).exists()
    page.goto(f"{site}/handoff/{handoff.issue(user=manager_user, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    page.goto(f"{site}/notifications/")
    page.wait_for_selector(f"text=Срок пропущен: {call_back.title}")
    page.goto(f"{site}/deals/{deal.pk}/")
    page.wait_for_selector("#deal-sla .sla-breached")

    # 4. The manager calls, closes the task; each stage brings the next task by itself.
    page.get_by_role("button", name="Готово").first.click()
    page.wait_for_selector("#deal-title")
    for stage, task_title in [
        ("Замер", "Выехать на замер"),
        ("Согласование", "Рассчитать стоимость и позвонить клиенту"),
    ]:
        page.locator("form.stages").get_by_role("button", name=stage).click()
        page.wait_for_function(
            f"() => document.querySelector('#deal-stage').innerText === '{stage}'"
        )
        page.wait_for_selector(f"ul.tasks >> text={task_title}")

    # The measurements are in: two windows and the installation in the calculation.
    page.fill("#id_item-name", "Окно ПВХ 1300×1400")
    page.fill("#id_item-quantity", "2")
    page.click("#item-add")
    page.wait_for_selector("ul.timeline >> text=Окно ПВХ 1300×1400")
    page.fill("#id_item-name", "Монтаж")
    page.fill("#id_item-quantity", "1")
    page.fill("#id_item-price", "5500")
    page.click("#item-add")
    page.wait_for_function(
        "() => document.querySelector('#deal-amount').innerText"
        ".replace(/\\s/g, '').startsWith('42')"
    )

    page.locator("form.stages").get_by_role("button", name="Оплата").click()
    page.wait_for_selector("ul.tasks >> text=Отправить договор и счёт")

    # 5. The invoice: chosen on the deal card, made as a PDF, downloaded and read back.
    page.select_option("#document-template", label="Счёт на оплату")
    page.click("#document-generate")
    page.wait_for_selector("#deal-documents .document-link")
    with page.expect_download() as download_info:
        page.click("#deal-documents .document-link")
    content = Path(download_info.value.path()).read_bytes()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Счёт на оплату № 1" in text
    assert "Всего к оплате: 42 401,00" in text  # 2 × 18 450,50 + 5 500
    assert "Сорок две тысячи четыреста один рубль 00 копеек" in text
    assert "ООО «Окна Кирилла»" in text
    assert "Пётр Иванов" in text
    page.wait_for_selector("ul.timeline >> text=Счёт на оплату № 1")

    # 6. Paid, installed, won.
    page.locator("form.stages").get_by_role("button", name="Монтаж").click()
    page.wait_for_selector("ul.tasks >> text=Установить окна")
    page.locator("form.stages").get_by_role("button", name="Успешно").click()
    page.wait_for_function("() => document.querySelector('#deal-stage').innerText === 'Успешно'")

    # 7. The owner's report counts the won deal and its revenue for the manager.
    page.goto(f"{site}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    page.goto(f"{site}/reports/results/")
    row = page.locator("table.report tbody tr", has_text=manager_user.email)
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[2] == "1", cells  # won
    assert re.sub(r"\s", "", cells[5]).replace(",", ".").startswith("42401"), cells

    with made:
        document = Document.objects.get()
        assert document.deal_id == deal.pk
        assert document.total == Decimal("42401.00")
        assert Deal.objects.get().stage.outcome == "won"
