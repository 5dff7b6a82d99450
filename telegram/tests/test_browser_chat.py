"""Telegram on the card in a real browser: a client's message shows in the inbox and on the
contact person's card, the manager replies there with a file, the bot sends it — no
Content-Security-Policy violation, no script error, axe-core finds nothing serious."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import child_env, wait_for
from telegram.tests.fake_bot_api import FakeBotApi, serve
from telegram.tests.helpers import message, post_update
from tenants.services import handoff
from tests.browser import (
    ConsoleWatch,
    chromium_page,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

__all__ = ["chromium_page"]

pytestmark = pytest.mark.browser


def test_reply_in_telegram_from_the_card_with_a_file(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path, settings: Any
) -> None:
    from crm_core.models import Client, Contact, Phone
    from telegram.services.connection import connect
    from tenants.models import Membership

    api = FakeBotApi()
    server, thread = serve(api)
    settings.TELEGRAM_API_BASE = api.base_url
    try:
        made = committed_companies("Окна Кирилла")
        token = api.add_bot(700001, "okna_bot")
        with made:
            owner = Membership.objects.get(company=made.company, user=made.owner)
            connect(membership=owner, token=token, webhook_url="https://example.test/hook")
            client = Client.objects.create(name="ООО Ромашка", responsible=made.owner)
            person = Contact.objects.create(client=client, first_name="Лена", last_name="Котова")
            Phone.objects.create(contact=person, raw="+7 916 123-45-67", e164="+79161234567")
            from telegram.services.connection import current_bot, secret_of

            hook_secret = secret_of(current_bot())  # type: ignore[arg-type]
        shared = {"phone_number": "+79161234567", "first_name": "Лена", "user_id": 42}
        post_update(made.host, message(1, 42, contact=shared), hook_secret)
        post_update(made.host, message(2, 42, "Когда приедет замерщик?"), hook_secret)

        base = start_web(run_process, child_env(TELEGRAM_API_BASE=api.base_url), tmp_path / "w.log")
        port = base.rsplit(":", 1)[1]
        page = chromium_page
        watch = ConsoleWatch(page)
        page.goto(
            f"http://{made.host}:{port}/handoff/"
            f"{handoff.issue(user=made.owner, company=made.company)}/"
        )
        page.wait_for_selector("#workspace-title")
        assert page.inner_text("#inbox-badge").strip() == "1"
        page.click("#nav-mail")
        page.wait_for_selector("#conversations")
        assert "Когда приедет замерщик?" in page.inner_text("#conversations")
        save_screenshot(page, "inbox-everything")
        assert serious_accessibility_problems(page) == []

        page.goto(f"http://{made.host}:{port}/contacts/{person.pk}/card/")
        page.wait_for_selector("#card-telegram")
        assert "Когда приедет замерщик?" in page.inner_text("#card-telegram")
        page.fill("#id_tg-text", "Завтра в 10:00, смета во вложении")
        estimate = tmp_path / "смета.pdf"
        estimate.write_bytes(b"%PDF-1.4 estimate")
        page.set_input_files("#id_tg-file", str(estimate))
        page.click("#tg-send")
        page.wait_for_selector("#card-telegram [data-direction='out']")
        save_screenshot(page, "card-telegram")
        assert serious_accessibility_problems(page) == []
        wait_for(lambda: bool(api.sent), timeout=10, what="the reply at the Bot API")
        assert api.sent[-1]["document"]["name"] == "смета.pdf"
        assert api.sent[-1]["caption"] == "Завтра в 10:00, смета во вложении"
        page.click("#nav-mail")
        page.wait_for_selector("#conversations")
        assert "Когда приедет замерщик?" not in page.inner_text("#conversations")
        watch.assert_clean("the inbox and the card's Telegram panel")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
