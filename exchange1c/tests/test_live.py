"""The whole thing as it runs: the real web server and Celery worker, the owner in Chromium
switching the exchange on, and 1C speaking HTTP to the company's host over a real socket —
a connection dropped mid-chunk included."""

from __future__ import annotations

import base64
import http.client
import socket
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from conftest import child_env
from exchange1c.tests.onec import fixture_1c
from tenants.services import handoff
from tests.browser import ConsoleWatch, save_screenshot, start_web

pytestmark = pytest.mark.browser
CHUNK = 4096


class SocketOneC:
    """1C over HTTP/1.1 with its own connection per request, as 1C's HTTPConnection does."""

    def __init__(self, host: str, port: int, kind: str) -> None:
        self.host, self.port, self.kind, self.cookie = host, port, kind, ""

    def _path(self, mode: str, **params: str) -> str:
        return "/1c/exchange/?" + urlencode({"type": self.kind, "mode": mode, **params})

    def request(
        self, mode: str, *, body: bytes | None = None, auth: str = "", **params: str
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        method = "POST" if body is not None else "GET"
        connection.request(method, self._path(mode, **params), body=body, headers=headers)
        response = connection.getresponse()
        answer = response.status, response.read()
        connection.close()
        return answer

    def checkauth(self, login: str, password: str) -> list[str]:
        status, body = self.request("checkauth", auth=f"{login}:{password}")
        lines = body.decode().split("\n")
        if status == 200 and lines[0] == "success":
            self.cookie = f"{lines[1]}={lines[2]}"
        return lines

    def drop_mid_chunk(self, name: str, chunk: bytes) -> None:
        """Announce the whole chunk, send a part of it, and hang up."""
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        head = (
            f"POST {self._path('file', filename=name)} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\nCookie: {self.cookie}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(chunk)}\r\n\r\n"
        )
        raw.sendall(head.encode() + chunk[: len(chunk) // 3])
        raw.close()


def test_the_owner_connects_1c_and_1c_exchanges_over_http(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Product
    from exchange1c.models import ExchangeSession, ReceivedFile

    made = committed_companies("Окна Кирилла")
    env = child_env(MEDIA_ROOT=str(tmp_path / "media"), EXCHANGE1C_FILE_LIMIT=str(CHUNK))
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
    port = int(base.rsplit(":", 1)[1])
    page = chromium_page
    console = ConsoleWatch(page)
    token = handoff.issue(user=made.owner, company=made.company)
    page.goto(f"http://{made.host}:{port}/handoff/{token}/")
    page.click("#nav-settings")
    page.click("#nav-exchange1c")
    page.click("#exchange-enable")
    page.click("#exchange-password-new")
    password = page.inner_text("#exchange-password").strip()
    login = page.inner_text("#exchange-login").strip()
    assert page.inner_text("#exchange-url").strip() == f"http://{made.host}:{port}/1c/exchange/"
    console.assert_clean("the exchange settings")

    onec = SocketOneC(made.host, port, "catalog")
    assert onec.checkauth(login, "wrong")[0] == "failure"
    assert onec.checkauth(login, password)[0] == "success"
    assert onec.request("init") == (200, f"zip=yes\nfile_limit={CHUNK}".encode())
    data = fixture_1c("dobromyslov-commerceml-parser/import0_1.xml").read_bytes()
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    assert onec.request("file", body=chunks[0], filename="import.xml") == (200, b"success")
    onec.drop_mid_chunk("import.xml", chunks[1])
    for chunk in chunks[1:]:  # 1C sends the chunk again, then the rest
        assert onec.request("file", body=chunk, filename="import.xml") == (200, b"success")
    with made.company:
        assert ReceivedFile.objects.get(name="import.xml").size == len(data)
    answers = []
    for _poll in range(60):
        _status, body = onec.request("import", filename="import.xml")
        answers.append(body.split(b"\n")[0])
        if answers[-1] != b"progress":
            break
        time.sleep(0.5)  # 1C waits between polls too
    assert answers[-1] == b"success", answers
    with made.company:
        assert Product.objects.count() == 35
        assert ExchangeSession.objects.get().status == ExchangeSession.Status.DONE

    page.goto(f"http://{made.host}:{port}/settings/1c/")
    assert page.locator(".exchange-session").count() == 1
    assert page.locator("#exchange-password").count() == 0  # shown once, not again
    save_screenshot(page, "exchange1c-settings")
