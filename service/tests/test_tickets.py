"""Tickets as the services make them: from a support mailbox's letters (real dovecot), replies
through a real SMTP server, SLA deadlines in working hours with pause and escalation, round-robin,
merge, split and reopening on the customer's answer."""

from __future__ import annotations

import email
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from communications.services.sync import sync_mailbox
from communications.tests.mails import plain
from communications.tests.servers import Dovecot, SmtpServer
from crm_core.automation.models import Holiday, WorkingHours
from crm_core.automation.services import timers
from crm_core.automation.services.clock import working_minutes_between
from crm_core.models import Client, Contact, Notification
from service.models import SlaPolicy, Survey, Ticket, TicketMessage
from service.services import customers, sla
from service.services import tickets as service

pytestmark = pytest.mark.django_db


def _deliver(  # noqa: PLR0917  (a letter in one line)
    dovecot: Dovecot, desk: Any, subject: str, body: str, msgid: str, extra: str = ""
) -> None:
    dovecot.deliver(
        desk.box.address,
        plain("Лена <lena@romashka.ru>", desk.box.address, subject, body, msgid, extra=extra),
    )


def test_a_letter_to_the_support_mailbox_becomes_a_ticket_on_the_clients_card(
    desk: Any, dovecot: Dovecot
) -> None:
    with desk.a:
        client = Client.objects.create(name="ООО Ромашка")
        Contact.objects.create(client=client, first_name="Лена", emails=["lena@romashka.ru"])
        _deliver(dovecot, desk, "Не работает доставка", "Заказ 15 не пришёл", "<q1@romashka.ru>")
        assert sync_mailbox(desk.a.company, desk.box).stored == 1
        ticket = Ticket.objects.get()
        assert ticket.subject == "Не работает доставка"
        assert ticket.source == Ticket.Source.EMAIL
        assert ticket.client == client
        assert ticket.requester_email == "lena@romashka.ru"
        assert ticket.status == Ticket.Status.NEW
        assert ticket.number == 1
        assert ticket.queue == desk.queue
        # Round-robin among the queue's members: the first of them by id.
        assert ticket.assignee_id == min(desk.manager.user_id, desk.colleague.user_id)
        assert ticket.sla_policy is not None
        assert ticket.first_response_due_at is not None
        assert ticket.sla_check_at is not None
        assert [m.text for m in ticket.messages.all()] == ["Заказ 15 не пришёл"]
        # On the client's feed.
        from crm_core.queries.cards import client_feed

        feed = client_feed(client, desk.owner)
        assert any(e.kind == "ticket" and "Не работает доставка" in e.summary for e in feed.entries)


