"""The mail pages as people use them: connecting a mailbox (and a clear error when it cannot
be reached), the inbox, replying and writing from a card through a real SMTP server, the
invoice sent in one step — and who may see what, within a company and across companies."""

from __future__ import annotations

import email
from typing import Any

import pytest
from django.core.files.base import ContentFile

from communications.models import Conversation, Mailbox, MailTemplate, Message
from communications.services.sync import sync_mailbox
from communications.tests.mails import plain
from communications.tests.servers import Dovecot, SmtpServer
from crm_core.models import Attachment, Client, Contact
from crm_core.services.deals import create_deal
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _browser(membership: Any, crm: Any) -> Any:
    return login_on_host(membership.user, crm.a.company, crm.a.host)


def _form(dovecot: Dovecot, smtp: SmtpServer, address: str, secret: str) -> dict[str, Any]:
    return {
        "name": "Мой ящик",
        "address": address,
        "kind": "personal",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "login": address,
        "auth_method": "password",
        "secret": secret,
        "sent_folder": "Sent",
        "initial_days": 30,
    }


def test_connecting_a_mailbox_checks_it_and_says_clearly_what_failed(
    crm: Any, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    address = dovecot.add_user()
    browser = _browser(crm.manager, crm)
    wrong = browser.post(
        "/mail/mailboxes/new/", _form(dovecot, smtp_server, address, "wrong"), HTTP_HOST=crm.a.host
    )
    assert wrong.status_code == 200
    assert "отклонил вход" in wrong.content.decode()
    with crm.a:
        assert not Mailbox.objects.exists()
    saved = browser.post(
        "/mail/mailboxes/new/",
        _form(dovecot, smtp_server, address, "mail-pass-1"),
        HTTP_HOST=crm.a.host,
    )
    assert saved.status_code == 302
    with crm.a:
        box = Mailbox.objects.get()
        assert (box.owner_id, box.kind) == (crm.manager.user_id, "personal")
        # Encrypted at rest: the stored value is a Fernet token, not the password.
        assert "mail-pass-1" not in box.secret
        assert box.secret.startswith("gAAAA")
    listing = browser.get("/mail/mailboxes/", HTTP_HOST=crm.a.host).content.decode()
    edit = browser.get(f"/mail/mailboxes/{box.pk}/", HTTP_HOST=crm.a.host).content.decode()
    for page in (listing, edit):
        assert address in page
        assert "mail-pass-1" not in page
        assert box.secret not in page
    # The stored password never goes to a server typed in afterwards: a changed host asks for it.
    moved = {**_form(dovecot, smtp_server, address, ""), "imap_host": "127.0.0.2"}
    refused = browser.post(f"/mail/mailboxes/{box.pk}/", moved, HTTP_HOST=crm.a.host)
    assert refused.status_code == 200
    assert "введите пароль (или пароль приложения) ещё раз" in refused.content.decode()
    with crm.a:
        assert Mailbox.objects.get().imap_host == dovecot.host


def test_a_mail_server_inside_a_private_network_is_refused_before_connecting(
    crm: Any, dovecot: Dovecot, smtp_server: SmtpServer, settings: Any
) -> None:
    """What production does (MAIL_ALLOW_PRIVATE_SERVERS off): a mailbox must not make Relata
    probe its own network — Redis on 127.0.0.1, the cloud's metadata service, 10.x."""
    from communications.services.connection import MailboxError, imap

    settings.MAIL_ALLOW_PRIVATE_SERVERS = False
    address = dovecot.add_user()
    browser = _browser(crm.manager, crm)
    refused = browser.post(
        "/mail/mailboxes/new/",
        _form(dovecot, smtp_server, address, "mail-pass-1"),
        HTTP_HOST=crm.a.host,
    )
    assert refused.status_code == 200
    assert "внутри частной сети" in refused.content.decode()
    with crm.a:
        assert not Mailbox.objects.exists()
    for host in ("169.254.169.254", "10.0.0.5", "localhost", "::1"):
        box = Mailbox(imap_host=host, imap_port=993, imap_security=Mailbox.Security.SSL)
        with pytest.raises(MailboxError, match=host), imap(box, "x"):
            pass


def test_reply_from_the_conversation_goes_with_the_thread_headers_and_a_sent_copy(
    crm: Any, dovecot: Dovecot, smtp_server: SmtpServer, mailbox_on: Any
) -> None:
    with crm.a:
        client = Client.objects.create(name="Ромашка", responsible_id=crm.manager.user_id)
        Contact.objects.create(client=client, first_name="Лена", emails=["lena@romashka.ru"])
        box = mailbox_on(crm.manager)
        dovecot.deliver(
            box.address,
            plain(
                "lena@romashka.ru",
                box.address,
                "Окна",
                "Сколько?",
                "<q2@r>",
                extra="References: <q1@r>\r\n",
            ),
        )
        sync_mailbox(crm.a.company, box)
        conversation = Conversation.objects.get()
        MailTemplate.objects.create(name="Цена", body="Здравствуйте! Для {client} — {manager}.")
    browser = _browser(crm.manager, crm)
    inbox = browser.get("/mail/", HTTP_HOST=crm.a.host).content.decode()
    assert f"/mail/c/{conversation.pk}/" in inbox
    assert 'id="unread-total">1<' in inbox
    with crm.a:
        template = MailTemplate.objects.get()
    page = browser.get(
        f"/mail/c/{conversation.pk}/?template={template.pk}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert "Для Ромашка" in page
    sent = browser.post(
        f"/mail/c/{conversation.pk}/",
        {
            "mailbox": box.pk,
            "to": "lena@romashka.ru",
            "cc": "",
            "subject": "Re: Окна",
            "text": "Пятнадцать тысяч.",
        },
        HTTP_HOST=crm.a.host,
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    [delivered] = smtp_server.received
    assert delivered.recipients == ["lena@romashka.ru"]
    letter = email.message_from_bytes(delivered.data)
    assert letter["In-Reply-To"] == "<q2@r>"
    assert letter["References"].split() == ["<q1@r>", "<q2@r>"]
    copies = dovecot.folder_messages(box.address, "Sent")
    assert len(copies) == 1
    assert letter["Message-ID"].encode() in copies[0]
    with crm.a:
        conversation.refresh_from_db()
        assert not conversation.awaiting_reply
        assert conversation.first_reply_at
        reply = Message.objects.get(direction="out")
        assert reply.delivery == "sent"
        assert reply.author_id == crm.manager.user_id
        # The next poll finds the copy in Sent and keeps the message once.
        sync_mailbox(crm.a.company, box)
        assert Message.objects.filter(direction="out").count() == 1


def test_a_reader_of_a_colleagues_mailbox_cannot_send_in_the_colleagues_name(
    crm: Any, dovecot: Dovecot, smtp_server: SmtpServer, mailbox_on: Any
) -> None:
    with crm.a:
        personal = mailbox_on(crm.manager, reader_ids=[crm.colleague.user_id])
        dovecot.deliver(
            personal.address, plain("lena@romashka.ru", personal.address, "Окна", "?", "<r1@r>")
        )
        sync_mailbox(crm.a.company, personal)
        conversation = Conversation.objects.get()
    colleague = _browser(crm.colleague, crm)
    page = colleague.get(f"/mail/c/{conversation.pk}/", HTTP_HOST=crm.a.host)
    assert page.status_code == 200  # reading was shared...
    assert f'value="{personal.pk}"' not in page.content.decode()  # ...writing was not
    letter = {"mailbox": personal.pk, "to": "lena@romashka.ru", "subject": "Re", "text": "Нет"}
    for path in (f"/mail/c/{conversation.pk}/", "/mail/write/"):
        answer = colleague.post(path, letter, HTTP_HOST=crm.a.host)
        assert answer.status_code == 200, path  # the form again, with the error
    assert smtp_server.received == []
    owner = _browser(crm.manager, crm)
    answer = owner.post(f"/mail/c/{conversation.pk}/", letter, HTTP_HOST=crm.a.host)
    assert answer.status_code == 302
    assert len(smtp_server.received) == 1


def test_a_refused_message_is_kept_as_not_sent_with_the_reason(
    crm: Any, smtp_server: SmtpServer, mailbox_on: Any
) -> None:
    with crm.a:
        box = mailbox_on(crm.manager)
    smtp_server.refuse = True
    browser = _browser(crm.manager, crm)
    answer = browser.post(
        "/mail/write/",
        {"mailbox": box.pk, "to": "someone@example.ru", "subject": "Hi", "text": "Текст письма"},
        HTTP_HOST=crm.a.host,
    )
    assert answer.status_code == 200
    assert "Не отправлено" in answer.content.decode()
    with crm.a:
        kept = Message.objects.get()
        assert (kept.delivery, kept.text) == ("failed", "Текст письма")


def test_the_invoice_pdf_goes_from_the_deal_in_one_step(
    crm: Any, smtp_server: SmtpServer, mailbox_on: Any, media_root: Any
) -> None:
    with crm.a:
        client = Client.objects.create(name="Ромашка", responsible_id=crm.manager.user_id)
        contact = Contact.objects.create(
            client=client, first_name="Лена", emails=["lena@romashka.ru"]
        )
        deal = create_deal(
            membership=crm.manager, title="Окна", pipeline=crm.pipeline, client=client
        )
        deal.contacts.add(contact)
        invoice = Attachment(deal=deal, name="Счёт 12.pdf", size=9)
        invoice.file.save("invoice.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
        box = mailbox_on(crm.manager)
    browser = _browser(crm.manager, crm)
    form = browser.get(
        f"/mail/write/?deal={deal.pk}&attach={invoice.pk}", HTTP_HOST=crm.a.host
    ).content.decode()
    assert 'value="lena@romashka.ru"' in form
    assert f'value="{invoice.pk}"' in form
    assert "checked" in form
    sent = browser.post(
        f"/mail/write/?deal={deal.pk}&attach={invoice.pk}",
        {
            "mailbox": box.pk,
            "to": "lena@romashka.ru",
            "subject": "Счёт",
            "text": "Счёт во вложении.",
            "attach": [str(invoice.pk)],
        },
        HTTP_HOST=crm.a.host,
    )
    assert sent.status_code == 302
    letter = email.message_from_bytes(smtp_server.received[0].data)
    [part] = [p for p in letter.walk() if p.get_filename()]
    assert part.get_filename() == "Счёт 12.pdf"
    assert part.get_payload(decode=True) == b"%PDF-1.4\n"
    with crm.a:
        assert Conversation.objects.get().deal == deal
    card = browser.get(f"/deals/{deal.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Счёт" in card
    assert "/mail/c/" in card


def test_personal_mail_is_private_and_shared_mail_follows_the_clients_one_sees(
    crm: Any, dovecot: Dovecot, mailbox_on: Any
) -> None:
    with crm.a:
        mine = Client.objects.create(name="Клиент Маши", responsible_id=crm.manager.user_id)
        theirs = Client.objects.create(name="Клиент коллеги", responsible_id=crm.colleague.user_id)
        Contact.objects.create(client=mine, first_name="A", emails=["a@mine.ru"])
        Contact.objects.create(client=theirs, first_name="B", emails=["b@theirs.ru"])
        sales = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED)
        personal = mailbox_on(crm.colleague)
        dovecot.deliver(
            sales.address, plain("a@mine.ru", sales.address, "to sales mine", "x", "<1@m>")
        )
        dovecot.deliver(
            sales.address, plain("b@theirs.ru", sales.address, "to sales theirs", "x", "<2@t>")
        )
        dovecot.deliver(
            personal.address, plain("a@mine.ru", personal.address, "private", "x", "<3@m>")
        )
        sync_mailbox(crm.a.company, sales)
        sync_mailbox(crm.a.company, personal)
        by_subject = {c.subject: c.pk for c in Conversation.objects.all()}
    manager = _browser(crm.manager, crm)
    # The manager reads neither mailbox: she sees the shared box's mail about her client only,
    # and not the colleague's personal mail about that same client.
    assert (
        manager.get(f"/mail/c/{by_subject['to sales mine']}/", HTTP_HOST=crm.a.host).status_code
        == 200
    )
    assert (
        manager.get(f"/mail/c/{by_subject['to sales theirs']}/", HTTP_HOST=crm.a.host).status_code
        == 404
    )
    assert manager.get(f"/mail/c/{by_subject['private']}/", HTTP_HOST=crm.a.host).status_code == 404
    card = manager.get(f"/clients/{mine.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "to sales mine" in card
    assert "private" not in card
    assert "to sales" not in manager.get("/mail/", HTTP_HOST=crm.a.host).content.decode()
    assert manager.get(f"/mail/mailboxes/{personal.pk}/", HTTP_HOST=crm.a.host).status_code == 404
    # The owner reads the shared box, but not a colleague's personal one...
    owner = _browser(crm.owner, crm)
    assert (
        owner.get(f"/mail/c/{by_subject['to sales theirs']}/", HTTP_HOST=crm.a.host).status_code
        == 200
    )
    assert owner.get(f"/mail/c/{by_subject['private']}/", HTTP_HOST=crm.a.host).status_code == 404
    # ...until the colleague shares it.
    with crm.a:
        personal.readers.create(user_id=crm.owner.user_id)
    assert owner.get(f"/mail/c/{by_subject['private']}/", HTTP_HOST=crm.a.host).status_code == 200


def test_a_conversation_shows_only_the_deal_and_files_the_reader_may_see(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any
) -> None:
    """Matching by address knows nothing of visibility: the page must not show a manager the
    colleague's deal (its title, its files to attach) that the letter was matched to."""
    with crm.a:
        mine = Client.objects.create(name="Клиент Маши", responsible_id=crm.manager.user_id)
        Contact.objects.create(client=mine, first_name="A", emails=["a@mine.ru"])
        secret_deal = create_deal(
            membership=crm.colleague, title="Сделка коллеги", pipeline=crm.pipeline, client=mine
        )
        Attachment.objects.create(
            deal=secret_deal, name="смета-коллеги.pdf", file=ContentFile(b"x", name="s.pdf")
        )
        sales = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED)
        dovecot.deliver(sales.address, plain("a@mine.ru", sales.address, "вопрос", "x", "<q@m>"))
        sync_mailbox(crm.a.company, sales)
        found = Conversation.objects.get(subject="вопрос")
        assert found.deal_id == secret_deal.pk  # matched: the page must still keep it back
    manager = _browser(crm.manager, crm)
    page = manager.get(f"/mail/c/{found.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Клиент Маши" in page
    assert "Сделка коллеги" not in page
    assert "смета-коллеги.pdf" not in page
    owner = _browser(crm.owner, crm)
    page = owner.get(f"/mail/c/{found.pk}/", HTTP_HOST=crm.a.host).content.decode()
    assert "Сделка коллеги" in page


def test_company_b_never_sees_company_as_mail(
    crm: Any, dovecot: Dovecot, mailbox_on: Any, media_root: Any
) -> None:
    from communications.tests.mails import with_attachment

    with crm.a:
        box = mailbox_on(crm.owner, kind=Mailbox.Kind.SHARED)
        dovecot.deliver(box.address, with_attachment("x@y.ru", box.address, "<a@x>", "a.txt", b"A"))
        sync_mailbox(crm.a.company, box)
        conversation = Conversation.objects.get()
        attachment = Message.objects.get().attachments.get()
    b = crm.b
    browser = login_on_host(b.owner, b.company, b.host)
    for url in (
        f"/mail/c/{conversation.pk}/",
        f"/mail/files/{attachment.pk}/",
        f"/mail/mailboxes/{box.pk}/",
        f"/mail/?mailbox={box.pk}",
    ):
        assert browser.get(url, HTTP_HOST=b.host).status_code == 404, url
    assert browser.post(f"/mail/mailboxes/{box.pk}/delete/", HTTP_HOST=b.host).status_code == 404
    assert box.address not in browser.get("/mail/", HTTP_HOST=b.host).content.decode()
    with b:
        assert not Mailbox.objects.exists()
        assert not Conversation.objects.exists()
    # A's own owner gets the file.
    owner = login_on_host(crm.a.owner, crm.a.company, crm.a.host)
    assert owner.get(f"/mail/files/{attachment.pk}/", HTTP_HOST=crm.a.host).status_code == 200


def test_remote_images_wait_until_asked(crm: Any, dovecot: Dovecot, mailbox_on: Any) -> None:
    html = (
        '<p onclick="x()">Привет<script>alert(1)</script></p>'
        '<img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">x</a>'
    )
    raw = (
        f"From: a@b.ru\r\nTo: x@y.ru\r\nSubject: html\r\nMessage-ID: <h@b>\r\n"
        f"Content-Type: text/html; charset=utf-8\r\n\r\n{html}"
    ).encode()
    with crm.a:
        box = mailbox_on(crm.manager)
        dovecot.deliver(box.address, raw)
        sync_mailbox(crm.a.company, box)
        conversation = Conversation.objects.get()
    browser = _browser(crm.manager, crm)
    page = browser.get(f"/mail/c/{conversation.pk}/", HTTP_HOST=crm.a.host)
    text = page.content.decode()
    assert "Привет" in text
    assert "alert(1)" not in text
    assert "onclick" not in text
    assert "tracker.example" not in text
    assert 'id="show-images"' in text
    assert "img-src 'self' data:;" in page["Content-Security-Policy"] + ";"
    shown = browser.get(f"/mail/c/{conversation.pk}/?images=1", HTTP_HOST=crm.a.host)
    assert 'src="https://tracker.example/p.gif"' in shown.content.decode()
    assert "https:" in shown["Content-Security-Policy"]


def test_a_mailbox_signed_in_by_oauth2_sends_through_smtp_xoauth2(
    crm: Any, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    from communications.services.mailboxes import save_mailbox
    from communications.services.sending import Outgoing, send

    with crm.a:
        # dovecot here has no OAuth2 set up: the check is skipped, the sending is real.
        box = save_mailbox(
            membership=crm.manager,
            mailbox=Mailbox(),
            secret=smtp_server.oauth_token,
            reader_ids=[],
            check=False,
            name="OAuth",
            address="kirill@okna.example",
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_security=Mailbox.Security.NONE,
            login="kirill@okna.example",
            auth_method=Mailbox.AuthMethod.XOAUTH2,
            sent_folder="",
        )
        message = send(
            sender=crm.manager.user,
            mailbox=box,
            outgoing=Outgoing(to=["lena@romashka.ru"], subject="Hi", text="Hello"),
        )
        assert message.delivery == "sent"
    assert smtp_server.received[0].recipients == ["lena@romashka.ru"]


def test_removing_a_mailbox_takes_a_tick_and_only_its_owner(crm: Any, mailbox_on: Any) -> None:
    with crm.a:
        box = mailbox_on(crm.manager)
    colleague = _browser(crm.colleague, crm)
    url = f"/mail/mailboxes/{box.pk}/delete/"
    assert colleague.post(url, {"confirm": "on"}, HTTP_HOST=crm.a.host).status_code == 404
    owner = _browser(crm.manager, crm)
    owner.post(url, HTTP_HOST=crm.a.host)
    with crm.a:
        assert Mailbox.objects.filter(pk=box.pk).exists()
    owner.post(url, {"confirm": "on"}, HTTP_HOST=crm.a.host)
    with crm.a:
        assert not Mailbox.objects.filter(pk=box.pk).exists()
