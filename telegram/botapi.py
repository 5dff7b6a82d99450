"""The few Bot API methods Relata calls (https://core.telegram.org/bots/api), over HTTPS.

The token is part of every method's URL, so no error raised here carries the URL or the
exception that held it: only the method's name and Telegram's own description.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import requests
from django.conf import settings

TIMEOUT = 10
UPLOAD_TIMEOUT = 60
# Telegram takes files up to 50 MB through sendDocument; we keep well under it.
MAX_UPLOAD = 20 * 1024 * 1024
CAPTION_LENGTH = 1024
TOKEN_IN_URL = re.compile(r"/bot[0-9]+:[A-Za-z0-9_-]+")


class _RedactToken(logging.Filter):
    """urllib3 logs each request's path at DEBUG, and the path holds the bot's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_URL.sub("/bot<token>", a) if isinstance(a, str) else a for a in record.args
            )
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactToken())


class BotApiError(Exception):
    """Telegram refused (``code`` is its error_code) or could not be reached (``code`` 0)."""

    def __init__(self, method: str, code: int, description: str):
        super().__init__(f"{method}: {code} {description}")
        self.method = method
        self.code = code
        self.description = description


def call(token: str, method: str, *, files: dict[str, Any] | None = None, **params: Any) -> Any:
    """One method; with ``files`` the parameters go as multipart/form-data (an upload)."""
    url = f"{settings.TELEGRAM_API_BASE.rstrip('/')}/bot{token}/{method}"
    try:
        if files:
            response = requests.post(url, data=params, files=files, timeout=UPLOAD_TIMEOUT)
        else:
            response = requests.post(url, json=params, timeout=TIMEOUT)
        body = response.json()
    except (requests.RequestException, ValueError):
        # The exception text includes the URL, hence the token: it is not passed on.
        raise BotApiError(method, 0, "Telegram could not be reached") from None
    if not isinstance(body, dict) or not body.get("ok"):
        body = body if isinstance(body, dict) else {}
        raise BotApiError(
            method,
            int(body.get("error_code") or response.status_code),
            str(body.get("description") or "")[:300],
        )
    return body.get("result")


def get_me(token: str) -> dict[str, Any]:
    result = call(token, "getMe")
    return result if isinstance(result, dict) else {}


def set_webhook(token: str, url: str, secret_token: str) -> None:
    call(
        token,
        "setWebhook",
        url=url,
        secret_token=secret_token,
        allowed_updates=["message"],
        drop_pending_updates=False,
    )


def delete_webhook(token: str) -> None:
    call(token, "deleteWebhook")


def send_message(
    token: str, chat_id: int, text: str, reply_markup: dict[str, Any] | None = None
) -> Any:
    params: dict[str, Any] = {"chat_id": chat_id, "text": text[:4096]}
    if reply_markup is not None:
        params["reply_markup"] = reply_markup
    return call(token, "sendMessage", **params)


def send_document(
    token: str, chat_id: int, *, name: str, content: bytes, content_type: str, caption: str = ""
) -> Any:
    """A file sent as a document (any type, shown with its name), with an optional caption."""
    params: dict[str, Any] = {"chat_id": chat_id}
    if caption:
        params["caption"] = caption[:CAPTION_LENGTH]
    return call(
        token,
        "sendDocument",
        files={"document": (name, content, content_type or "application/octet-stream")},
        **params,
    )
