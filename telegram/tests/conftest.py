from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from relata.celery import app
from telegram.tests.fake_bot_api import FakeBotApi, serve


@pytest.fixture
def bot_api(settings: Any) -> Iterator[FakeBotApi]:
    """The fake Bot API on a free port of 127.0.0.1, with Relata pointed at it and Celery
    tasks run in place (they still run only after the transaction commits)."""
    api = FakeBotApi()
    server, thread = serve(api)
    settings.TELEGRAM_API_BASE = api.base_url
    app.conf.task_always_eager = True
    try:
        yield api
    finally:
        app.conf.task_always_eager = False
        server.shutdown()
        server.server_close()
        thread.join(5)
