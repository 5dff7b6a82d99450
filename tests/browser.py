"""Real processes for browser tests: a web server on a free port and the system Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    if os.environ.get("RELATA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Chromium is required but not found at {CHROMIUM} (apt-get install chromium)")
    pytest.skip("Chromium not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_web(run_process: Callable[..., Any], env: dict[str, str], log: Path) -> str:
    """Run the real web server (runserver, as `dev.py start` does) and return its base URL."""
    from conftest import wait_for

    port = free_port()
    run_process(["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, log=log)
    base = f"http://localhost:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    wait_for(answers, timeout=60, what=f"web server on port {port} (log: {log})")
    return base


@pytest.fixture
def chromium_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django then refuses ORM calls
    # from the test body although they are synchronous. The server under test is a separate
    # process, so the check protects nothing here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        context = browser.new_context(locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()
        # ORM calls made while Playwright's loop was running got a connection of their own
        # (Django's connections are per async context); close it so the test database can go.
        from django.db import connections

        connections.close_all()
