"""The signed call-events endpoint (Relata's own format): a call rings, is answered and ends;
the pop-up, the card's feed, the call-back task; retries, replays, forgeries and bad input."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient

from crm_core.automation.models import CapturedRequest, Timer
from crm_core.models import Activity, Lead, Task
from telephony.models import Call, CallEvent
from telephony.services import popups
from telephony.tests.conftest import UNKNOWN, Office, event, logged_in, signed_post


def test_a_call_rings_for_the_manager_and_is_logged_on_the_card_when_it_ends(
    office: Office, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        rang = signed_post(office.a.host, office.secret_a, event("started", extension="101"))
    assert rang.status_code == 200, rang.content
    assert rang.json() == {"status": "taken"}
    manager = logged_in(office.manager, office.a)
    shown = manager.get("/calls/popup/", HTTP_HOST=office.a.host)
    assert shown.status_code == 200
    assert "Ромашка" in shown.content.decode()
    # The colleague's extension did not ring: her poll costs a cache read and shows nothing.
    colleague = logged_in(office.colleague, office.a)
    assert colleague.get("/calls/popup/", HTTP_HOST=office.a.host).status_code == 204

    assert (
        signed_post(office.a.host, office.secret_a, event("answered", extension="101")).status_code
        == 200
    )
    ended = signed_post(
        office.a.host,
        office.secret_a,
        event("ended", extension="101", duration=185, recording_url="https://rec.example/1.mp3"),
    )
    assert ended.json() == {"status": "taken"}
    with office.a:
        call = Call.objects.get()
        assert (call.status, call.duration_seconds, call.client_id) == (
            "ended",
            185,
            office.client.pk,
        )
        assert call.manager_id == office.manager.user_id
        activity = Activity.objects.get(kind=Activity.Kind.CALL)
        assert activity.client_id == office.client.pk
        assert activity.duration_seconds == 185
        assert activity.recording_url == f"/calls/{call.pk}/recording/"
        assert activity.author_id == office.manager.user_id
        assert not Task.objects.exists()  # answered: nothing to call back
    card = manager.get(f"/clients/{office.client.pk}/", HTTP_HOST=office.a.host).content.decode()
    assert "3:05" in card
    assert f'href="/calls/{call.pk}/recording/"' in card
    # The recording plays through the CRM, which checks who asks, then sends to the provider.
    played = manager.get(f"/calls/{call.pk}/recording/", HTTP_HOST=office.a.host)
    assert (played.status_code, played["Location"]) == (302, "https://rec.example/1.mp3")
    assert colleague.get(f"/calls/{call.pk}/recording/", HTTP_HOST=office.a.host).status_code == 404


def test_a_retried_event_changes_nothing(office: Office) -> None:
    payload = event("ended", duration=10, extension="101")
    assert signed_post(office.a.host, office.secret_a, payload).json()["status"] == "taken"
    again = signed_post(office.a.host, office.secret_a, payload)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    with office.a:
        assert Call.objects.count() == 1
        assert Activity.objects.filter(kind=Activity.Kind.CALL).count() == 1
        assert CallEvent.objects.count() == 1
    # A late "ended" under another key still adds no second entry on the card.
    assert signed_post(office.a.host, office.secret_a, event("missed")).json()["status"] == "taken"
    with office.a:
        assert Activity.objects.filter(kind=Activity.Kind.CALL).count() == 1
        assert Call.objects.get().status == "ended"


def test_a_missed_call_from_a_client_becomes_a_call_back_task_with_the_sla(office: Office) -> None:
    assert (
        signed_post(office.a.host, office.secret_a, event("missed", extension="102")).status_code
        == 200
    )
    with office.a:
        task = Task.objects.get()
        assert task.kind == Task.Kind.CALL
        assert task.client_id == office.client.pk
        # The client's own manager calls back, not whoever's extension rang.
        assert task.assignee_id == office.manager.user_id
        assert Timer.objects.filter(task=task, kind=Timer.Kind.SLA_OVERDUE).exists()
        call = Call.objects.get()
        assert (call.status, call.callback_task_id) == ("missed", task.pk)
        assert Activity.objects.get(kind=Activity.Kind.CALL).summary.startswith("Пропущенный")
    # The same number missed again: still one task to call back.
    assert (
        signed_post(office.a.host, office.secret_a, event("missed", call_id="c-2")).status_code
        == 200
    )
    with office.a:
        assert Task.objects.count() == 1


def test_an_unknown_caller_becomes_a_request_with_a_call_back_task(
    office: Office, django_capture_on_commit_callbacks: Any
) -> None:
    unknown = event("started", call_id="u-1", from_number="8 (999) 000-11-22")
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(office.a.host, office.secret_a, unknown).status_code == 200
    # Unmapped: everyone who takes calls sees the new caller, with "create a client".
    for member in (office.owner, office.manager, office.colleague):
        shown = logged_in(member, office.a).get("/calls/popup/", HTTP_HOST=office.a.host)
        assert "call-create-client" in shown.content.decode()
    assert popups.shown_to(office.viewer.user_id) is None
    assert (
        signed_post(office.a.host, office.secret_a, {**unknown, "event": "missed"}).status_code
        == 200
    )
    with office.a:
        lead = Lead.objects.get()
        assert lead.phone == UNKNOWN
        captured = CapturedRequest.objects.get()
        assert captured.channel == "phone"
        call = Call.objects.get()
        assert call.lead_id == lead.pk
        assert call.client_id is not None  # the form's rule made a deal and its client
        task = Task.objects.get(title__contains="999")
        assert Timer.objects.filter(task=task).exists()
        assert Activity.objects.filter(kind=Activity.Kind.CALL, client_id=call.client_id).exists()


def test_the_new_caller_is_made_a_client_from_the_pop_up(
    office: Office, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(office.a.host, office.secret_a, event("started", from_number=UNKNOWN))
    manager = logged_in(office.manager, office.a)
    with office.a:
        call = Call.objects.get()
    made = manager.post(
        f"/calls/{call.pk}/client/", {"name": "Иван Петров"}, HTTP_HOST=office.a.host
    )
    assert made.status_code == 302
    with office.a:
        call.refresh_from_db()
        assert call.client is not None
        assert call.client.name == "Иван Петров"
        assert call.client.phones.get().e164 == UNKNOWN
    assert popups.shown_to(office.manager.user_id) is None


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("forged", 401, "signature"),
        ("unsigned", 401, "signature"),
        ("stale", 401, "stale"),
        ("future", 401, "stale"),
        ("not json", 400, "malformed"),
        ("not an object", 400, "malformed"),
        ("invalid", 400, "invalid"),
    ],
)
def test_bad_events_are_refused_with_a_reason_and_write_nothing(
    office: Office, case: str, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    host, secret = office.a.host, office.secret_a
    now = int(time.time())
    if case == "forged":
        answer = signed_post(host, "not-the-secret", event("started"))
    elif case == "unsigned":
        answer = HttpClient().post(
            "/public/telephony/events/",
            data=json.dumps(event("started")),
            content_type="application/json",
            HTTP_HOST=host,
        )
    elif case == "stale":
        answer = signed_post(host, secret, event("started"), stamp=now - 3600)
    elif case == "future":
        answer = signed_post(host, secret, event("started"), stamp=now + 3600)
    elif case == "not json":
        answer = signed_post(host, secret, None, raw=b"{not json")
    elif case == "not an object":
        answer = signed_post(host, secret, None, raw=b"[1, 2]")
    else:
        answer = signed_post(host, secret, {"event": "exploded", "call_id": "x"})
    assert answer.status_code == status, answer.content
    assert answer.json()["error"] == code
    assert answer.json()["message"]
    assert "webhook refused" in caplog.text
    with office.a:
        assert not Call.objects.exists()
        assert not CallEvent.objects.exists()


def test_an_unknown_company_host_is_404(office: Office) -> None:
    answer = signed_post("nobody-here.localhost", office.secret_a, event("started"))
    assert answer.status_code == 404


def test_company_a_secret_cannot_write_into_company_b(
    office: Office, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        into_b = signed_post(office.b.host, office.secret_a, event("started", extension="101"))
        assert into_b.status_code == 401
        # B's own secret on B's host works, and writes only into B.
        assert signed_post(office.b.host, office.secret_b, event("started")).status_code == 200
    with office.a:
        assert not Call.objects.exists()
    with office.b:
        assert Call.objects.count() == 1
        assert not Activity.objects.filter(kind=Activity.Kind.CALL).exists()
    # B's call rang for B's owner; nobody in A has it on screen, though the key names are alike.
    assert popups.shown_to(office.manager.user_id) is None
    with office.b:
        assert popups.shown_to(office.b.owner.pk) is not None
    with office.a:
        assert cache.get(popups.key(office.b.owner.pk)) is None


def test_a_secret_that_cannot_be_read_is_not_an_empty_key(office: Office) -> None:
    """A secret sealed under another key (SECRET_KEY rotated, a restored company) unseals to
    nothing; an event signed with the empty key must not pass for signed."""
    from telephony.models import PbxConnection

    with office.a:
        PbxConnection.objects.update(webhook_secret_encrypted="sealed-under-another-key")
    answer = signed_post(office.a.host, "", event("started"))
    assert (answer.status_code, answer.json()["error"]) == (401, "signature")
    with office.a:
        assert not Call.objects.exists()


def test_a_switched_off_connection_takes_nothing(office: Office) -> None:
    from telephony.models import PbxConnection

    with office.a:
        PbxConnection.objects.update(is_active=False)
    answer = signed_post(office.a.host, office.secret_a, event("started"))
    assert (answer.status_code, answer.json()["error"]) == (404, "not_connected")


def test_a_call_rings_only_for_those_who_may_see_the_caller(
    office: Office, django_capture_on_commit_callbacks: Any
) -> None:
    # The colleague's extension rings with the manager's client on the line: the colleague
    # does not see that client, so no card pops up for her (nor for anyone else).
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(office.a.host, office.secret_a, event("started", extension="102"))
    colleague = logged_in(office.colleague, office.a)
    assert colleague.get("/calls/popup/", HTTP_HOST=office.a.host).status_code == 204
    assert popups.shown_to(office.manager.user_id) is None
    # Even a key left from before (say the client changed hands) shows her nothing.
    with office.a:
        call = Call.objects.get()
        cache.set(popups.key(office.colleague.user_id), call.pk)
    assert colleague.get("/calls/popup/", HTTP_HOST=office.a.host).status_code == 204


def test_old_webhooks_are_pruned_when_a_call_ends(office: Office) -> None:
    from datetime import timedelta

    from django.utils import timezone

    with office.a:
        CallEvent.objects.create(
            provider="relata",
            key="ancient",
            kind="ended",
            received_at=timezone.now() - timedelta(days=40),
        )
    signed_post(office.a.host, office.secret_a, event("ended", duration=3))
    with office.a:
        assert list(CallEvent.objects.values_list("key", flat=True)) == ["c-1:ended"]
