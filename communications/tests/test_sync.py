"""Bringing mail in from a real dovecot: the first import of the last N days, then only what
is new; threads; the client's card; requests from strangers; a dropped connection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from communications.models import Conversation, Mailbox, MailFolder, Message, MessageAttachment
from communications.queries import feed_entries
from communications.services.sync import sync_mailbox
from communications.tests.mails import plain, with_attachment
from communications.tests.servers import CuttingRelay, Dovecot
from crm_core.automation.models import RequestForm
from crm_core.models import Client, Contact, Lead
from crm_core.queries.cards import client_feed

pytestmark = pytest.mark.django_db


def _client_with_contact(email: str) -> tuple[Client, Contact]:
    client = Client.objects.create(name="ООО Ромашка")
    contact = Contact.objects.create(client=client, first_name="Лена", emails=[email])
    return client, contact


def test_first_sync_takes_the_last_days_then_only_new_mail(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    with crm.a:
        box = mailbox_on(crm.manager, initial_days=30)
        old = timezone.now() - timedelta(days=90)
        dovecot.deliver(
            box.address, plain("x@example.ru", box.address, "old", "old", "<old@x>", old)
        )
        # dovecot takes the arrival date from APPEND: give the old one its own date.
        with dovecot.client(box.address) as imap:
            imap.select("INBOX")
            imap.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
            imap.expunge()
            imap.append(
                "INBOX",
                None,
                old.strftime('"%d-%b-%Y %H:%M:%S +0000"'),
                plain("x@example.ru", box.address, "old", "old", "<old@x>", old),
            )
        dovecot.deliver(box.address, plain("y@example.ru", box.address, "new", "hi", "<new1@x>"))
        first = sync_mailbox(crm.a.company, box)
        assert first.error == ""
        assert list(Message.objects.values_list("message_id", flat=True)) == ["<new1@x>"]
        folder = MailFolder.objects.get(mailbox=box, name="INBOX")
        assert folder.uidvalidity
        assert folder.last_uid == 3

        dovecot.deliver(box.address, plain("y@example.ru", box.address, "Re", "more", "<new2@x>"))
        second = sync_mailbox(crm.a.company, box)
        assert (second.stored, second.skipped) == (1, 0)
        assert Message.objects.count() == 2
        again = sync_mailbox(crm.a.company, box)
        assert (again.stored, again.skipped) == (0, 0)


def test_a_reply_joins_its_thread_and_lands_on_the_clients_card(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    with crm.a:
        client, contact = _client_with_contact("lena@romashka.ru")
        client.responsible_id = crm.manager.user_id
        client.save()
        box = mailbox_on(crm.manager)
        dovecot.deliver(
            box.address,
            plain("Лена <Lena@Romashka.ru>", box.address, "Окна", "Нужны окна", "<t1@r>"),
        )
        dovecot.deliver(
            box.address,
            plain(
                "lena@romashka.ru",
                box.address,
                "Re: Окна",
                "Ещё вопрос",
                "<t3@r>",
                extra="In-Reply-To: <t2@okna>\r\nReferences: <t1@r> <t2@okna>\r\n",
            ),
        )
        sync_mailbox(crm.a.company, box)
        conversation = Conversation.objects.get()
        assert conversation.messages.count() == 2
        assert (conversation.client, conversation.contact) == (client, contact)
        assert conversation.awaiting_reply
        entries = [e for e in client_feed(client, crm.manager).entries if e.kind == "email"]
        assert [e.summary for e in entries] == ["Re: Окна", "Окна"]
        # A colleague who sees the client does not see a personal mailbox's mail.
        assert feed_entries("client", client, crm.colleague) == []


def test_strangers_become_requests_only_where_the_mailbox_says_so(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    with crm.a:
        form = RequestForm.objects.create(name="Почта", assignee=crm.manager.user)
        sales = mailbox_on(
            crm.owner, kind=Mailbox.Kind.SHARED, creates_requests=True, request_form=form
        )
        personal = mailbox_on(crm.manager)
        for box in (sales, personal):
            dovecot.deliver(
                box.address,
                plain(
                    "Иван <ivan@new.ru>", box.address, "Окна?", "Сколько стоят?", f"<s{box.pk}@n>"
                ),
            )
        # An auto-reply from another stranger never becomes a request (a mail loop).
        dovecot.deliver(
            sales.address,
            plain(
                "robot@away.ru",
                sales.address,
                "Я в отпуске",
                "...",
                "<auto@a>",
                extra="Auto-Submitted: auto-replied\r\n",
            ),
        )
        sync_mailbox(crm.a.company, sales)
        sync_mailbox(crm.a.company, personal)
        lead = Lead.objects.get()
        assert (lead.email, lead.name) == ("ivan@new.ru", "Иван")
        assert "Сколько стоят?" in lead.message
        assert Conversation.objects.get(mailbox=sales, lead=lead)
        # Synced again from scratch (the server renumbered the folder): no second request.
        MailFolder.objects.filter(mailbox=sales).update(uidvalidity=1)
        sync_mailbox(crm.a.company, sales)
        assert Lead.objects.count() == 1
        assert Message.objects.filter(mailbox=sales).count() == 2


def test_a_connection_dropped_mid_sync_loses_nothing_and_the_next_poll_resumes(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    with crm.a:
        box = mailbox_on(crm.manager)
        dovecot.deliver_all(
            box.address,
            [
                plain(
                    "c@example.ru", box.address, f"m{n}", f"message {n} " + "x" * 3000, f"<m{n}@c>"
                )
                for n in range(50)
            ],
        )
        relay = CuttingRelay(dovecot.port, cut_after=100_000)
        try:
            broken = sync_mailbox(crm.a.company, box, port=relay.port)
        finally:
            relay.close()
        assert relay.cut.is_set()
        assert broken.error.startswith("connection lost")
        assert Mailbox.objects.get(pk=box.pk).status == Mailbox.Status.ERROR
        kept = Message.objects.count()
        assert 0 < kept < 50
        position = MailFolder.objects.get(mailbox=box, name="INBOX").last_uid
        assert position == kept

        resumed = sync_mailbox(crm.a.company, Mailbox.objects.get(pk=box.pk))
        assert resumed.error == ""
        assert resumed.stored == 50 - kept
        assert sorted(Message.objects.values_list("subject", flat=True)) == sorted(
            f"m{n}" for n in range(50)
        )
        assert Mailbox.objects.get(pk=box.pk).status == Mailbox.Status.OK


def test_a_30_mb_attachment_is_stored_whole(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any
) -> None:
    payload = bytes(range(256)) * (30 * 1024 * 1024 // 256)
    with crm.a:
        box = mailbox_on(crm.manager)
        dovecot.deliver(
            box.address,
            with_attachment("big@example.ru", box.address, "<big@x>", "чертёж.dwg", payload),
        )
        result = sync_mailbox(crm.a.company, box)
        assert result.error == ""
        stored = MessageAttachment.objects.get()
        assert (stored.name, stored.size) == ("чертёж.dwg", len(payload))
        with stored.file.open("rb") as handle:
            assert handle.read() == payload


@pytest.mark.parametrize("name", ["..", "a/../b.pdf", "()", "Договор " * 30 + ".pdf"])
def test_a_hostile_attachment_name_neither_stops_the_mailbox_nor_is_used_as_a_path(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any, name: str
) -> None:
    with crm.a:
        box = mailbox_on(crm.manager)
        dovecot.deliver(
            box.address, with_attachment("x@example.ru", box.address, "<evil@x>", name, b"data")
        )
        dovecot.deliver(box.address, plain("y@example.ru", box.address, "after", "x", "<ok@x>"))
        result = sync_mailbox(crm.a.company, box)
        assert result.error == ""
        assert set(Message.objects.values_list("subject", flat=True)) >= {"after"}
        stored = MessageAttachment.objects.get()
        assert stored.name  # shown as the sender named it (cleaned by the reader)
        path = str(stored.file.name)
        assert ".." not in path
        assert len(path.rsplit("/", 1)[-1]) <= 50


def test_malformed_mail_is_kept_with_its_source(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any
) -> None:
    raw = (
        b"From: broken@example.ru\r\nSubject: broken\r\nMessage-ID: <br@x>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--nothing\r\nstill here\r\n"
    )
    with crm.a:
        box = mailbox_on(crm.manager)
        dovecot.deliver(box.address, raw)
        sync_mailbox(crm.a.company, box)
        message = Message.objects.get()
        assert message.problem.startswith("malformed")
        with message.raw.open("rb") as handle:
            assert handle.read().replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


def test_what_sits_in_sent_is_ours_whatever_its_from_says(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    """A letter sent from an alias (kirill@ while the mailbox is sales@) is found in Sent: it is
    the company's answer, not a customer's letter waiting for one."""
    with crm.a:
        _client_with_contact("lena@romashka.ru")
        box = mailbox_on(crm.manager)
        dovecot.deliver(
            box.address, plain("lena@romashka.ru", box.address, "Окна", "Сколько?", "<q@r>")
        )
        dovecot.deliver(
            box.address,
            plain(
                "Кирилл <kirill@okna-alias.ru>",
                "lena@romashka.ru",
                "Re: Окна",
                "Пятнадцать тысяч.",
                "<a@okna>",
                extra="In-Reply-To: <q@r>\r\nReferences: <q@r>\r\n",
            ),
            folder="Sent",
        )
        sync_mailbox(crm.a.company, box)
        conversation = Conversation.objects.get()
        directions = dict(conversation.messages.values_list("message_id", "direction"))
        assert directions == {"<q@r>": "in", "<a@okna>": "out"}
        assert not conversation.awaiting_reply
        assert conversation.counterpart == "lena@romashka.ru"
