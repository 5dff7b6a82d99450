"""A local OAuth2 provider for the tests (RFC 6749's authorization-code and refresh-token grants,
RFC 7662's token introspection for dovecot), on 127.0.0.1: no test reaches a real provider."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

CLIENT_ID = "relata-test-client"
CLIENT_SECRET = "relata-test-secret"


@dataclass
class FakeOAuth:
    base_url: str = ""
    expires_in: int = 3600
    # code -> (mailbox address, redirect_uri); access token -> (address, expiry); refresh -> address
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    access: dict[str, tuple[str, float]] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)

    def consent(self, address: str, redirect_uri: str) -> str:
        """The mailbox's owner allowed access on the provider's page: the code it returns."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = (address, redirect_uri)
        return code

    def valid(self, token: str) -> str | None:
        found = self.access.get(token)
        if found is None or found[1] < time.time():
            return None
        return found[0]

    def _issue(self, address: str, with_refresh: bool) -> dict[str, Any]:
        token = "at-" + secrets.token_urlsafe(16)
        self.access[token] = (address, time.time() + self.expires_in)
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }
        if with_refresh:
            refresh = "rt-" + secrets.token_urlsafe(16)
            self.refresh[refresh] = address
            answer["refresh_token"] = refresh
        return answer

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        if grant == "authorization_code":
            found = self.codes.pop(form.get("code", ""), None)
            if found is None or found[1] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}
            return 200, self._issue(found[0], with_refresh=True)
        if grant == "refresh_token":
            address = self.refresh.get(form.get("refresh_token", ""))
            if address is None:
                return 400, {"error": "invalid_grant"}
            return 200, self._issue(address, with_refresh=False)
        return 400, {"error": "unsupported_grant_type"}

    def introspect(self, form: dict[str, str]) -> dict[str, Any]:
        address = self.valid(form.get("token", ""))
        return {"active": True, "username": address} if address else {"active": False}


@contextmanager
def running_oauth() -> Iterator[FakeOAuth]:
    fake = FakeOAuth()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            if self.path.startswith("/token"):
                status, body = fake.token(form)
            elif self.path.startswith("/introspect"):
                status, body = 200, fake.introspect(form)
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
