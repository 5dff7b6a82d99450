"""A local fake of the Telegram Bot API (https://core.telegram.org/bots/api): the methods
Relata calls, with Telegram's answer shapes ({"ok": true, "result": …} or {"ok": false,
"error_code": …, "description": …}), on 127.0.0.1 — tests never reach the network."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass
class FakeBotApi:
    base_url: str = ""
    # token -> username of the bots BotFather "made".
    bots: dict[str, str] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Chats whose user blocked the bot: sendMessage answers 403.
    blocked: set[int] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def add_bot(self, bot_id: int, username: str) -> str:
        token = f"{bot_id}:AAH{username[:10].ljust(10, 'x')}{'k' * 22}"
        self.bots[token] = username
        return token

    def answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append(method)
        if token not in self.bots:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return handler(token, params)

    def _getMe(self, token: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        bot_id = int(token.split(":", maxsplit=1)[0])
        result = {"id": bot_id, "is_bot": True, "first_name": "Bot", "username": self.bots[token]}
        return 200, {"ok": True, "result": result}

    def _setWebhook(self, token: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        url = params.get("url")
        secret = params.get("secret_token", "")
        if not isinstance(url, str) or not url:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: bad url"}
        if secret and not SECRET_TOKEN.match(secret):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: secret token contains unallowed characters",
            }
        self.webhooks[token] = {"url": url, "secret_token": secret}
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}

    def _deleteWebhook(self, token: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        self.webhooks.pop(token, None)
        return 200, {"ok": True, "result": True, "description": "Webhook was deleted"}

    def _sendMessage(self, token: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        chat_id = params.get("chat_id")
        text = params.get("text")
        if not chat_id or not isinstance(text, str) or not text:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: text is empty",
            }
        if chat_id in self.blocked:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        self.sent.append({"token": token, **params})
        message = {"message_id": len(self.sent), "date": 0, "chat": {"id": chat_id}, "text": text}
        return 200, {"ok": True, "result": message}

    def _sendDocument(self, token: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        """Multipart only (an upload): chat_id arrives as a string, the document as a file."""
        document = params.get("document")
        chat = str(params.get("chat_id") or "")
        if not chat.lstrip("-").isdigit() or not isinstance(document, dict):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: there is no document in the request",
            }
        if int(chat) in self.blocked:
            return 403, {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
        self.sent.append({"token": token, **params, "chat_id": int(chat)})
        message = {
            "message_id": len(self.sent),
            "date": 0,
            "chat": {"id": int(chat)},
            "document": {"file_name": document["name"], "file_size": len(document["content"])},
            "caption": params.get("caption", ""),
        }
        return 200, {"ok": True, "result": message}


def _multipart(content_type: str, raw: bytes) -> dict[str, Any] | None:
    """A multipart/form-data body as Telegram reads it: fields as strings, a file part as
    {"name", "content", "content_type"}."""
    parsed = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    if not parsed.is_multipart():
        return None
    params: dict[str, Any] = {}
    for part in parsed.iter_parts():
        field_name = part.get_param("name", header="content-disposition")
        if not isinstance(field_name, str):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = part.get_filename()
        if filename is not None:
            params[field_name] = {
                "name": filename,
                "content": payload,
                "content_type": part.get_content_type(),
            }
        else:
            params[field_name] = payload.decode()
    return params


def serve(api: FakeBotApi) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            match = re.match(r"^/bot([^/]+)/(\w+)$", self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            kind = self.headers.get("Content-Type", "")
            params: dict[str, Any] | None
            if kind.startswith("multipart/form-data"):
                params = _multipart(kind, raw)
            else:
                try:
                    params = json.loads(raw or b"{}")
                except ValueError:
                    params = None
            if match is None or not isinstance(params, dict):
                status, body = 400, {"ok": False, "error_code": 400, "description": "Bad Request"}
            else:
                status, body = api.answer(match.group(1), match.group(2), params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
