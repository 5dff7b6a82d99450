from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient

from relata import views


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client: HttpClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "failing": []}


@pytest.mark.django_db
def test_healthz_names_the_broker_when_it_does_not_answer(
    client: HttpClient, monkeypatch: Any
) -> None:
    # A broker that really refuses: a Redis URL on a port where nothing listens.
    monkeypatch.setattr(views.celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["database"] == "ok"


@pytest.mark.django_db
def test_healthz_names_the_database_when_it_does_not_answer(
    client: HttpClient, monkeypatch: Any
) -> None:
    class Down:
        def cursor(self) -> Any:
            from django.db import OperationalError

            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", Down())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_healthz_is_only_on_the_public_host(two_companies: Any) -> None:
    a, _ = two_companies
    assert HttpClient().get("/healthz", HTTP_HOST=a.host).status_code in (302, 404)
