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


# --- What every screen is checked for: CSP, accessibility, and a screenshot to look at -------

SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def screenshots_dir() -> Path:
    """Where browser tests leave their screenshots (CI keeps them as the run's artefacts)."""
    from conftest import ROOT

    folder = Path(os.environ.get("RELATA_SCREENSHOTS") or ROOT / ".relata" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(page: Any, name: str) -> Path:
    path = screenshots_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class ConsoleWatch:
    """Collects what the browser reports about the Content-Security-Policy and page errors."""

    def __init__(self, page: Any) -> None:
        self.csp: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp.append(text[:160])

    def take(self) -> list[str]:
        """What was reported since the last call (and forget it)."""
        reported = [*self.csp, *self.errors]
        self.csp.clear()
        self.errors.clear()
        return reported

    def assert_clean(self, where: str) -> None:
        assert not self.csp, f"CSP violations on {where}: {self.csp}"
        assert not self.errors, f"JavaScript errors on {where}: {self.errors}"


def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (empty when none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
