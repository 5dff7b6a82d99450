from __future__ import annotations

import json
from typing import Any

from django.test import Client as HttpClient

from telegram.models import Bot
from telegram.services.connection import secret_of
from telegram.tests.fake_bot_api import FakeBotApi
from tests.test_isolation import login_on_host


def connect_through_settings(company: Any, api: FakeBotApi, username: str, bot_id: int) -> str:
    """The owner pastes a BotFather token on the settings screen; the token is returned."""
    token = api.add_bot(bot_id, username)
    browser = login_on_host(company.owner, company.company, company.host)
    response = browser.post(
        "/settings/telegram/", {"action": "connect", "token": token}, HTTP_HOST=company.host
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return token


def secret(company: Any) -> str:
    with company:
        return secret_of(Bot.objects.get())


def post_update(host: str, update: Any, token: str | None) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token is not None else {}
    body = update if isinstance(update, str | bytes) else json.dumps(update)
    return HttpClient().post(
        "/public/telegram/webhook/",
        body,
        content_type="application/json",
        headers=headers,
        HTTP_HOST=host,
    )


def message(update_id: int, from_id: int, text: str = "", **extra: Any) -> dict[str, Any]:
    sender = {"id": from_id, "is_bot": False, "first_name": "Иван", "last_name": "Петров"}
    body: dict[str, Any] = {
        "message_id": update_id,
        "date": 1796558400,
        "chat": {"id": from_id, "type": "private"},
        "from": sender,
        **extra,
    }
    if text:
        body["text"] = text
    return {"update_id": update_id, "message": body}
