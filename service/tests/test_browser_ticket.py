"""A ticket's life in a real browser, against the real mail servers: the owner makes the mailbox
a support mailbox and sets an SLA in the settings; a customer's letter arrives through dovecot
and becomes a ticket with its deadline; a manager finds it in the menu, answers and marks it
solved (the reply leaves through the SMTP server, in the thread); the survey letter's link is
opened without an account and answered; the rating shows on the ticket. Every screen in
Russian and English at 1366×768 and 390×844, without CSP violations or serious axe findings."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

import pytest

from communications.models import Mailbox
from communications.services.sync import sync_mailbox
from communications.tests.mails import plain
from communications.tests.servers import Dovecot, SmtpServer
from conftest import child_env, wait_for
from tenants.models import Membership
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser


def _look(page: Any, watch: ConsoleWatch, name: str, problems: dict[str, list[str]]) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"service-{name}-{size}")
        found = watch.take() + serious_accessibility_problems(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > viewport["width"]:
            found.append(f"wider than the screen: {wide} px")
        if found:
            problems[f"{name}-{size}"] = found
    page.set_viewport_size(SIZES["laptop"])


def _both_languages(
    page: Any, url: str, watch: ConsoleWatch, name: str, problems: dict[str, list[str]]
) -> None:
    for language in ("en", "ru"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": url}])
        page.goto(url)
        _look(page, watch, f"{name}-{language}", problems)


def test_a_ticket_from_letter_to_rating(  # noqa: PLR0917  (pytest passes fixtures by name)
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mailbox_on: Any,
) -> None:
    from service.models import Survey, Ticket
    from service.tasks import send_survey

    made = committed_companies("Окна Кирилла")
    owner = Membership.objects.get(company=made.company, user=made.owner)
    with made:
        box = mailbox_on(owner, kind=Mailbox.Kind.SHARED, name="Поддержка")
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    site = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    problems: dict[str, list[str]] = {}
    page.goto(f"{site}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    watch.take()

    # The owner sets up the desk from Settings → Customer service.
    page.goto(f"{site}/settings/")
    page.click("#nav-service")
    page.wait_for_selector("#support-mailbox-form")
    page.select_option("#support-mailbox-form select[name=mailbox]", str(box.pk))
    page.click("#support-mailbox-add")
    page.wait_for_selector("#support-mailboxes >> text=Поддержка")
    page.fill("#sla-form input[name=name]", "Обычный")
    page.fill("#sla-form input[name=first_response_minutes]", "60")
    page.fill("#sla-form input[name=resolution_minutes]", "480")
    page.click("#sla-add")
    page.wait_for_selector("#sla-policies >> text=Обычный")
    _both_languages(page, f"{site}/settings/service/", watch, "settings", problems)

    # A customer writes; the worker's next poll brings the letter in.
    dovecot.deliver(
        box.address,
        plain(
            "Лена <lena@romashka.ru>",
            box.address,
            "Не закрывается окно",
            "Ручка сломалась, окно не закрывается.",
            "<help-1@romashka.ru>",
        ),
    )
    with made:
        assert sync_mailbox(made.company, box).stored == 1
        ticket = Ticket.objects.get()
        assert ticket.first_response_due_at is not None

    page.goto(f"{site}/")
    page.click("#nav-tickets")
    page.wait_for_selector("#ticket-list")
    assert "Не закрывается окно" in page.inner_text("#ticket-list")
    _both_languages(page, f"{site}/tickets/", watch, "list", problems)
    page.click("#ticket-list >> text=Не закрывается окно")
    page.wait_for_selector("#ticket-thread")
    assert "Ручка сломалась" in page.inner_text("#ticket-thread")
    assert "Обычный" in page.inner_text("#ticket-sla")
    page.fill("#note-form textarea", "Мастер свободен в четверг")
    page.click("#note-add")
    page.wait_for_selector(".ticket-note")
    page.fill("#reply-form textarea", "Лена, мастер приедет в четверг и заменит ручку.")
    page.select_option("#reply-form select[name=then]", "solved")
    page.click("#reply-send")
    page.wait_for_selector(".ticket-reply")
    wait_for(lambda: bool(smtp_server.received), timeout=10, what="the reply at the SMTP server")
    letter = email.message_from_bytes(smtp_server.received[0].data, policy=default)
    assert smtp_server.received[0].recipients == ["lena@romashka.ru"]
    assert letter["In-Reply-To"] == "<help-1@romashka.ru>"
    # Text and HTML (multipart/alternative); the internal note in neither.
    for kind in ("plain", "html"):
        part = cast(EmailMessage, letter).get_body(preferencelist=(kind,))
        assert part is not None, kind
        assert "мастер приедет" in part.get_content()
        assert "Мастер свободен" not in part.get_content()
    with made:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.SOLVED
        assert ticket.first_responded_at is not None
    _both_languages(page, f"{site}/tickets/{ticket.pk}/", watch, "ticket", problems)

    # What the worker does after the commit: the survey letter through the same mailbox.
    with made:
        assert send_survey.run(ticket.pk)
    wait_for(lambda: len(smtp_server.received) >= 2, timeout=10, what="the survey letter")
    survey_letter = email.message_from_bytes(smtp_server.received[1].data)
    text = cast(bytes, survey_letter.get_payload(decode=True)).decode()
    found = re.search(r"https?://[^/\s]+(/help/survey/[^\s]+)", text)
    assert found, text
    survey_url = f"{site}{found.group(1)}"

    # The customer, without an account, in a browser of their own.
    customer = page.context.browser.new_context(locale="ru-RU")
    visitor = customer.new_page()
    visitor_watch = ConsoleWatch(visitor)
    visitor.goto(survey_url)
    visitor.wait_for_selector("#survey-form")
    _both_languages(visitor, survey_url, visitor_watch, "survey", problems)
    visitor.check("#survey-form input[name=rating][value='5']")
    visitor.fill("#survey-form textarea", "Быстро и вежливо")
    visitor.click("#survey-send")
    visitor.wait_for_selector("#survey-thanks")
    _look(visitor, visitor_watch, "survey-thanks", problems)
    customer.close()
    with made:
        survey = Survey.objects.get(ticket=ticket)
        assert survey.rating == 5
        assert survey.comment == "Быстро и вежливо"

    page.goto(f"{site}/tickets/{ticket.pk}/")
    assert "5" in page.inner_text("#ticket-rating")
    page.goto(f"{site}/reports/tickets_people/")
    assert "5,00" in page.inner_text("table.report")
    (tmp_path.parent / "service-problems.txt").write_text(repr(problems))
    assert not problems, problems
