"""Mango Office: its webhooks in their documented shape (form fields vpbx_api_key, sign, json
posted to <address>/events/call, /events/summary, /events/recording) and its callback command,
against a local fake of its API."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
from django.test import Client as HttpClient

from crm_core.models import Activity, Task
from telephony.models import Call, CallEvent
from telephony.services import popups
from telephony.tests.conftest import Office, _connect, logged_in
from telephony.tests.fake_pbx import fake_pbx

KEY, SALT = "mango-key-of-a", "mango-salt-of-a"
ENTRY = "MjA0NDk1NTEwNzM6MTAx"


def mango_post(
    host: str, event: str, data: dict[str, Any], key: str = KEY, salt: str = SALT
) -> Any:
    payload = json.dumps(data)
    sign = hashlib.sha256((key + payload + salt).encode()).hexdigest()
    return HttpClient().post(
        f"/public/telephony/mango/events/{event}",
        {"vpbx_api_key": key, "sign": sign, "json": payload},
        HTTP_HOST=host,
    )


def ringing(seq: int = 1, state: str = "Appeared") -> dict[str, Any]:
    return {
        "entry_id": ENTRY,
        "call_id": "MToxMDA0NTk3MjoxMDE6Mjk4",
        "timestamp": int(time.time()),
        "seq": seq,
        "call_state": state,
        "location": "abonent",
        "from": {"number": "79161234567", "taken_from_call_id": None},
        "to": {
            "extension": "101",
            "number": "sip:m1@vpbx400000000.mangosip.ru",
            "line_number": "74951112233",
            "acd_group": None,
        },
        "disconnect_reason": 0,
    }


def summary(answered: bool) -> dict[str, Any]:
    start = int(time.time()) - 120
    return {
        "entry_id": ENTRY,
        "call_direction": 1,
        "from": {"number": "79161234567"},
        "to": {"extension": "101", "number": "sip:m1@vpbx400000000.mangosip.ru"},
        "line_number": "74951112233",
        "create_time": start,
        "forward_time": start + 3,
        "talk_time": start + 10 if answered else 0,
        "end_time": start + 75,
        "entry_result": 1 if answered else 0,
        "disconnect_reason": 1110,
    }


@pytest.fixture
def mango(office: Office) -> Office:
    _connect(office.a, office.a.owner, "mango", api_key=KEY, api_secret=SALT)
    return office


def test_a_mango_call_rings_is_answered_and_ends_with_its_recording(
    mango: Office, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    host = mango.a.host
    with django_capture_on_commit_callbacks(execute=True):
        answer = mango_post(host, "call", ringing())
    assert (answer.status_code, answer.json()) == (200, {"status": "taken"})
    assert popups.shown_to(mango.manager.user_id) is not None
    assert popups.shown_to(mango.colleague.user_id) is None
    assert mango_post(host, "call", ringing(2, "Connected")).json() == {"status": "taken"}
    assert mango_post(host, "summary", summary(answered=True)).json() == {"status": "taken"}
    recording: dict[str, Any] = {
        "recording_id": "MToxMDA0NTk3Mjo4NjU2OTk3NzY6MA==",
        "recording_state": "Completed",
        "seq": 1,
        "entry_id": ENTRY,
        "call_id": "MToxMDA0NTk3MjoxMDE6Mjk4",
        "extension": "101",
        "timestamp": int(time.time()),
        "completion_code": 1000,
    }
    assert mango_post(host, "recording", recording).json() == {"status": "taken"}
    with mango.a:
        call = Call.objects.get()
        assert (call.provider, call.external_id, call.status) == ("mango", ENTRY, "ended")
        assert (call.number, call.extension, call.duration_seconds) == ("+79161234567", "101", 65)
        assert call.client_id == mango.client.pk
        activity = Activity.objects.get(kind=Activity.Kind.CALL)
        assert activity.duration_seconds == 65
        assert activity.recording_url == f"/calls/{call.pk}/recording/"
    # The recording plays from Mango through a signed link that expires.
    settings.TELEPHONY_MANGO_API_BASE = "https://mango.example/vpbx"
    played = logged_in(mango.manager, mango.a).get(f"/calls/{call.pk}/recording/", HTTP_HOST=host)
    assert played.status_code == 302
    link = played["Location"]
    assert link.startswith(
        f"https://mango.example/vpbx/queries/recording/link/{recording['recording_id']}/play/{KEY}/"
    )
    expires, sign = link.rsplit("/", 2)[-2:]
    assert (
        sign
        == hashlib.sha256((KEY + expires + recording["recording_id"] + SALT).encode()).hexdigest()
    )


def test_a_missed_mango_call_becomes_a_call_back_task(mango: Office) -> None:
    assert mango_post(mango.a.host, "summary", summary(answered=False)).status_code == 200
    with mango.a:
        assert Call.objects.get().status == "missed"
        assert Task.objects.get().client_id == mango.client.pk


def test_a_retried_mango_webhook_is_taken_once(mango: Office) -> None:
    first = mango_post(mango.a.host, "summary", summary(answered=True))
    again = mango_post(mango.a.host, "summary", summary(answered=True))
    assert (first.json(), again.json()) == ({"status": "taken"}, {"status": "duplicate"})
    with mango.a:
        assert Activity.objects.filter(kind=Activity.Kind.CALL).count() == 1


@pytest.mark.parametrize(
    ("case", "status"),
    [("forged sign", 401), ("another PBX's key", 401), ("not json", 400), ("missing fields", 400)],
)
def test_bad_mango_webhooks_are_refused(mango: Office, case: str, status: int) -> None:
    host = mango.a.host
    if case == "forged sign":
        answer = mango_post(host, "call", ringing(), salt="guessed")
    elif case == "another PBX's key":
        answer = mango_post(host, "call", ringing(), key="key-of-b", salt="salt-of-b")
    elif case == "not json":
        sign = hashlib.sha256((KEY + "{oops" + SALT).encode()).hexdigest()
        answer = HttpClient().post(
            "/public/telephony/mango/events/call",
            {"vpbx_api_key": KEY, "sign": sign, "json": "{oops"},
            HTTP_HOST=host,
        )
    else:
        answer = HttpClient().post(
            "/public/telephony/mango/events/call", {"json": "{}"}, HTTP_HOST=host
        )
    assert answer.status_code == status
    with mango.a:
        assert not CallEvent.objects.exists()


def test_mango_events_to_a_company_on_another_provider_are_refused(office: Office) -> None:
    # Company A is on Relata's own format: Mango's address is not connected there.
    answer = mango_post(office.a.host, "call", ringing())
    assert (answer.status_code, answer.json()["error"]) == (404, "not_connected")


def test_click_to_call_through_mango(mango: Office, settings: Any) -> None:
    manager = logged_in(mango.manager, mango.a)
    with fake_pbx(KEY, SALT) as pbx:
        settings.TELEPHONY_MANGO_API_BASE = pbx.url + "/vpbx"
        answer = manager.post("/calls/dial/", {"number": "+79161234567"}, HTTP_HOST=mango.a.host)
        assert answer.status_code == 200, answer.content
        assert pbx.calls == [
            {
                "provider": "mango",
                "command_id": pbx.calls[0]["command_id"],
                "from": {"extension": "101"},
                "to_number": "79161234567",
            }
        ]
        pbx.refuse = True
        refused = manager.post("/calls/dial/", {"number": "+79161234567"}, HTTP_HOST=mango.a.host)
        assert refused.status_code == 502
        assert "4001" in refused.content.decode()


def test_mango_secondary_fields_reach_the_call_log(mango: Office) -> None:
    """The leg's Disconnected state carries disconnect_reason, the summary the line number, and
    a recording can arrive as events/record/added instead of events/recording."""
    host = mango.a.host
    assert mango_post(host, "call", ringing()).json() == {"status": "taken"}
    disconnected = {**ringing(2, "Disconnected"), "disconnect_reason": 1111}
    assert mango_post(host, "call", disconnected).json() == {"status": "taken"}
    with mango.a:
        assert Call.objects.get().end_reason == "1111"
    assert mango_post(host, "summary", summary(answered=True)).json() == {"status": "taken"}
    added = {
        "entry_id": ENTRY,
        "product_id": 400000000,
        "recording_id": "MToxMDA0NTk3Mjo4NjU2OTk3NzY6MQ==",
        "timestamp": int(time.time()),
    }
    assert mango_post(host, "record/added", added).json() == {"status": "taken"}
    # The same recording announced again (or by events/recording) changes nothing.
    again = {
        "recording_id": added["recording_id"],
        "recording_state": "Completed",
        "entry_id": ENTRY,
        "timestamp": int(time.time()),
    }
    assert mango_post(host, "recording", again).json() == {"status": "duplicate"}
    with mango.a:
        call = Call.objects.get()
        # The summary's own disconnect_reason (1110: the caller hung up) is the final word.
        assert (call.end_reason, call.line_number) == ("1110", "74951112233")
        assert call.recording_ref == added["recording_id"]
        activity = Activity.objects.get(kind=Activity.Kind.CALL)
        assert activity.recording_url == f"/calls/{call.pk}/recording/"
    page = logged_in(mango.manager, mango.a).get("/calls/", HTTP_HOST=host).content.decode()
    assert "the caller hung up" in page or "звонивший положил трубку" in page
    assert "+7 495 111-22-33" in page or "74951112233" in page
