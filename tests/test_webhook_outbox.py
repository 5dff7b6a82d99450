"""No write depends on the broker: with it down, the API still answers and the deliveries wait
as rows (a transactional outbox); once it is back, they all go out, each once, within a minute."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from conftest import child_env, wait_for
from crm_core.api.services import issue_token
from crm_core.automation.models import WebhookDelivery
from crm_core.automation.services.subscriptions import save_subscription
from crm_core.automation.tasks import send_webhook_backlog
from crm_core.models import Deal
from relata.celery import app
from tenants.models import Membership, PendingDispatch
from tests.test_automation_rules import _Hook, hook_server

__all__ = ["hook_server"]

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


def _use_broker(url: str) -> None:
    """Point this process's Celery at ``url`` (its connection pools are made again)."""
    app.conf.broker_url = url
    # Celery keeps the pool of the old address; kombu keeps every address's pool in a registry
    # of its own, so the old one is left open there (closing it would break later tests).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker() -> Iterator[dict[str, str]]:
    real = {"url": str(app.conf.broker_url)}
    yield real
    _use_broker(real["url"])


def test_deliveries_written_while_the_broker_is_down_go_out_once_it_is_back(  # noqa: PLR0917
    committed_companies: Any,
    run_process: Any,
    tmp_path: Path,
    hook_server: str,
    settings: Any,
    broker: dict[str, str],
) -> None:
    company = committed_companies("Брокер лежит")
    owner = Membership.objects.get(company=company.company, user=company.owner)
    with company:
        save_subscription(membership=owner, url=hook_server, events=["deal.created"])
        token = issue_token(membership=owner, name="site", access="write", resources=[])

    _use_broker(NOBODY_LISTENS)
    api = HttpClient()
    for n in range(19):
        answer = api.post(
            "/api/v1/deals/",
            json.dumps({"title": f"Заявка {n}"}),
            content_type="application/json",
            HTTP_HOST=company.host,
            HTTP_AUTHORIZATION=f"Bearer {token.secret}",
        )
        # Stored and answered: a client has no reason to retry (and duplicate) it.
        assert answer.status_code == 201, answer.content[:300]
    with company:
        assert Deal.objects.count() == 19
        assert WebhookDelivery.objects.filter(status="pending").count() == 19
    assert PendingDispatch.objects.filter(company=company.company, kind="webhooks").exists()
    # While the broker is down, the sweep takes nothing and keeps the marker.
    assert send_webhook_backlog() == 0
    assert PendingDispatch.objects.filter(company=company.company).exists()

    _use_broker(broker["url"])
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", "celery", "-l", "info"],
        env=child_env(
            CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
            REDIS_URL=os.environ.get("REDIS_URL", ""),
            AUTOMATION_WEBHOOK_ALLOW_LOOPBACK="1",
        ),
        log=tmp_path / "worker.log",
    )
    back = time.monotonic()
    send_webhook_backlog.delay()  # what beat sends every 15 s

    def all_delivered() -> bool:
        with company:
            return WebhookDelivery.objects.filter(status="delivered").count() == 19

    try:
        wait_for(all_delivered, timeout=60, what="19 deliveries after the broker came back")
    except AssertionError:
        print((tmp_path / "worker.log").read_text())  # noqa: T201
        raise
    assert time.monotonic() - back < 60
    delivered = [json.loads(body)["delivery"] for _headers, body in _Hook.seen]
    assert len(delivered) == len(set(delivered)) == 19  # each once
    assert not PendingDispatch.objects.filter(company=company.company).exists()


def test_a_company_s_backlog_is_swept_in_its_own_schema_only(
    committed_companies: Any, broker: dict[str, str]
) -> None:
    a = committed_companies("Outbox A")
    b = committed_companies("Outbox B")
    with b:
        WebhookDelivery.objects.create(url="https://b.example/hook", event="deal.created")
    with a:
        WebhookDelivery.objects.create(url="https://a.example/hook", event="deal.created")
        _use_broker(NOBODY_LISTENS)
        from crm_core.automation.services.webhooks import send_backlog

        assert send_backlog() == -1
    marked = set(PendingDispatch.objects.values_list("company__slug", flat=True))
    assert a.company.slug in marked
    assert b.company.slug not in marked
