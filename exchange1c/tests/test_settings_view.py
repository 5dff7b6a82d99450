"""Settings › Exchange with 1C, as an owner reaches it, and as nobody else can."""

from __future__ import annotations

import re
from typing import Any

from conftest import PASSWORD
from exchange1c.models import ExchangeSession
from exchange1c.tests.onec import OneC
from tenants.models import Membership, User
from tests.test_isolation import login_on_host


def test_the_owner_switches_on_sets_a_password_and_1c_connects_with_it(
    two_companies: Any, media_root: Any
) -> None:
    a, b = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    settings_page = browser.get("/settings/", HTTP_HOST=a.host).content.decode()
    assert 'href="/settings/1c/"' in settings_page
    page = browser.get("/settings/1c/", HTTP_HOST=a.host).content.decode()
    assert f"http://{a.host}/1c/exchange/" in page
    assert f"1c-{a.company.slug}" in page
    assert 'id="exchange-enable"' in page

    browser.post("/settings/1c/", {"action": "enable"}, HTTP_HOST=a.host)
    shown = browser.post("/settings/1c/", {"action": "password"}, HTTP_HOST=a.host)
    assert shown["Cache-Control"] == "no-store"
    found = re.search(r'id="exchange-password">([^<]+)<', shown.content.decode())
    assert found is not None
    password = found[1]
    # Shown once: the next visit says when it was set, not what it is.
    assert password not in browser.get("/settings/1c/", HTTP_HOST=a.host).content.decode()

    onec = OneC(host=a.host, login=f"1c-{a.company.slug}", password=password, kind="sale")
    assert onec.checkauth().word == "success"
    onec.get("query")
    onec.get("success")
    page = browser.get("/settings/1c/", HTTP_HOST=a.host).content.decode()
    assert page.count('class="exchange-session"') == 1
    assert 'id="exchange-disable"' in page

    # B's owner sees B's exchange only: off, no sessions, B's own login.
    other = login_on_host(b.owner, b.company, b.host)
    b_page = other.get("/settings/1c/", HTTP_HOST=b.host).content.decode()
    assert 'class="exchange-session"' not in b_page
    assert f"1c-{b.company.slug}" in b_page
    assert a.company.slug not in b_page
    with b.company:
        assert not ExchangeSession.objects.exists()


def test_managers_do_not_see_the_exchange_settings(two_companies: Any) -> None:
    a, _b = two_companies
    user = User.objects.create_user(email="manager@example.com", password=PASSWORD)
    Membership.objects.create(user=user, company=a.company, role=Membership.Role.MANAGER)
    browser = login_on_host(user, a.company, a.host)
    assert browser.get("/settings/1c/", HTTP_HOST=a.host).status_code == 404
    assert browser.post("/settings/1c/", {"action": "enable"}, HTTP_HOST=a.host).status_code == 404
