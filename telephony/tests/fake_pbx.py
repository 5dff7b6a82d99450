"""A local stand-in for the providers' HTTP APIs (Mango Office's /commands/callback, Zadarma's
/v1/request/callback/ and /v1/pbx/record/request/), started by a test on 127.0.0.1. It checks
each request's signature the way the provider documents it and records what it was asked."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from telephony.providers.zadarma import hex_hmac_base64


@dataclass
class FakePbx:
    api_key: str
    api_secret: str
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False


def _mango(pbx: FakePbx, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    if path != "/vpbx/commands/callback":
        return 404, {"result": 4001}
    expected = hashlib.sha256((pbx.api_key + form["json"] + pbx.api_secret).encode()).hexdigest()
    if form.get("vpbx_api_key") != pbx.api_key or form.get("sign") != expected:
        return 401, {"result": 3102}
    pbx.calls.append({"provider": "mango", **json.loads(form["json"])})
    return 200, {"result": 4001 if pbx.refuse else 1000}


def _zadarma(pbx: FakePbx, path: str, query: str, auth: str) -> tuple[int, dict[str, Any]]:
    params = dict(parse_qsl(query))
    ordered = urlencode(sorted(params.items()))
    method_path = path
    expected = hex_hmac_base64(
        pbx.api_secret,
        method_path + ordered + hashlib.md5(ordered.encode()).hexdigest(),  # noqa: S324
    )
    if auth != f"{pbx.api_key}:{expected}":
        return 401, {"status": "error", "message": "Not authorized"}
    if path == "/v1/request/callback/":
        pbx.calls.append({"provider": "zadarma", **params})
        if pbx.refuse:
            return 200, {"status": "error", "message": "wrong number"}
        return 200, {"status": "success", "from": params["from"], "to": params["to"]}
    if path == "/v1/pbx/record/request/":
        return 200, {
            "status": "success",
            "link": f"https://records.example/{params['call_id']}.mp3",
        }
    return 404, {"status": "error", "message": "no such method"}


@contextmanager
def fake_pbx(api_key: str, api_secret: str) -> Iterator[FakePbx]:
    pbx = FakePbx(api_key, api_secret)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            self._answer(*_mango(pbx, urlsplit(self.path).path, form))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            auth = self.headers.get("Authorization", "")
            self._answer(*_zadarma(pbx, parts.path, parts.query, auth))

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pbx.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pbx
    finally:
        server.shutdown()
        server.server_close()
