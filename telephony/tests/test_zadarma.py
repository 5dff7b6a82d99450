"""Zadarma: its notifications in their documented shape (form fields, a Signature header of
base64(hex HMAC-SHA1)), the zd_echo check of the address, and its API (callback, recordings)
against a local fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from crm_core.models import Activity, Task
from telephony.models import Call, CallEvent
from telephony.providers.zadarma import SIGNED_FIELDS, hex_hmac_base64
from telephony.services import popups
from telephony.tests.conftest import Office, _connect, logged_in
from telephony.tests.fake_pbx import fake_pbx

KEY, SECRET = "zadarma-key-of-a", "zadarma-secret-of-a"
URL = "/public/telephony/zadarma/"


def notify(host: str, fields: dict[str, str], secret: str = SECRET) -> Any:
    signed = "".join(fields.get(name, "") for name in SIGNED_FIELDS[fields["event"]])
    return HttpClient().post(
        URL, fields, HTTP_HOST=host, headers={"Signature": hex_hmac_base64(secret, signed)}
    )


def started(minutes_ago: int = 0, zone: str = "Europe/Moscow") -> str:
    """A call_start as Zadarma writes it: the PBX's local time, which the company sets to its
    own time zone (the test companies are in Moscow)."""
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return timezone.localtime(moment, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def zadarma(office: Office) -> Office:
    _connect(office.a, office.a.owner, "zadarma", api_key=KEY, api_secret=SECRET)
    return office


def test_zadarma_checks_the_address_with_an_echo(zadarma: Office) -> None:
    answer = HttpClient().get(URL, {"zd_echo": "f2c9a1"}, HTTP_HOST=zadarma.a.host)
    assert (answer.status_code, answer.content) == (200, b"f2c9a1")


def test_an_incoming_zadarma_call_from_start_to_recording(
    zadarma: Office, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    host, begun = zadarma.a.host, started()
    common = {"call_start": begun, "pbx_call_id": "in_5e3f1a", "caller_id": "79161234567"}
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(host, {"event": "NOTIFY_START", **common, "called_did": "74951112233"})
    assert first.json() == {"status": "taken"}
    # No extension yet: everyone who sees the client (the manager, the owner) has the pop-up.
    assert popups.shown_to(zadarma.manager.user_id) is not None
    assert popups.shown_to(zadarma.colleague.user_id) is None
    ended = {
        "event": "NOTIFY_END",
        **common,
        "called_did": "74951112233",
        "internal": "101",
        "duration": "42",
        "disposition": "answered",
        "status_code": "16",
        "is_recorded": "1",
        "call_id_with_rec": "1715671265.4410",
    }
    assert notify(host, ended).json() == {"status": "taken"}
    assert notify(host, ended).json() == {"status": "duplicate"}
    record = {
        "event": "NOTIFY_RECORD",
        "pbx_call_id": "in_5e3f1a",
        "call_id_with_rec": "1715671265.4410",
    }
    assert notify(host, record).json() == {"status": "taken"}
    with zadarma.a:
        call = Call.objects.get()
        assert (call.status, call.duration_seconds, call.extension) == ("ended", 42, "101")
        assert call.manager_id == zadarma.manager.user_id
        assert call.recording_ref == "1715671265.4410"
        activity = Activity.objects.get(kind=Activity.Kind.CALL)
        assert (activity.client_id, activity.duration_seconds) == (zadarma.client.pk, 42)
    with fake_pbx(KEY, SECRET) as pbx:
        settings.TELEPHONY_ZADARMA_API_BASE = pbx.url
        played = logged_in(zadarma.manager, zadarma.a).get(
            f"/calls/{call.pk}/recording/", HTTP_HOST=host
        )
    assert (played.status_code, played["Location"]) == (
        302,
        "https://records.example/1715671265.4410.mp3",
    )


def test_a_missed_zadarma_call_and_an_outgoing_one(zadarma: Office) -> None:
    host, begun = zadarma.a.host, started()
    missed = {
        "event": "NOTIFY_END",
        "call_start": begun,
        "pbx_call_id": "in_77",
        "caller_id": "+79161234567",
        "called_did": "74951112233",
        "internal": "",
        "duration": "0",
        "disposition": "no answer",
        "status_code": "19",
        "is_recorded": "0",
        "call_id_with_rec": "",
    }
    assert notify(host, missed).status_code == 200
    out = {
        "call_start": begun,
        "pbx_call_id": "out_88",
        "internal": "102",
        "destination": "79035550000",
    }
    assert notify(host, {"event": "NOTIFY_OUT_START", **out}).status_code == 200
    out_end = {
        **out,
        "event": "NOTIFY_OUT_END",
        "caller_id": "74951112233",
        "duration": "95",
        "disposition": "answered",
        "status_code": "16",
        "is_recorded": "0",
        "call_id_with_rec": "",
    }
    assert notify(host, out_end).status_code == 200
    with zadarma.a:
        assert Call.objects.get(external_id="in_77").status == "missed"
        assert Task.objects.get().client_id == zadarma.client.pk
        outgoing = Call.objects.get(external_id="out_88")
        assert (outgoing.direction, outgoing.status, outgoing.duration_seconds) == (
            "outgoing",
            "ended",
            95,
        )
        assert outgoing.client_id == zadarma.colleagues_client.pk
        assert outgoing.manager_id == zadarma.colleague.user_id


def test_a_forged_zadarma_notification_is_refused(zadarma: Office) -> None:
    fields = {
        "event": "NOTIFY_START",
        "call_start": started(),
        "pbx_call_id": "x",
        "caller_id": "1",
        "called_did": "2",
    }
    assert notify(zadarma.a.host, fields, secret="guessed").status_code == 401
    # The notification of another company's account (its own secret) is refused here too.
    assert notify(zadarma.a.host, fields, secret="zadarma-secret-of-b").status_code == 401
    unsigned = HttpClient().post(URL, fields, HTTP_HOST=zadarma.a.host)
    assert unsigned.status_code == 401
    no_event = HttpClient().post(URL, {"pbx_call_id": "x"}, HTTP_HOST=zadarma.a.host)
    assert no_event.status_code == 400
    with zadarma.a:
        assert not CallEvent.objects.exists()


def test_click_to_call_through_zadarma(zadarma: Office, settings: Any) -> None:
    manager = logged_in(zadarma.manager, zadarma.a)
    with fake_pbx(KEY, SECRET) as pbx:
        settings.TELEPHONY_ZADARMA_API_BASE = pbx.url
        answer = manager.post("/calls/dial/", {"number": "+79161234567"}, HTTP_HOST=zadarma.a.host)
        assert answer.status_code == 200, answer.content
        assert pbx.calls == [
            {"provider": "zadarma", "from": "101", "to": "79161234567", "format": "json"}
        ]
        # The colleague's client is not hers to call: "not found", and the PBX is not asked.
        other = manager.post("/calls/dial/", {"number": "+79035550000"}, HTTP_HOST=zadarma.a.host)
        assert other.status_code == 404
        # A member without an extension is told what to do.
        owner = logged_in(zadarma.owner, zadarma.a)
        no_extension = owner.post(
            "/calls/dial/", {"number": "+79161234567"}, HTTP_HOST=zadarma.a.host
        )
        assert no_extension.status_code == 400
        assert len(pbx.calls) == 1
    # The provider down: a clear answer, no exception.
    settings.TELEPHONY_ZADARMA_API_BASE = "http://127.0.0.1:9"
    down = manager.post("/calls/dial/", {"number": "+79161234567"}, HTTP_HOST=zadarma.a.host)
    assert down.status_code == 502


def test_an_old_or_replayed_zadarma_notification_is_refused(zadarma: Office) -> None:
    """Its signature covers call_start, so an old notification cannot be freshened: older than
    the window it is stale; inside it, the stored key (call id + event) makes it a duplicate."""
    fields = {
        "event": "NOTIFY_START",
        "pbx_call_id": "in_old",
        "caller_id": "79161234567",
        "called_did": "74951112233",
    }
    stale = notify(zadarma.a.host, {**fields, "call_start": started(minutes_ago=45)})
    assert (stale.status_code, stale.json()["error"]) == (401, "stale")
    # A PBX set to another time zone (UTC while the company is in Moscow) is told so.
    ahead = notify(zadarma.a.host, {**fields, "call_start": started(minutes_ago=-180)})
    assert (ahead.status_code, ahead.json()["error"]) == (401, "stale")
    fresh = {**fields, "call_start": started(minutes_ago=5)}
    assert notify(zadarma.a.host, fresh).json() == {"status": "taken"}
    assert notify(zadarma.a.host, fresh).json() == {"status": "duplicate"}
    # A long call's end is measured from the start plus its talk time: taken.
    long_end = {
        **fields,
        "event": "NOTIFY_END",
        "call_start": started(minutes_ago=70),
        "duration": str(65 * 60),
        "disposition": "answered",
        "internal": "101",
    }
    assert notify(zadarma.a.host, long_end).json() == {"status": "taken"}
    with zadarma.a:
        assert CallEvent.objects.count() == 2
        assert Call.objects.get(external_id="in_old").status == "ended"
