"""The owner moves a messy Excel sheet in through the import wizard, in a real browser."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env, wait_for
from onboarding.tests.sheets import messy_xlsx
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def test_import_wizard_from_upload_to_undo(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Client, Deal

    made = committed_companies("Окна Кирилла")
    env = child_env(MEDIA_ROOT=str(tmp_path / "media"))
    base = start_web(run_process, env, tmp_path / "web.log")
    queue = "celery"  # the wizard sends its tasks to the default queue
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", queue, "-l", "warning"],
        env=env,
        log=tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log",
    )
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.click("#nav-settings")
    page.get_by_role("link", name="Импорт", exact=True).click()
    page.set_input_files(
        "#id_file",
        {
            "name": "клиенты.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": messy_xlsx(),
        },
    )
    page.click("#upload-submit")
    # Detected: xlsx, sheet «Клиенты», the header on row 3 under the title; mapping suggested.
    page.wait_for_selector("#preview-submit")
    assert page.inner_text(".detected-format") == "xlsx"
    assert page.input_value("#id_header_row") == "3"
    assert page.input_value("#id_col_3") == "phone"
    # The sheet's one typed date, 05.03.2026, reads both ways: the page asks, day first preset.
    assert "Дату 05.03.2026 можно прочитать двояко" in page.inner_text("#date-order-open")
    assert "5 марта 2026" in page.inner_text("#date-order")
    assert page.is_checked("#id_date_order_0")
    page.screenshot(path=str(tmp_path / "mapping.png"), full_page=True)
    page.check("#id_date_order_1")  # month first: the deal below is dated 3 May
    page.fill("#id_save_as", "Наш Excel")
    page.click("#preview-submit")
    # The preview runs in the worker; the progress bar reloads the page when it is done.
    page.wait_for_selector("table.rows", timeout=60_000)
    assert "В строке нет названия клиента." in page.inner_text("table.rows")
    with made:
        assert Client.objects.count() == 0
    page.click("#import-submit")
    page.wait_for_selector("#report-download", timeout=60_000)
    with made:
        assert Client.objects.count() == 5
        assert Deal.objects.get(client__name='ООО "Ромашка"').created_at.date().isoformat() == (
            "2026-05-03"
        )
    with page.expect_download() as download:
        page.click("#report-download")
    assert download.value.suggested_filename.endswith("-report.xlsx")
    page.click("#undo-submit")
    page.wait_for_selector("#undo-confirm")
    page.click("#undo-confirm")
    page.wait_for_selector("text=Импорт отменён.")

    def emptied() -> bool:
        with made:
            return Client.objects.count() == 0

    wait_for(emptied, 10, "the undo")
