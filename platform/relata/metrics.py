"""Prometheus metrics: request latency, queue depth, task outcomes, companies and seats.

Request latency is measured in each web process (prometheus-client's multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set, as under gunicorn). Task outcomes happen in worker
processes, so they are counted in Redis and read when Prometheus scrapes; queue depth and
per-company counts are read at scrape time too. Labels never carry a company's name or id:
that would make one time series per company.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from celery.signals import task_failure, task_retry, task_success
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "relata_http_request_duration_seconds",
    "Server time per HTTP request",
    ["method", "host", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASK_COUNTS_KEY = "relata:metrics:tasks"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        host = "company" if getattr(request, "company", None) is not None else "public"
        REQUEST_SECONDS.labels(
            request.method or "-", host, f"{response.status_code // 100}xx"
        ).observe(seconds)
        # Browsers' developer tools and the load benchmark read the server's own time here.
        response.headers.setdefault("Server-Timing", f"app;dur={seconds * 1000:.1f}")
        return response


def _redis() -> Any:
    import redis

    return redis.Redis.from_url(
        settings.REDIS_CACHE_URL, socket_timeout=1, socket_connect_timeout=1
    )


def _count_task(state: str, sender: Any) -> None:
    name = getattr(sender, "name", None) or "unknown"
    try:
        _redis().hincrby(TASK_COUNTS_KEY, f"{name}|{state}", 1)
    except Exception:
        logger.debug("task metric not recorded", exc_info=True)


@task_success.connect(weak=False)
def _on_success(sender: Any = None, **kwargs: Any) -> None:
    _count_task("success", sender)


@task_failure.connect(weak=False)
def _on_failure(sender: Any = None, **kwargs: Any) -> None:
    _count_task("failure", sender)


@task_retry.connect(weak=False)
def _on_retry(sender: Any = None, **kwargs: Any) -> None:
    _count_task("retry", sender)


class PlatformCollector(Collector):
    """Read at scrape time: queue depth, task outcomes, companies, seats and the schema pool."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._from_redis()
        yield from self._from_database()

    def _from_redis(self) -> Iterator[GaugeMetricFamily]:
        queue = GaugeMetricFamily("relata_celery_queue_length", "Tasks waiting", labels=["queue"])
        tasks = GaugeMetricFamily(
            "relata_celery_tasks",
            "Tasks finished since the counters began",
            labels=["task", "state"],
        )
        try:
            client = _redis()
            for name in settings.CELERY_QUEUES_TO_WATCH:
                queue.add_metric([name], float(client.llen(name)))
            for key, value in client.hgetall(TASK_COUNTS_KEY).items():
                task, _, state = key.decode().partition("|")
                tasks.add_metric([task, state], float(value))
        except Exception:
            logger.warning("metrics: Redis unavailable")
        yield queue
        yield tasks

    def _from_database(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from tenants.models import Company, Membership
        from tenants.services import schema_pool

        companies = GaugeMetricFamily("relata_companies", "Companies by status", labels=["status"])
        for row in Company.objects.values("status").annotate(n=Count("id")):
            companies.add_metric([row["status"]], float(row["n"]))
        yield companies
        seats = GaugeMetricFamily(
            "relata_active_memberships", "Active members (seats) by role", labels=["role"]
        )
        for row in Membership.objects.filter(is_active=True).values("role").annotate(n=Count("id")):
            seats.add_metric([row["role"]], float(row["n"]))
        yield seats
        yield GaugeMetricFamily(
            "relata_schema_pool_ready",
            "Spare schemas ready for sign-ups",
            value=schema_pool.ready_count(),
        )


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return registry


_platform = PlatformCollector()


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponseForbidden("metrics token required")
    elif settings.PRODUCTION:
        return HttpResponseForbidden("set METRICS_TOKEN to expose metrics")
    registry = _registry()
    body = generate_latest(registry)
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_platform)
    body += generate_latest(extra)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
