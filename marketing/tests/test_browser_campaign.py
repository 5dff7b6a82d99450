"""A campaign in a real browser, with a real worker and a real SMTP server: the marketer makes
a segment of a saved view, writes the letter, sends herself a test, sends the campaign; a
recipient unsubscribes through the link in the letter he received, and the next campaign
does not reach him. Every screen at 1366×768 and 390×844 in Russian and English, with no CSP
violation, no script error and no serious accessibility finding."""

from __future__ import annotations

import email
import email.policy
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from communications.tests.servers import Dovecot, SmtpServer
from conftest import child_env, wait_for
from tenants.services import handoff
from tests.browser import (
    SIZES,
    ConsoleWatch,
    save_screenshot,
    screenshots_dir,
    serious_accessibility_problems,
    start_web,
)

pytestmark = pytest.mark.browser


def _world(made: Any, mailbox_on: Any) -> dict[str, Any]:
    from crm_core.models import Client, Contact, SavedView
    from marketing.models import Consent, SendingSettings
    from marketing.services.consent import record_consent
    from tenants.models import Membership

    owner = Membership.objects.get(company=made.company, user=made.owner)
    with made:
        box = mailbox_on(owner, kind="shared", name="Новости")
        SendingSettings.objects.create(channel="mailbox", mailbox=box, rate_per_minute=600)
        client = Client.objects.create(name="ООО Ромашка", responsible=made.owner, tags=["опт"])
        people = {}
        for key, first, middle, last in [
            ("anna", "Анна", "Петровна", "Сидорова"),
            ("ivan", "Иван", "Сергеевич", "Орлов"),
            ("petr", "Пётр", "", "Котов"),
        ]:
            people[key] = Contact.objects.create(
                client=client,
                first_name=first,
                middle_name=middle,
                last_name=last,
                emails=[f"{key}-{uuid.uuid4().hex[:6]}@romashka.test"],
                responsible=made.owner,
            )
        for key in ("anna", "ivan"):  # Пётр never agreed
            record_consent(
                membership=owner,
                contact=people[key],
                email=people[key].emails[0],
                source=Consent.Source.WEB_FORM,
                text="Согласен получать новости ООО Ромашка",
            )
        SavedView.objects.create(
            entity="clients", name="Оптовики", owner=made.owner, query="tag=опт"
        )
    return people


def _write_campaign(page: Any, name: str, segment_name: str) -> None:
    page.click("#nav-campaigns")
    page.click("#new-campaign")
    page.fill("#id_name", name)
    page.fill("#id_subject", "{first_name}, окна со скидкой")
    page.select_option("#id_segment", label=segment_name)
    page.fill("#id_cost", "2500")
    page.fill("#id_blocks-1-text", "Только до конца месяца — скидка 10 % на все окна.")
    page.select_option("#id_blocks-2-kind", "button")
    page.fill("#id_blocks-2-text", "Выбрать окна")
    page.fill("#id_blocks-2-url", "https://okna.example/sale")
    page.click("#save-campaign")
    page.wait_for_selector("#campaign-title")