def test_an_auto_reply_makes_no_ticket_and_a_plain_mailbox_makes_none(
    desk: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    with desk.a:
        _deliver(
            dovecot,
            desk,
            "Auto: I am away",
            "away",
            "<auto@x>",
            extra="Auto-Submitted: auto-replied\r\n",
        )
        sync_mailbox(desk.a.company, desk.box)
        other = mailbox_on(desk.owner)
        dovecot.deliver(other.address, plain("a@b.ru", other.address, "Hi", "text", "<p@b>"))
        sync_mailbox(desk.a.company, other)
        assert not Ticket.objects.exists()


def test_reply_goes_by_smtp_in_the_thread_and_the_customers_answer_reopens_the_solved_ticket(
    desk: Any, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    with desk.a:
        _deliver(dovecot, desk, "Вопрос", "Когда доставка?", "<q2@romashka.ru>")
        sync_mailbox(desk.a.company, desk.box)
        ticket = Ticket.objects.get()
        reply = service.reply(
            company=desk.a.company,
            actor=desk.manager,
            ticket=ticket,
            text="Завтра до обеда.",
            then=Ticket.Status.SOLVED,
        )
        assert reply.problem == ""
        assert reply.mail is not None
        sent = email.message_from_bytes(smtp_server.received[-1].data)
        assert sent["To"] == "lena@romashka.ru"
        assert sent["In-Reply-To"] == "<q2@romashka.ru>"
        assert f"[#{ticket.number}]" in sent["Subject"]
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.SOLVED
        assert ticket.first_responded_at is not None
        assert ticket.sla_check_at is None  # nothing more is due on a solved ticket
        # The customer answers in the thread: the solved ticket opens again.
        _deliver(
            dovecot,
            desk,
            "Re: Вопрос",
            "А можно утром?",
            "<q3@romashka.ru>",
            extra=f"In-Reply-To: {sent['Message-ID']}\r\n",
        )
        sync_mailbox(desk.a.company, desk.box)
        ticket.refresh_from_db()
        assert Ticket.objects.count() == 1
        assert ticket.status == Ticket.Status.OPEN
        assert ticket.solved_at is None
        assert ticket.messages.count() == 3


def test_an_answer_that_lost_its_thread_finds_the_ticket_by_its_number(
    desk: Any, dovecot: Dovecot
) -> None:
    with desk.a:
        _deliver(dovecot, desk, "Счёт", "Пришлите счёт", "<q4@romashka.ru>")
        sync_mailbox(desk.a.company, desk.box)
        ticket = Ticket.objects.get()
        _deliver(dovecot, desk, f"Re: [#{ticket.number}] Счёт", "Ещё вопрос", "<q5@romashka.ru>")
        sync_mailbox(desk.a.company, desk.box)
        assert Ticket.objects.count() == 1
        assert ticket.messages.count() == 2


def test_a_refused_reply_is_kept_on_the_ticket_with_the_reason(desk: Any, dovecot: Dovecot) -> None:
    with desk.a:
        _deliver(dovecot, desk, "Вопрос", "текст", "<q6@romashka.ru>")
        sync_mailbox(desk.a.company, desk.box)
        ticket = Ticket.objects.get()
        desk.box.smtp_port = 1  # nothing listens there
        desk.box.save()
        with pytest.raises(service.ReplyError):
            service.reply(company=desk.a.company, actor=desk.manager, ticket=ticket, text="Ответ")
        kept = TicketMessage.objects.get(kind=TicketMessage.Kind.REPLY)
        assert kept.text == "Ответ"
        assert kept.problem


def test_notes_stay_inside_and_bad_input_writes_nothing(desk: Any) -> None:
    with desk.a:
        with pytest.raises(ValidationError):
            service.open_ticket(company=desk.a.company, subject=" ", text="x", source="manual")
        with pytest.raises(ValidationError):
            service.open_ticket(
                company=desk.a.company,
                subject="S",
                text="x",
                source="manual",
                requester=service.Requester(email="not-an-address"),
            )
        assert not Ticket.objects.exists()
        ticket = service.open_ticket(
            company=desk.a.company, subject="S", text="x", source="manual", actor=desk.manager
        )
        service.add_note(actor=desk.manager, ticket=ticket, text="Клиент VIP")
        assert ticket.messages.filter(kind="note").count() == 1
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            service.add_note(actor=desk.viewer, ticket=ticket, text="x")


def _working_week(company: Any) -> None:
    for day in range(5):
        WorkingHours.objects.create(weekday=day, opens=time(9), closes=time(18))


def test_sla_counts_working_hours_and_holidays_and_waiting_pauses_the_clock(desk: Any) -> None:
    company = desk.a.company
    with desk.a:
        _working_week(company)
        # Friday 2026-12-04 17:30 Moscow; Monday 2026-12-07 is a holiday.
        Holiday.objects.create(day=datetime(2026, 12, 7).date())
        friday = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)
        ticket = service.open_ticket(company=company, subject="S", text="x", source="manual")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=friday)
        ticket.refresh_from_db()
        sla.start(company, ticket)
        ticket.refresh_from_db()
        # 30 minutes left on Friday, 30 more on Tuesday 9:00 Moscow (06:00 UTC).
        assert ticket.first_response_due_at == datetime(2026, 12, 8, 6, 30, tzinfo=UTC)
        assert working_minutes_between(company, friday, ticket.first_response_due_at) == 60
        # Waiting for the customer Tuesday 10:00 → Wednesday 10:00 Moscow: 9 working hours
        # are given back to the resolution clock.
        before = ticket.resolution_due_at
        assert before is not None
        sla.pause(company, ticket, datetime(2026, 12, 8, 7, 0, tzinfo=UTC))
        ticket.refresh_from_db()
        assert ticket.sla_check_at is None or ticket.sla_check_at <= before
        sla.resume(company, ticket, datetime(2026, 12, 9, 7, 0, tzinfo=UTC))
        ticket.refresh_from_db()
        assert ticket.resolution_due_at is not None
        assert working_minutes_between(company, before, ticket.resolution_due_at) == 9 * 60


def test_warning_breach_and_escalation_to_the_queues_head_each_once(desk: Any) -> None:
    company = desk.a.company
    with desk.a:
        ticket = service.open_ticket(
            company=company, subject="Горит", text="x", source="manual", queue=desk.queue
        )
        assignee = ticket.assignee_id
        assert assignee is not None
        start = ticket.created_at
        told = Notification.objects.filter(user_id=assignee).count()  # "new ticket for you"
        assert sla.fire_due(company, start + timedelta(minutes=47)) == 0  # not yet
        # 80 % of an hour: the warning.
        assert sla.fire_due(company, start + timedelta(minutes=49)) == 1
        assert Notification.objects.filter(user_id=assignee).count() == told + 1
        ticket.refresh_from_db()
        assert ticket.first_response_warned
        assert not ticket.first_response_breached
        # The hour: the breach, told to the assignee.
        sla.fire_due(company, start + timedelta(minutes=61))
        ticket.refresh_from_db()
        assert ticket.first_response_breached
        assert ticket.escalate_at is not None
        # 15 minutes later (automation's escalation delay): the queue's head.
        sla.fire_due(company, ticket.escalate_at + timedelta(seconds=1))
        ticket.refresh_from_db()
        assert ticket.escalated_at is not None
        head_notes = Notification.objects.filter(user_id=desk.head.user_id, text__contains="#")
        assert head_notes.count() == 1
        # Nothing is told twice.
        sla.fire_due(company, ticket.escalate_at + timedelta(hours=1))
        assert (
            Notification.objects.filter(user_id=desk.head.user_id, text__contains="#").count() == 1
        )


