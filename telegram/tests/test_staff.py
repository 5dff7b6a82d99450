"""A member links their Telegram once from their notifications page and gets notices there."""

from __future__ import annotations

import re
from typing import Any

from crm_core.automation.services.notify import notify
from telegram.models import StaffLink
from telegram.tests.fake_bot_api import FakeBotApi
from telegram.tests.helpers import connect_through_settings, message, post_update, secret
from tenants.models import Membership, User
from tests.test_isolation import login_on_host


def _manager(company: Any) -> Any:
    user = User.objects.create_user(email="mgr@example.com", password="Member-Pass-991")
    Membership.objects.create(user=user, company=company.company, role=Membership.Role.MANAGER)
    return user


def _deep_link_code(browser: Any, host: str) -> str:
    page = browser.post("/me/telegram/", {"action": "link"}, HTTP_HOST=host).content.decode()
    found = re.search(r"https://t\.me/okna_bot\?start=([A-Za-z0-9_-]+)", page)
    assert found, page
    return found.group(1)


def test_member_links_telegram_and_gets_notices_there_until_they_block_the_bot(
    two_companies: Any, bot_api: FakeBotApi, django_capture_on_commit_callbacks: Any
) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    manager = _manager(a)
    browser = login_on_host(manager, a.company, a.host)
    assert b'id="nav-my-telegram"' in browser.get("/notifications/", HTTP_HOST=a.host).content
    code = _deep_link_code(browser, a.host)

    with django_capture_on_commit_callbacks(execute=True):
        linked = post_update(a.host, message(1, 9001, f"/start {code}"), secret(a))
    assert linked.content == b"linked"
    assert bot_api.sent[-1]["chat_id"] == 9001
    assert b'id="telegram-linked"' in browser.get("/me/telegram/", HTTP_HOST=a.host).content
    # The code works once.
    assert post_update(a.host, message(2, 9002, f"/start {code}"), secret(a)).content == (
        b"link_refused"
    )

    with a, django_capture_on_commit_callbacks(execute=True):
        notify(a.company, manager.pk, "Просрочено: позвонить Петрову", "/tasks/7/")
    sent = bot_api.sent[-1]
    assert sent["chat_id"] == 9001
    assert sent["text"].startswith("Просрочено: позвонить Петрову\n")
    assert sent["text"].endswith(f"{a.host}/tasks/7/")

    bot_api.blocked.add(9001)
    with a, django_capture_on_commit_callbacks(execute=True):
        notify(a.company, manager.pk, "Напоминание", "/tasks/8/")
    with a:
        assert not StaffLink.objects.exists()


def test_a_notice_rolled_back_is_never_sent(two_companies: Any, bot_api: FakeBotApi) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    with a:
        StaffLink.objects.create(user=a.owner, chat_id=9001)
        # The test's transaction never commits: on_commit callbacks never run.
        notify(a.company, a.owner.pk, "Напоминание", "/tasks/1/")
    assert bot_api.sent == []


def test_member_unlinks_from_their_page(two_companies: Any, bot_api: FakeBotApi) -> None:
    a, _b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    with a:
        StaffLink.objects.create(user=a.owner, chat_id=9001)
    browser = login_on_host(a.owner, a.company, a.host)
    assert browser.post("/me/telegram/", {"action": "unlink"}, HTTP_HOST=a.host).status_code == 302
    with a:
        assert not StaffLink.objects.exists()


def test_a_link_code_of_company_a_is_useless_in_company_b(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, b = two_companies
    connect_through_settings(a, bot_api, "okna_bot", 700001)
    connect_through_settings(b, bot_api, "dveri_bot", 700002)
    code = _deep_link_code(login_on_host(a.owner, a.company, a.host), a.host)
    refused = post_update(b.host, message(1, 9001, f"/start {code}"), secret(b))
    assert refused.content == b"link_refused"
    with b:
        assert not StaffLink.objects.exists()
    with a:
        assert not StaffLink.objects.exists()
