"""E-mail in a real browser: a manager connects her mailbox on the settings screen, a client's
letter appears on the client's card, she replies from there, and the reply reaches the SMTP
server with the thread's headers — with no Content-Security-Policy violation on the way."""

from __future__ import annotations

import email
from pathlib import Path
from typing import Any, cast

import pytest

from communications.tests.mails import plain
from communications.tests.servers import Dovecot, SmtpServer
from conftest import child_env, wait_for
from tenants.services import handoff
from tests.browser import ConsoleWatch, save_screenshot, start_web

pytestmark = pytest.mark.browser


def test_connect_see_the_letter_on_the_card_and_reply_from_it(
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
) -> None:
    from communications.models import Mailbox
    from communications.services.sync import sync_mailbox
    from crm_core.models import Client, Contact

    made = committed_companies("Окна Кирилла")
    address = dovecot.add_user()
    with made:
        client = Client.objects.create(name="ООО Ромашка", responsible=made.owner)
        Contact.objects.create(client=client, first_name="Лена", emails=["lena@romashka.ru"])
    dovecot.deliver(
        address,
        plain(
            "Лена <lena@romashka.ru>",
            address,
            "Окна на дачу",
            "Сколько стоят три окна?",
            "<ask-1@romashka.ru>",
        ),
    )
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    page = chromium_page
    watch = ConsoleWatch(page)
    page.goto(
        f"http://{made.host}:{port}/handoff/{handoff.issue(user=made.owner, company=made.company)}/"
    )
    page.wait_for_selector("#workspace-title")
    watch.take()

    page.click("#nav-mail")
    page.click("#connect-first")
    page.fill("#id_name", "Мой ящик")
    page.fill("#id_address", address)
    page.select_option("#id_kind", "personal")
    page.fill("#id_imap_host", dovecot.host)
    page.fill("#id_imap_port", str(dovecot.port))
    page.select_option("#id_imap_security", "none")
    page.fill("#id_smtp_host", smtp_server.host)
    page.fill("#id_smtp_port", str(smtp_server.port))
    page.select_option("#id_smtp_security", "none")
    page.fill("#id_login", address)
    page.fill("#id_secret", "wrong-password")
    page.click("#save-mailbox")
    page.wait_for_selector("#connect-error")
    assert "refused the login" in page.inner_text(
        "#connect-error"
    ) or "отклонил" in page.inner_text("#connect-error")
    page.fill("#id_secret", "mail-pass-1")
    page.click("#save-mailbox")
    page.wait_for_selector("#mailbox-list")
    save_screenshot(page, "mail-mailboxes")

    # What the Celery worker does on its next poll.
    with made:
        box = Mailbox.objects.get()
        assert sync_mailbox(made.company, box).stored == 1

    page.goto(f"http://{made.host}:{port}/clients/{client.pk}/")
    entry = page.locator(".entry-email a", has_text="Окна на дачу")
    entry.click()
    page.wait_for_selector("#thread")
    assert "Сколько стоят три окна?" in page.inner_text("#thread")
    page.fill("#id_text", "Здравствуйте, Лена! Три окна — 45 000 ₽.")
    page.click("#send")
    page.wait_for_selector(".mail-out")
    save_screenshot(page, "mail-conversation")
    wait_for(lambda: bool(smtp_server.received), timeout=10, what="the reply at the SMTP server")
    letter = email.message_from_bytes(smtp_server.received[0].data)
    assert smtp_server.received[0].recipients == ["lena@romashka.ru"]
    assert letter["In-Reply-To"] == "<ask-1@romashka.ru>"
    assert letter["References"] == "<ask-1@romashka.ru>"
    assert "45 000" in cast(bytes, letter.get_payload(decode=True)).decode()
    watch.assert_clean("the mail pages")