def test_segment_test_send_send_unsubscribe_and_the_next_campaign_skips_him(
    committed_companies: Any,
    run_process: Any,
    chromium_page: Any,
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mailbox_on: Any,
) -> None:
    from marketing.models import Campaign, Segment, Suppression

    made = committed_companies("Окна Кирилла")
    people = _world(made, mailbox_on)
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
    host = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size(SIZES["laptop"])
    page.goto(f"{host}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_selector("#workspace-title")
    problems: dict[str, list[str]] = {}

    def check(where: str) -> None:
        page.wait_for_load_state("networkidle")
        save_screenshot(page, f"campaign-{where}")
        found = watch.take() + serious_accessibility_problems(page)
        if found:
            problems[where] = found

    # The segment: the saved view of wholesale clients (dynamic).
    page.click("#nav-campaigns")
    page.click("#marketing-segments")
    page.click("#new-segment")
    page.fill("#id_name", "Оптовые клиенты")
    page.select_option("#id_kind", "dynamic")
    page.select_option("#id_view", label="Клиенты: Оптовики")
    page.click("#save-segment")
    page.wait_for_selector("#segment-size")
    assert "3" in page.inner_text("#segment-size")
    assert "2" in page.inner_text("#segment-size")  # two of them agreed
    check("segment-1366x768-ru")

    _write_campaign(page, "Осенняя скидка", "Оптовые клиенты")
    check("campaign-1366x768-ru")
    preview = page.frame_locator("iframe.letter-preview")
    assert "Уважаемая Анна Петровна!" in preview.locator("h1").inner_text()
    frame = page.locator("iframe.letter-preview")
    frame.scroll_into_view_if_needed()
    frame.screenshot(path=str(screenshots_dir() / "campaign-preview-letter.png"))

    # The test letter, to the marketer herself.
    page.fill("#test-to", "kirill@okna.test")
    page.click("#send-test")
    page.wait_for_selector(".messages")
    wait_for(lambda: len(smtp_server.received) == 1, timeout=20, what="the test letter")
    assert smtp_server.received[0].recipients == ["kirill@okna.test"]
    smtp_server.received.clear()

    page.check("#confirm-send")
    page.click("#send-now")
    page.wait_for_selector(".messages")
    wait_for(lambda: len(smtp_server.received) >= 2, timeout=60, what="the campaign's letters")
    got = {r.recipients[0]: r for r in smtp_server.received}
    assert set(got) == {people["anna"].emails[0], people["ivan"].emails[0]}
    letter = email.message_from_bytes(
        got[people["ivan"].emails[0]].data, policy=email.policy.default
    )
    assert str(letter["Subject"]) == "Иван, окна со скидкой"
    assert str(letter["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    unsubscribe = str(letter["List-Unsubscribe"]).strip().strip("<>")
    with made:
        wait_for(
            lambda: Campaign.objects.get(name="Осенняя скидка").status == "sent",
            timeout=30,
            what="the campaign marked sent",
        )
    page.reload()
    assert page.inner_text("#campaign-figures [data-figure='sent']") == "2"
    check("sent-1366x768-ru")

    # Иван opens the unsubscribe link of the letter he received, and confirms.
    page.goto(unsubscribe)
    check("unsubscribe-1366x768-ru")
    page.click("#unsubscribe-confirm")
    page.wait_for_selector("#unsubscribe-done")
    check("unsubscribed-1366x768-ru")
    with made:
        assert Suppression.objects.get().email == people["ivan"].emails[0]

    # The next campaign goes to Анна alone.
    smtp_server.received.clear()
    page.goto(f"{host}/")
    _write_campaign(page, "Зимняя скидка", "Оптовые клиенты")
    page.check("#confirm-send")
    page.click("#send-now")
    page.wait_for_selector(".messages")
    wait_for(lambda: len(smtp_server.received) >= 1, timeout=60, what="the second campaign")
    with made:
        wait_for(
            lambda: Campaign.objects.get(name="Зимняя скидка").status == "sent",
            timeout=30,
            what="the second campaign marked sent",
        )
    assert [r.recipients for r in smtp_server.received] == [[people["anna"].emails[0]]]

    page.click("#marketing-campaigns")
    row = page.locator("#campaign-list tr", has_text="Осенняя скидка")
    assert row.locator("[data-figure='unsubscribed']").inner_text() == "1"

    # Every screen at both sizes in both languages.
    with made:
        first = Campaign.objects.get(name="Осенняя скидка")
        segment = Segment.objects.get()
        draft = Campaign.objects.create(
            name="Черновик", subject="Тема", segment=segment, blocks=first.blocks
        )
        # A campaign the worker gave up on, with its reason and the resume button; and Пётр's
        # address suppressed after soft bounces, on his card's consent panel.
        stopped = Campaign.objects.create(
            name="Остановленная",
            subject="Тема",
            segment=segment,
            blocks=first.blocks,
            status="stopped",
            stopped_reason="Почтовый сервер не принял письмо.",
        )
        Suppression.objects.create(
            email=people["petr"].emails[0],
            reason="soft_bounced",
            detail="DSN 4.2.2 smtp; 452 4.2.2 Mailbox full",
        )
    screens = {
        "list": "/marketing/",
        "campaign": f"/marketing/{first.pk}/",
        "draft": f"/marketing/{draft.pk}/",
        "stopped": f"/marketing/{stopped.pk}/",
        "soft-bounced-card": f"/contacts/{people['petr'].pk}/card/",
        "edit": f"/marketing/{draft.pk}/edit/",
        "segments": "/marketing/segments/",
        "segment": f"/marketing/segments/{segment.pk}/",
        "sending": "/marketing/sending/",
        "card": f"/contacts/{people['anna'].pk}/card/",
        "report": "/reports/campaigns/",
        "unsubscribe": urlsplit(unsubscribe).path,
    }
    for language in ("ru", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": host}])
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            for name, path in screens.items():
                response = page.goto(f"{host}{path}")
                assert response is not None
                assert response.status == 200, (name, response.status)
                assert page.evaluate(
                    "document.documentElement.scrollWidth <= window.innerWidth + 1"
                ), (name, size)
                check(f"{name}-{size}-{language}")
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
