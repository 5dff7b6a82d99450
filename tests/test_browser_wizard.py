"""A new company's owner walks the whole setup in a real browser, in Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import start_web

pytestmark = pytest.mark.browser


def test_owner_walks_the_setup_from_details_to_the_pipeline(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.automation.models import StageRule
    from crm_core.models import Client, Deal
    from onboarding.models import CompanyDetails, SetupProgress
    from tenants.models import Invitation

    made = committed_companies("Окна Кирилла")
    env = child_env(MEDIA_ROOT=str(tmp_path / "media"))
    base = start_web(run_process, env, tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    # The CRM greets the new owner with the way into the setup.
    assert "Добро пожаловать" in page.inner_text("#setup-entry")
    page.click("#setup-continue")

    # 1. Company details: no lookup source on this server, so they are typed.
    page.wait_for_selector("#setup-step-details")
    assert "Шаг 1 из 6" in page.inner_text("#setup-position")
    assert page.is_visible("#no-lookup")
    page.fill("#id_inn", "7707083893")
    page.fill("#id_legal_name", "ООО «Окна Кирилла»")
    page.fill("#id_legal_address", "Москва, ул. Ленина, 1")
    page.click("#details-save")

    # 1a. Bank details, checked by their control digits: a wrong account is refused first.
    page.wait_for_selector("#setup-step-bank")
    assert page.is_visible("#bank-skip-note")
    page.fill("#id_bank_name", "ПАО Сбербанк")
    page.fill("#id_bik", "044525225")
    page.fill("#id_correspondent_account", "30101810400000000225")
    page.fill("#id_bank_account", "40702810300000000001")
    page.click("#bank-save")
    page.wait_for_selector("#setup-step-bank .errorlist")
    page.fill("#id_bank_account", "40702810200000000001")
    page.click("#bank-save")

    # 2. Industry template with sample data.
    page.wait_for_selector("#setup-step-template")
    page.click("#template-windows")

    # 3. Import: into the import wizard and back through the setup entry.
    page.wait_for_selector("#setup-step-import")
    page.click("#setup-open-import")
    page.wait_for_selector("#upload-submit")
    page.click("#setup-continue")
    page.wait_for_selector("#setup-step-import")
    page.click("#import-step-done")

    # 4. Colleagues.
    page.wait_for_selector("#setup-step-team")
    page.fill("#id_email", "anna@example.com")
    page.select_option("#id_role", "head")
    page.click("#invite-submit")
    page.wait_for_selector("#setup-invited")
    assert "anna@example.com" in page.inner_text("#setup-invited")
    page.click("#team-step-done")

    # 5. The pipeline, with the sample deals on its stages.
    page.wait_for_selector("#setup-step-pipeline")
    board = page.inner_text("#setup-board")
    assert "Замер" in board
    assert "Балкон под ключ" in board
    page.click("#pipeline-step-done")
    page.wait_for_selector("#setup-finished")

    with made:
        row = SetupProgress.objects.get()
        assert row.steps == {
            "details": "done",
            "bank": "done",
            "template": "done",
            "import": "done",
            "team": "done",
            "pipeline": "done",
        }
        assert CompanyDetails.objects.get().legal_name == "ООО «Окна Кирилла»"
        assert StageRule.objects.count() == 5
        assert Client.objects.count() == 3
        real = Client.objects.create(name="Настоящий клиент")
    assert Invitation.objects.filter(company=made.company, role="head").count() == 1

    # Finished: the CRM no longer offers the setup; the sample goes with one click.
    page.goto(f"http://{made.host}:{port}/")
    assert not page.is_visible("#setup-entry")
    page.goto(f"http://{made.host}:{port}/setup/template/")
    page.click("#sample-remove")
    page.wait_for_selector("#sample-add")
    with made:
        assert list(Client.objects.values_list("pk", flat=True)) == [real.pk]
        assert not Deal.objects.exists()
