"""GET /metrics: Prometheus text with latency, queue depth, task outcomes and counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient

from relata.metrics import TASK_COUNTS_KEY, _redis


def _metric(body: str, name: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith(name)]


def test_metrics_expose_latency_companies_seats_pool_and_tasks(two_companies: Any) -> None:
    a, _ = two_companies
    from relata.tasks import probe_company

    client = _redis()
    client.delete(TASK_COUNTS_KEY)
    with a:
        probe_company.apply()  # runs here, through Celery's signals
    health = HttpClient().get("/healthz")
    assert health["Server-Timing"].startswith("app;dur=")  # the server's own time, for tools
    body = HttpClient().get("/metrics").content.decode()

    assert _metric(body, 'relata_http_request_duration_seconds_count{host="public",method="GET"')
    assert 'relata_companies{status="trialing"} 2.0' in body
    assert 'relata_active_memberships{role="owner"} 2.0' in body
    assert _metric(body, "relata_schema_pool_ready ")
    assert _metric(body, 'relata_celery_queue_length{queue="celery"}')
    assert 'relata_celery_tasks{state="success",task="relata.tasks.probe_company"} 1.0' in body
    client.delete(TASK_COUNTS_KEY)


@pytest.mark.django_db
def test_metrics_need_the_token_when_one_is_set(settings: Any) -> None:
    settings.METRICS_TOKEN = "scrape-secret"
    assert HttpClient().get("/metrics").status_code == 403
    assert HttpClient().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    ok = HttpClient().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")


def test_metrics_are_not_served_on_company_hosts(two_companies: Any) -> None:
    a, _ = two_companies
    assert HttpClient().get("/metrics", HTTP_HOST=a.host).status_code in (302, 404)
