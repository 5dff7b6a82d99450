"""Connecting the company's bot from the settings screen, against the fake Bot API."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sentry_sdk

from telegram.models import Bot
from telegram.tests.fake_bot_api import FakeBotApi
from telegram.tests.helpers import connect_through_settings
from tenants.models import Membership, User
from tests.test_isolation import login_on_host
from tests.test_observability import sentry_events

__all__ = ["sentry_events"]


def test_owner_connects_a_bot_token_is_encrypted_and_never_shown(
    two_companies: Any, bot_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    a, _b = two_companies
    caplog.set_level(logging.DEBUG)
    browser = login_on_host(a.owner, a.company, a.host)
    assert b'id="nav-telegram"' in browser.get("/settings/", HTTP_HOST=a.host).content
    token = connect_through_settings(a, bot_api, "okna_bot", 700001)
    hook = bot_api.webhooks[token]
    assert hook["url"] == f"http://{a.host}/public/telegram/webhook/"
    assert len(hook["secret_token"]) >= 32
    with a:
        bot = Bot.objects.get()
        assert bot.username == "okna_bot"
        assert token not in bot.token_encrypted
        assert hook["secret_token"] not in bot.secret_encrypted
    page = browser.get("/settings/telegram/", HTTP_HOST=a.host).content.decode()
    assert "@okna_bot" in page
    assert token not in page
    assert token[-4:] in page
    assert token not in caplog.text


def test_a_wrong_token_gets_a_clear_error_and_nothing_is_kept(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, _b = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    for token, reason in (
        ("not a token", "Это не токен бота"),
        ("123456:AAHwrongwrongwrongwrongwrongwrong", "Unauthorized"),
    ):
        response = browser.post(
            "/settings/telegram/", {"action": "connect", "token": token}, HTTP_HOST=a.host
        )
        assert response.status_code == 200
        assert reason in response.content.decode()
    with a:
        assert not Bot.objects.exists()


def test_disconnect_deletes_the_webhook_and_forgets_the_token(
    two_companies: Any, bot_api: FakeBotApi
) -> None:
    a, _b = two_companies
    token = connect_through_settings(a, bot_api, "okna_bot", 700001)
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post("/settings/telegram/", {"action": "disconnect"}, HTTP_HOST=a.host)
    assert response.status_code == 302
    assert token not in bot_api.webhooks
    assert bot_api.calls[-1] == "deleteWebhook"
    with a:
        assert not Bot.objects.exists()


def test_managers_do_not_reach_the_bot_settings(two_companies: Any, bot_api: FakeBotApi) -> None:
    a, _b = two_companies
    user = User.objects.create_user(email="mgr@example.com", password="Member-Pass-991")
    Membership.objects.create(user=user, company=a.company, role=Membership.Role.MANAGER)
    browser = login_on_host(user, a.company, a.host)
    assert browser.get("/settings/telegram/", HTTP_HOST=a.host).status_code == 404
    token = bot_api.add_bot(700002, "evil_bot")
    response = browser.post(
        "/settings/telegram/", {"action": "connect", "token": token}, HTTP_HOST=a.host
    )
    assert response.status_code == 404
    assert bot_api.calls == []


def test_the_token_never_reaches_sentry(
    two_companies: Any, bot_api: FakeBotApi, sentry_events: list[dict[str, Any]]
) -> None:
    a, _b = two_companies
    token = connect_through_settings(a, bot_api, "okna_bot", 700001)
    with a:
        sentry_sdk.capture_message("after connecting the bot")
    (event,) = sentry_events
    assert "bot<token>" in str(event)  # the Bot API calls are there as breadcrumbs…
    assert token.split(":")[1] not in str(event)  # …without the token
