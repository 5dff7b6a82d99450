"""The database unreachable (a restart, a fail-over) answers 503 with Retry-After, not 500.

A real outage of this process's connection: it is closed and pointed at a port where nothing
listens, so every query fails the way it does while PostgreSQL restarts (bench/faults.py runs
the real restart under load)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient


@pytest.fixture
def database_down() -> Iterator[None]:
    kept = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    connection.settings_dict["HOST"] = "127.0.0.1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(kept)


def test_pages_and_the_api_ask_to_try_again_while_the_database_is_down(
    committed_companies: Any, request: Any
) -> None:
    company = committed_companies("Перезапуск")
    browser = HttpClient(raise_request_exception=False)
    request.getfixturevalue("database_down")

    page = browser.get("/", HTTP_HOST=company.host)
    assert page.status_code == 503
    assert page["Retry-After"] == "10"
    assert "Relata перезапускается" in page.content.decode()

    api = browser.post(
        "/api/v1/deals/",
        json.dumps({"title": "Во время рестарта"}),
        content_type="application/json",
        HTTP_HOST=company.host,
        HTTP_AUTHORIZATION="Bearer whatever",
    )
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "unavailable"

    public = browser.get("/", HTTP_HOST="localhost")
    assert public.status_code == 503


def test_other_server_errors_stay_500(committed_companies: Any, monkeypatch: Any) -> None:
    from crm_core import home_views

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug, not an outage")

    company = committed_companies("Ошибка")
    monkeypatch.setattr(home_views, "render", broken)
    from tests.test_isolation import login_on_host

    browser = login_on_host(company.owner, company.company, company.host)
    browser.raise_request_exception = False
    answer = browser.get("/", HTTP_HOST=company.host)
    assert answer.status_code == 500
    assert "Retry-After" not in answer
