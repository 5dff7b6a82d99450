"""A newcomer signs up in a real browser and lands in the company's workspace."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tests.browser import start_web

pytestmark = pytest.mark.browser


def test_sign_up_in_chromium_and_land_in_the_workspace(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    page = chromium_page
    slug = f"okna-{uuid.uuid4().hex[:8]}"
    email = f"kirill-{uuid.uuid4().hex[:6]}@example.com"
    committed_companies.adopt(slug)
    page.goto(base + "/")
    page.get_by_role("link", name="Создайте CRM для своей компании").click()
    page.fill("#id_company_name", "Окна Кирилла")
    page.fill("#id_slug", "www")
    page.fill("#id_email", email)
    page.fill("#id_password", "Correct-Horse-42")
    page.click("#signup-submit")
    # A reserved address: a clear message, and the form keeps what was typed.
    assert page.locator("p.error[data-field=slug]").inner_text()
    assert page.input_value("#id_company_name") == "Окна Кирилла"

    page.fill("#id_slug", slug)
    page.fill("#id_password", "Correct-Horse-42")
    # This submit makes the company: without a spare schema ready (the suite's own companies
    # use them up) its schema is built then, which on a loaded CI machine has taken over 20 s.
    page.click("#signup-submit", timeout=120_000)
    # A new company starts in the guided setup; its steps can be left for later.
    page.wait_for_url(
        re.compile(rf"^http://{slug}\.localhost:\d+/setup/details/$"), timeout=120_000
    )
    assert page.inner_text("h1") == "Настройка CRM"
    page.goto(re.sub(r"/setup/details/$", "/", page.url))
    assert page.inner_text("#workspace-title") == "Окна Кирилла"

    page.fill("#id_name", "ООО Ромашка")
    page.get_by_role("button", name="Добавить клиента").click()
    page.wait_for_selector("text=ООО Ромашка")
