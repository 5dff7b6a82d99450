"""Fixtures for billing tests: localstripe as a subprocess and our fake in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe, serve, start_localstripe


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, base = start_localstripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_fake(localstripe: str, settings: Any) -> Iterator[FakeStripe]:
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    for fake in serve(FakeStripe(upstream=localstripe)):
        settings.STRIPE_API_BASE = fake.base
        yield fake


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in the test's own process and transaction (the broker is not under
    test here; tests/test_isolation.py runs a real worker)."""
    from relata.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False
