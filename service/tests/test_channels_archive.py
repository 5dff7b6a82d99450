"""Tickets from Telegram and calls when the company chose so; the export archive carries the
desk (queues, policies, tickets with their conversation and ratings) into another company, and
the company's own tables are what deletion drops (test_deletion.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from crm_core.models import Client, Lead, Team
from onboarding.archive import restore, write_archive
from service.models import Queue, ServiceSettings, SlaPolicy, Survey, Ticket, TicketMessage
from service.services import tickets as service
from telegram.services.inbound import handle
from telephony.models import Call
from telephony.signals import call_logged

pytestmark = pytest.mark.django_db


def _update(update_id: int, from_id: int, text: str, phone: str = "") -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_765_000_000,
        "chat": {"id": from_id, "type": "private"},
        "from": {"id": from_id, "first_name": "Иван"},
        "text": text,
    }
    if phone:
        message["contact"] = {"phone_number": phone, "user_id": from_id}
    return {"update_id": update_id, "message": message}


def test_telegram_messages_become_one_ticket_when_the_company_chose_so(crm: Any) -> None:
    with crm.a:
        handle(crm.a.company, _update(1, 501, "Здравствуйте"))
        assert not Ticket.objects.exists()  # not chosen: Telegram works as before
        row = ServiceSettings.current()
        row.telegram_tickets = True
        row.save()
        handle(crm.a.company, _update(2, 502, "Не работает замок\nподробности"))
        handle(crm.a.company, _update(3, 502, "Ещё вопрос", phone="79161234567"))
        ticket = Ticket.objects.get()
        assert ticket.source == "telegram"
        assert ticket.telegram_chat_id == 502
        assert ticket.subject == "Не работает замок"
        assert [m.text for m in ticket.messages.all()] == [
            "Не работает замок\nподробности",
            "Ещё вопрос",
        ]
        assert not Lead.objects.exists()  # taken as a ticket, not a request
    with crm.b:
        assert not Ticket.objects.exists()


def test_missed_calls_become_tickets_when_the_company_chose_so(crm: Any) -> None:
    with crm.a:
        call = Call.objects.create(
            provider="zadarma",
            external_id="c1",
            direction="incoming",
            status="missed",
            number="+79161234567",
        )
        call_logged.send(Call, company=crm.a.company, call=call)
        assert not Ticket.objects.exists()
        row = ServiceSettings.current()
        row.call_tickets = ServiceSettings.Calls.MISSED
        row.save()
        call_logged.send(Call, company=crm.a.company, call=call)
        answered = Call.objects.create(
            provider="zadarma", external_id="c2", direction="incoming", status="ended"
        )
        call_logged.send(Call, company=crm.a.company, call=answered)
        ticket = Ticket.objects.get()
        assert ticket.source == "call"
        assert ticket.priority == "high"
        assert ticket.requester_phone == "+79161234567"


def test_the_archive_carries_the_desk_into_another_company(crm: Any, media_root: Any) -> None:
    with crm.a:
        client = Client.objects.create(name="ООО Ромашка")
        queue = Queue.objects.create(team=Team.objects.get(name="Sales"))
        SlaPolicy.objects.create(
            name="VIP", client=client, first_response_minutes=30, resolution_minutes=120
        )
        first = service.open_ticket(
            company=crm.a.company, subject="Первое", text="a", source="manual", client=client
        )
        second = service.open_ticket(
            company=crm.a.company, subject="Второе", text="b", source="manual", queue=queue
        )
        service.add_note(actor=crm.manager, ticket=second, text="заметка")
        Survey.objects.create(ticket=first, rating=5, comment="ok")
        buffer = io.BytesIO()
        counts = write_archive(buffer, company_name="A")
    assert (counts["tickets"], counts["ticket_messages"], counts["ticket_surveys"]) == (2, 3, 1)
    assert (counts["service_queues"], counts["sla_policies"]) == (1, 1)
    buffer.seek(0)
    with crm.b:
        restore(buffer, company=crm.b.company)
        restored = Ticket.objects.order_by("number")
        assert [(t.number, t.subject) for t in restored] == [(1, "Первое"), (2, "Второе")]
        assert restored[0].client is not None
        assert restored[0].client.name == "ООО Ромашка"
        assert Survey.objects.get().ticket == restored[0]
        assert TicketMessage.objects.filter(kind="note", text="заметка").exists()
        assert SlaPolicy.objects.get().client == restored[0].client
        # Numbering goes on after the restored tickets.
        third = service.open_ticket(
            company=crm.b.company, subject="Третье", text="c", source="manual"
        )
        assert third.number == 3


def test_a_reply_to_a_telegram_ticket_goes_back_to_the_chat(
    crm: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from telegram import tasks as telegram_tasks

    sent: list[tuple[int, str]] = []
    # The Bot API call itself is telegram's (tested there); here: which chat and what text.
    monkeypatch.setattr(
        telegram_tasks.reply, "delay", lambda chat_id, text: sent.append((chat_id, text))
    )
    with crm.a:
        row = ServiceSettings.current()
        row.telegram_tickets = True
        row.save()
        handle(crm.a.company, _update(10, 777, "Где заказ?"))
        ticket = Ticket.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            service.reply(company=crm.a.company, actor=crm.manager, ticket=ticket, text="Едет")
        assert sent == [(777, "Едет")]
        ticket.refresh_from_db()
        assert ticket.status == "waiting"
        assert ticket.first_responded_at is not None
