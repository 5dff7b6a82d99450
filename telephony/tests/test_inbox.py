"""Missed calls not yet called back wait in the person's inbox (communications' one inbox),
oldest first beside the mail, and the call back takes them out."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone

from communications.models import Conversation
from telephony.models import Call
from telephony.tests.conftest import COLLEAGUES_CALLER, Office, event, logged_in, signed_post


def test_a_missed_call_waits_in_the_inbox_until_the_call_back(office: Office) -> None:
    taken = signed_post(office.a.host, office.secret_a, event("missed", extension="101"))
    assert taken.json() == {"status": "taken"}
    with office.a:
        call = Call.objects.get()
        # An older letter still waiting: the inbox lists the oldest first, whatever the channel.
        Conversation.objects.create(
            channel="telegram",
            external_id="42",
            subject="Старое сообщение",
            client=office.client,
            awaiting_reply=True,
            waiting_since=call.started_at - timedelta(hours=1),
            last_message_at=call.started_at - timedelta(hours=1),
        )
    manager = logged_in(office.manager, office.a)
    inbox = manager.get("/mail/", HTTP_HOST=office.a.host).content.decode()
    assert 'data-channel="calls"' in inbox
    assert inbox.index("Старое сообщение") < inbox.index('data-channel="calls"')
    assert re.search(r'id="inbox-badge"[^>]*>2<', inbox)
    calls_only = manager.get("/mail/?source=calls", HTTP_HOST=office.a.host).content.decode()
    assert "Ромашка" in calls_only
    assert "Старое сообщение" not in calls_only
    # The colleague has no call-back task for it and does not see the client: not hers.
    colleague = logged_in(office.colleague, office.a)
    assert (
        'data-channel="calls"'
        not in colleague.get("/mail/", HTTP_HOST=office.a.host).content.decode()
    )

    # The manager calls back and talks: the missed call is answered.
    back = {
        "event": "ended",
        "call_id": "out-1",
        "direction": "outgoing",
        "from_number": "+74951112233",
        "to_number": "+79161234567",
        "extension": "101",
        "duration": 40,
    }
    with office.a:
        Call.objects.filter(pk=call.pk).update(started_at=timezone.now() - timedelta(minutes=5))
    assert signed_post(office.a.host, office.secret_a, back).json() == {"status": "taken"}
    after = manager.get("/mail/?source=calls", HTTP_HOST=office.a.host).content.decode()
    assert 'data-channel="calls"' not in after
    # Company B's inbox never shows A's calls.
    b_owner = logged_in_owner_b(office)
    assert (
        "Ромашка"
        not in b_owner.get("/mail/?source=calls", HTTP_HOST=office.b.host).content.decode()
    )


def test_a_done_call_back_task_also_answers_it(office: Office) -> None:
    signed_post(
        office.a.host,
        office.secret_a,
        event("missed", extension="102", from_number=COLLEAGUES_CALLER),
    )
    colleague = logged_in(office.colleague, office.a)
    assert "Лютик" in colleague.get("/mail/?source=calls", HTTP_HOST=office.a.host).content.decode()
    with office.a:
        call = Call.objects.get()
        assert call.callback_task is not None
        call.callback_task.done_at = timezone.now()
        call.callback_task.save(update_fields=["done_at"])
    assert (
        "Лютик"
        not in colleague.get("/mail/?source=calls", HTTP_HOST=office.a.host).content.decode()
    )


def logged_in_owner_b(office: Office) -> Any:
    from tests.test_isolation import login_on_host

    return login_on_host(office.b.owner, office.b.company, office.b.host)
