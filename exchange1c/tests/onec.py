"""A small 1C: speaks the exchange protocol to Relata as 1C:Предприятие does.

checkauth with HTTP Basic → the cookie from the answer's lines on every later request →
init (zip, file_limit) → file in chunks of at most file_limit → import polled until it stops
saying "progress" → (sale) query, success.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.test import Client as HttpClient

from onboarding.tests.helpers import fixture_1c

__all__ = ["DroppedConnection", "OneC", "fixture_1c"]

ENDPOINT = "/1c/exchange/"


@dataclass
class Answer:
    status: int
    lines: list[str]
    body: bytes = b""

    @property
    def word(self) -> str:
        return self.lines[0] if self.lines else ""


@dataclass
class OneC:
    host: str
    login: str
    password: str
    kind: str = "catalog"
    http: HttpClient = field(default_factory=HttpClient)
    zip: bool = False
    file_limit: int = 0

    def _url(self, mode: str, **params: str) -> str:
        return f"{ENDPOINT}?{urlencode({'type': self.kind, 'mode': mode, **params})}"

    def get(self, mode: str, **params: str) -> Answer:
        response = self.http.get(self._url(mode, **params), HTTP_HOST=self.host)
        return _answer(response)

    def checkauth(self) -> Answer:
        token = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        response = self.http.get(
            self._url("checkauth"), HTTP_HOST=self.host, HTTP_AUTHORIZATION=f"Basic {token}"
        )
        answer = _answer(response)
        if answer.word == "success":
            self.http.cookies[answer.lines[1]] = answer.lines[2]
        return answer

    def init(self) -> Answer:
        answer = self.get("init")
        said = dict(line.split("=", 1) for line in answer.lines if "=" in line)
        self.zip = said.get("zip") == "yes"
        self.file_limit = int(said.get("file_limit", "0"))
        return answer

    def send_chunk(self, name: str, chunk: bytes, **extra: Any) -> Answer:
        response = self.http.generic(
            "POST",
            self._url("file", filename=name),
            data=chunk,
            content_type="application/octet-stream",
            HTTP_HOST=self.host,
            **extra,
        )
        return _answer(response)

    def upload(self, name: str, data: bytes) -> None:
        """The file in chunks of at most file_limit bytes, each answered "success"."""
        assert self.file_limit > 0, "init first"
        for start in range(0, len(data), self.file_limit):
            answer = self.send_chunk(name, data[start : start + self.file_limit])
            assert answer.lines == ["success"], answer

    def import_file(self, name: str, *, between: Callable[[], None] | None = None) -> Answer:
        """`import` until it stops answering "progress" (`between` runs at each wait)."""
        for _attempt in range(20):
            answer = self.get("import", filename=name)
            if answer.word != "progress":
                return answer
            if between is not None:
                between()
        raise AssertionError(f"{name} still in progress")


def _answer(response: Any) -> Answer:
    body = response.content
    charset = response.charset or "utf-8"
    text = body.decode(charset, errors="replace") if response.status_code != 404 else ""
    if response.get("Content-Type", "").startswith("application/xml"):
        return Answer(response.status_code, ["xml"], body)
    return Answer(response.status_code, text.split("\n") if text else [], body)


class DroppedConnection:
    """The request body as a socket gives it when the connection drops: the first bytes,
    then a reset."""

    def __init__(self, data: bytes) -> None:
        self.data, self.given = data, False

    def read(self, size: int = -1) -> bytes:
        if self.given:
            raise ConnectionResetError("connection reset by peer")
        self.given = True
        return self.data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)
