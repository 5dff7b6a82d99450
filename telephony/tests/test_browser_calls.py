"""In a real browser: an incoming call's event is posted to the company's endpoint → the pop-up
shows the caller's card on the manager's open page → after the call ends it is on the card,
with its talk time and recording; the click-to-call button sits beside the number. No CSP or
script error on the way."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import child_env
from telephony.providers.relata import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from tenants.services import handoff
from tests.browser import ConsoleWatch, chromium_page, save_screenshot, start_web

pytestmark = pytest.mark.browser
__all__ = ["chromium_page"]  # the fixture, from the cross-app tests


def _post_event(base: str, host: str, secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    port = urlsplit(base).port
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/public/telephony/events/",
        data=body,
        method="POST",
        headers={
            "Host": f"{host}:{port}",
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(secret, stamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())


def test_an_incoming_call_pops_up_the_card_and_lands_on_it(
    committed_companies: Any, run_process: Any, chromium_page: Any, tmp_path: Path
) -> None:
    from crm_core.models import Client, Phone
    from telephony.models import Extension
    from telephony.services.connection import ConnectionInput, connect, credentials
    from tenants.models import Membership

    made = committed_companies("Окна Кирилла")
    with made:
        owner = Membership.objects.get(company=made.company, user=made.owner)
        client = Client.objects.create(name="ООО «СтройДом»", responsible=made.owner)
        Phone.objects.create(client=client, e164="+79161234567", raw="8 916 123-45-67")
        Extension.objects.create(number="101", user=made.owner)
        secret = credentials(
            connect(membership=owner, data=ConnectionInput(provider="relata"))
        ).webhook_secret
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    site = f"http://{made.host}:{port}"
    page = chromium_page
    watch = ConsoleWatch(page)
    page.goto(f"{site}/handoff/{handoff.issue(user=made.owner, company=made.company)}/")
    page.wait_for_load_state()
    page.goto(f"{site}/clients/")
    page.wait_for_selector("#call-popup", state="attached")

    call = {
        "call_id": "pbx-42",
        "direction": "incoming",
        "from_number": "+79161234567",
        "to_number": "+74951112233",
        "extension": "101",
    }
    assert _post_event(base, made.host, secret, {**call, "event": "started"}) == {"status": "taken"}
    card = page.wait_for_selector("#call-card", timeout=15_000)
    assert "Входящий звонок" in card.inner_text()
    assert page.inner_text("#call-client") == "ООО «СтройДом»"
    save_screenshot(page, "telephony-popup")
    watch.assert_clean("the page with the call pop-up")

    _post_event(base, made.host, secret, {**call, "event": "answered"})
    _post_event(
        base,
        made.host,
        secret,
        {**call, "event": "ended", "duration": 125, "recording_url": "https://rec.example/42.mp3"},
    )
    page.click("#call-client")
    page.wait_for_url(f"{site}/clients/{client.pk}/")
    entry = page.wait_for_selector(".entry-call")
    text = entry.inner_text()
    assert "Входящий звонок" in text
    assert "2:05" in text
    assert (
        page.get_attribute(".entry-call a.call-recording", "href")
        == f"/calls/{_call_id(made)}/recording/"
    )
    # The number on the card has its click-to-call button (added by the static script).
    assert page.inner_text("button.call-dial") == "Позвонить"
    save_screenshot(page, "telephony-call-on-card")
    # Closing the pop-up clears it for good.
    page.click("[data-popup-close]")
    page.wait_for_timeout(4000)
    assert page.query_selector("#call-card") is None
    watch.assert_clean("the client's card after the call")


def _call_id(made: Any) -> int:
    from telephony.models import Call

    with made:
        return Call.objects.get(external_id="pbx-42").pk