def test_the_timer_engine_fires_ticket_deadlines_through_its_index(desk: Any) -> None:
    company = desk.a.company
    with desk.a:
        ticket = service.open_ticket(company=company, subject="S", text="x", source="manual")
        assert timers.next_due() == ticket.sla_check_at
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_check_at=timezone.now() - timedelta(seconds=1)
        )
        assert timers.fire_due(company) >= 1
        ticket.refresh_from_db()
        assert ticket.first_response_warned


def test_policy_per_client_and_priority_wins(desk: Any) -> None:
    with desk.a:
        vip = Client.objects.create(name="VIP")
        SlaPolicy.objects.create(
            name="Срочно", priority="urgent", first_response_minutes=15, resolution_minutes=60
        )
        SlaPolicy.objects.create(
            name="VIP", client=vip, first_response_minutes=30, resolution_minutes=120
        )
        SlaPolicy.objects.create(
            name="VIP срочно",
            client=vip,
            priority="urgent",
            first_response_minutes=5,
            resolution_minutes=30,
        )
        plain_t = service.open_ticket(
            company=desk.a.company, subject="a", text="x", source="manual"
        )
        urgent = service.open_ticket(
            company=desk.a.company, subject="b", text="x", source="manual", priority="urgent"
        )
        vip_t = service.open_ticket(
            company=desk.a.company, subject="c", text="x", source="manual", client=vip
        )
        vip_urgent = service.open_ticket(
            company=desk.a.company,
            subject="d",
            text="x",
            source="manual",
            client=vip,
            priority="urgent",
        )
        names = [
            str(Ticket.objects.get(pk=t.pk).sla_policy)
            for t in (plain_t, urgent, vip_t, vip_urgent)
        ]
        assert names == ["Обычный", "Срочно", "VIP", "VIP срочно"]


def test_round_robin_takes_turns_and_skips_people_who_left(desk: Any) -> None:
    with desk.a:
        first, second = sorted([desk.manager.user_id, desk.colleague.user_id])
        got = [
            service.open_ticket(
                company=desk.a.company, subject=f"t{i}", text="x", source="manual"
            ).assignee_id
            for i in range(3)
        ]
        assert got == [first, second, first]
        desk.colleague.is_active = False
        desk.colleague.save()
        more = [
            service.open_ticket(
                company=desk.a.company, subject=f"u{i}", text="x", source="manual"
            ).assignee_id
            for i in range(2)
        ]
        assert set(more) == {desk.manager.user_id}


def test_merge_moves_the_conversation_and_split_makes_a_new_ticket(desk: Any) -> None:
    company = desk.a.company
    with desk.a:
        one = service.open_ticket(company=company, subject="Первое", text="a", source="manual")
        two = service.open_ticket(company=company, subject="Второе", text="b", source="manual")
        service.merge(company=company, actor=desk.manager, ticket=two, into=one)
        two.refresh_from_db()
        assert two.merged_into == one
        assert two.status == Ticket.Status.CLOSED
        assert {m.text for m in one.messages.filter(kind="customer")} == {"a", "b"}
        with pytest.raises(ValidationError):
            service.merge(company=company, actor=desk.manager, ticket=one, into=one)
        message = one.messages.get(text="b")
        new = service.split(
            company=company, actor=desk.manager, message=message, subject="Отдельно"
        )
        assert new.subject == "Отдельно"
        assert [m.text for m in new.messages.all()] == ["b"]
        assert not one.messages.filter(text="b").exists()


def test_a_closed_ticket_stays_closed_the_answer_opens_a_follow_up(desk: Any) -> None:
    company = desk.a.company
    with desk.a:
        ticket = service.open_ticket(company=company, subject="S", text="x", source="manual")
        service.change(company=company, actor=desk.manager, ticket=ticket, status="closed")
        follow = service.customer_wrote(company=company, ticket=ticket, text="ещё")
        assert follow.pk != ticket.pk
        assert follow.status == Ticket.Status.NEW


def test_survey_is_sent_through_the_mailbox_once_and_answered(
    desk: Any, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    company = desk.a.company
    with desk.a:
        _deliver(dovecot, desk, "Вопрос", "текст", "<q7@romashka.ru>")
        sync_mailbox(company, desk.box)
        ticket = Ticket.objects.get()
        service.change(company=company, actor=desk.manager, ticket=ticket, status="solved")
        ticket.refresh_from_db()
        survey = customers.send_survey(company, ticket)
        assert survey is not None
        assert customers.send_survey(company, ticket) is None  # once
        letter = email.message_from_bytes(smtp_server.received[-1].data)
        body = letter.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert "/help/survey/" in body
        customers.answer_survey(ticket=ticket, rating=5, comment="Спасибо")
        assert Survey.objects.get().rating == 5
        with pytest.raises(ValidationError):
            customers.answer_survey(ticket=ticket, rating=9, comment="")
