"""Switching from amoCRM in a real browser: the owner uploads amoCRM's deals export, the
wizard recognises it, asks what its pipeline, stages and people are, imports — and the board
shows the deals in their stages with their owners. Screenshots at 1366×768 and 390×844 in
Russian and English; no CSP violation, no script error, axe clean."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from onboarding.tests.switch_exports import as_xlsx, rows_of
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser


def _select_by_text(page: Any, selector: str, text: str) -> None:
    option = page.locator(f"{selector} option", has_text=text).first
    page.select_option(selector, value=option.get_attribute("value"))


def _row_select(page: Any, table: str, name: str) -> str:
    """The select of the row of `table` naming `name`."""
    row = page.locator(f"{table} tr:has(select)", has_text=name).first
    return "#" + str(row.locator("select").get_attribute("id"))


def test_switching_from_amocrm_through_the_wizard_to_the_board(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Deal, Pipeline, Stage
    from onboarding.models import AwaitingOwner
    from tenants.models import Membership, User

    made = committed_companies("Окна Кирилла")
    made.owner.full_name = "Кирилл Смирнов"
    made.owner.save()
    anna = User.objects.create_user(
        f"anna-{uuid.uuid4().hex[:6]}@example.com", "x-password-1", full_name="Анна Смирнова"
    )
    Membership.objects.create(user=anna, company=made.company, role=Membership.Role.MANAGER)
    ivan = f"ivan-{uuid.uuid4().hex[:6]}@example.com"
    with made:
        sales = Pipeline.objects.get(is_default=True)
        first = Stage.objects.filter(pipeline=sales).order_by("position").first()
        assert first is not None
    env = child_env(MEDIA_ROOT=str(tmp_path / "media"))
    base = start_web(run_process, env, tmp_path / "web.log")
    run_process(
        [
            "-m",
            "celery",
            "-A",
            "relata",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "celery",
            "-l",
            "warning",
        ],
        env=env,
        log=tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log",
    )
    port = base.rsplit(":", 1)[1]
    host = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": host}])
    page.goto(f"{host}/")
    page.click("#nav-settings")
    page.get_by_role("link", name="Импорт", exact=True).click()
    page.set_input_files(
        "#id_file",
        {
            "name": "amocrm_export_deals.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": as_xlsx(rows_of("amocrm_deals_ru.csv")),
        },
    )
    page.click("#upload-submit")
    # Recognised: amoCRM's deals export, its columns mapped.
    page.wait_for_selector("#preview-submit")
    assert "amoCRM" in page.inner_text("#recognised-preset")
    stage_column = page.locator("table tr", has_text="этап сделки").locator("select")
    assert stage_column.input_value() == "deal_stage"
    save_screenshot(page, "switch-mapping-first-1366x768-ru")
    shots = {"switch-mapping": f"{page.url}?remap=1"}
    page.click("#preview-submit")
    # The preview asks what the file's pipeline and people are.
    page.wait_for_selector("#switch-choices", timeout=60_000)
    shots["switch-choices"] = page.url
    save_screenshot(page, "switch-choices-first-1366x768-ru")
    # The step on a phone too: its tables scroll sideways, nothing of it is out of reach.
    page.set_viewport_size(SIZES["phone"])
    save_screenshot(page, "switch-choices-first-390x844-ru")
    assert not serious_accessibility_problems(page)
    page.set_viewport_size(SIZES["laptop"])
    _select_by_text(page, _row_select(page, "#switch-pipelines", "Воронка"), "«Продажи»")
    page.select_option(_row_select(page, "#switch-pipelines", "Сервис"), value="create")
    # Иван Петров is not in Relata yet: invited, his deals wait for him (the importer's until
    # he joins).
    invite = page.locator("#switch-owners tr", has_text="Иван Петров").locator("input[type=email]")
    invite.fill(ivan)
    page.click("#choices-submit")
    # Now the stages of «Воронка» are the pipeline «Продажи»'s: two it does not have.
    page.wait_for_selector("#switch-stages", timeout=60_000)
    save_screenshot(page, "switch-choices-stages-1366x768-ru")
    page.select_option(
        _row_select(page, "#switch-stages", "Первичный контакт"), value=str(first.pk)
    )
    page.select_option(_row_select(page, "#switch-stages", "Переговоры"), value="create")
    page.click("#choices-submit")
    page.wait_for_selector("#import-submit", timeout=60_000)
    page.wait_for_selector("table.rows")
    assert page.locator("#switch-choices").count() == 0  # everything answered
    page.click("#import-submit")
    page.wait_for_selector("#report-download", timeout=60_000)
    shots["switch-report"] = page.url
    with made:
        assert Deal.objects.count() == 5
        doors = Deal.objects.get(title="Монтаж дверей")
        assert doors.responsible_id == made.owner.pk
        assert AwaitingOwner.objects.filter(entity="deal", record_id=doors.pk, email=ivan).exists()
    assert ivan in page.inner_text("#awaiting-owners")
    watch.assert_clean("the wizard")

    # The board: the deals in their stages, with their owners.
    page.goto(f"{host}/deals/")
    page.wait_for_selector("[data-board]")
    first_column = page.locator(f'[data-stage="{first.pk}"] [data-cards]')
    assert "Поставка окон" in first_column.inner_text()
    talks = page.locator('[data-stage-name="Переговоры"] [data-cards]')
    assert "Монтаж дверей" in talks.inner_text()
    # The owner's initials, named in full for a screen reader.
    assert talks.locator(".avatar").first.get_attribute("title") == "Кирилл Смирнов"
    won = page.locator('[data-outcome="won"] [data-cards]').inner_text()
    assert "Остекление склада" in won
    lost = page.locator('[data-outcome="lost"] [data-cards]').inner_text()
    assert "Ремонт фасада" in lost
    names = page.locator("[data-stage-name]").evaluate_all("cs => cs.map(c => c.dataset.stageName)")
    assert names.index("Переговоры") < names.index("Успешно")  # before won and lost
    shots["switch-board"] = page.url
    with made:
        service = Pipeline.objects.get(name="Сервис")
    shots["switch-board-service"] = f"{host}/deals/pipeline/{service.pk}/"

    problems: dict[str, list[str]] = {}
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for viewport in SIZES.values():
            page.set_viewport_size(viewport)
            for name, url in shots.items():
                where = f"{name}-{viewport['width']}x{viewport['height']}-{language}"
                response = page.goto(url)
                assert response is not None, where
                assert response.status == 200, where
                page.wait_for_load_state("networkidle")
                save_screenshot(page, where)
                found = watch.take() + serious_accessibility_problems(page)
                if found:
                    problems[where] = found
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
