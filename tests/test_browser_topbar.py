"""A member's top bar on a phone is one line (name, search, profile); the language and "Log
out" it makes way for are on the profile page, at every size (issue #18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import child_env
from tenants.services import handoff
from tests.browser import ConsoleWatch, save_screenshot, serious_accessibility_problems, start_web

pytestmark = pytest.mark.browser

SHOWN = "(s) => { const e = document.querySelector(s); return !!e && e.offsetParent !== null; }"


def test_the_phone_top_bar_is_one_line_and_the_profile_switches_language_and_logs_out(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    made = committed_companies("Окна Кирилла из Нижнего Новгорода")
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    site = f"http://{made.host}:{base.rsplit(':', 1)[1]}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.goto(f"{site}/deals/")

    bar = page.locator("header.topbar").bounding_box()
    assert bar is not None
    assert bar["height"] <= 64, bar  # one line, not three
    search = page.locator(".topsearch").bounding_box()
    assert search is not None
    assert search["width"] >= 72
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # A long company name is cut short, not wrapped.
    brand = page.evaluate(
        "(() => { const b = document.querySelector('.brand'); "
        "return [b.scrollWidth > b.clientWidth, getComputedStyle(b).textOverflow]; })()"
    )
    assert brand == [True, "ellipsis"]
    assert not page.evaluate(SHOWN, ".topbar .lang")
    assert not page.evaluate(SHOWN, ".topbar .logout")
    save_screenshot(page, "topbar-390x844-ru")

    # The profile page has the language and "Log out".
    page.click("#nav-profile")
    page.wait_for_selector("#profile-language")
    assert page.locator("#profile-language [aria-current=true]").inner_text() == "Русский"
    save_screenshot(page, "profile-390x844-ru")
    assert serious_accessibility_problems(page) == []
    page.click("#profile-language button[value=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.inner_text("h1") == "My profile"
    assert page.locator("#profile-language [aria-current=true]").inner_text() == "English"
    save_screenshot(page, "profile-390x844-en")

    # On a laptop the top bar shows both again.
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.evaluate(SHOWN, ".topbar .lang")
    assert page.evaluate(SHOWN, ".topbar .logout")
    save_screenshot(page, "profile-1366x768-en")

    page.click("#profile-logout button")
    page.wait_for_load_state()
    assert page.goto(f"{site}/deals/").url.split("?")[0].endswith("/login/")
    watch.assert_clean("the top bar and the profile page")
