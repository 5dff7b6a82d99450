"""Letters of a ticket: a reply goes as text and sanitised HTML (multipart/alternative) with the
files chosen in the reply box (real SMTP server), the files are kept per company and shown on
the ticket; files over the limit are refused with the text kept. The files of a ticket's
letters open for whoever sees the ticket, mailbox reader or not — never for anyone else, nor
for company B."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from communications.models import MessageAttachment
from communications.services.sync import sync_mailbox
from communications.tests.mails import with_attachment
from communications.tests.servers import Dovecot, SmtpServer
from service.models import Ticket, TicketMessage
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4 invoice 42 " + bytes(range(256)) * 4


def _ticket_with_a_file(desk: Any, dovecot: Dovecot, assignee: Any) -> tuple[Ticket, Any]:
    dovecot.deliver(
        desk.box.address,
        with_attachment(
            "lena@romashka.ru", desk.box.address, "<files1@romashka.ru>", "schet.pdf", PDF
        ),
    )
    with desk.a:
        assert sync_mailbox(desk.a.company, desk.box).stored == 1
        ticket = Ticket.objects.get()
        Ticket.objects.filter(pk=ticket.pk).update(assignee_id=assignee.user_id)
        ticket.refresh_from_db()
        received = MessageAttachment.objects.get(name="schet.pdf")
    return ticket, received


def test_a_reply_goes_as_text_and_html_with_its_files_and_they_show_on_the_ticket(
    desk: Any, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    ticket, _file = _ticket_with_a_file(desk, dovecot, desk.manager)
    browser = login_on_host(desk.manager.user, desk.a.company, desk.a.host)
    page = browser.get(f"/tickets/{ticket.pk}/", HTTP_HOST=desk.a.host).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'id="reply-files"' in page
    text = (
        "Здравствуйте, Лена!\n\nЧто сделать:\n- открыть https://shop.example/orders\n"
        "- ответить на письмо\n\n<script>alert(1)</script> Счёт во вложении."
    )
    sent = browser.post(
        f"/tickets/{ticket.pk}/reply/",
        {
            "text": text,
            "then": "waiting",
            "attachments": [
                SimpleUploadedFile("акт сверки.pdf", PDF, content_type="application/pdf"),
                SimpleUploadedFile("../../etc/notes.txt", b"plain notes", content_type=""),
            ],
        },
        HTTP_HOST=desk.a.host,
    )
    assert sent.status_code == 302, sent.content.decode()[:3000]
    letter = email.message_from_bytes(smtp_server.received[-1].data, policy=default)
    assert isinstance(letter, EmailMessage)
    assert letter.get_content_type() == "multipart/mixed"
    alternative = next(p for p in letter.walk() if p.get_content_type() == "multipart/alternative")
    kinds = [p.get_content_type() for p in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    plain_part = letter.get_body(preferencelist=("plain",))
    html_part = letter.get_body(preferencelist=("html",))
    assert plain_part is not None
    assert html_part is not None
    assert "<script>alert(1)</script>" in plain_part.get_content()
    html = html_part.get_content()
    assert '<a href="https://shop.example/orders"' in html
    assert "<ul><li>открыть" in html
    assert "<p>Здравствуйте, Лена!</p>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    files = {p.get_filename(): p.get_payload(decode=True) for p in letter.iter_attachments()}
    assert files == {"акт сверки.pdf": PDF, "notes.txt": b"plain notes"}
    with desk.a:
        reply = TicketMessage.objects.get(ticket=ticket, kind="reply")
        assert reply.problem == ""
        kept = {a.name: a for a in MessageAttachment.objects.filter(message=reply.mail)}
        assert set(kept) == {"акт сверки.pdf", "notes.txt"}
        # Kept under the company's own folder, never under the name the browser gave.
        assert ".." not in str(kept["notes.txt"].file.name)
        with kept["акт сверки.pdf"].file.open("rb") as handle:
            assert handle.read() == PDF
    shown = browser.get(f"/tickets/{ticket.pk}/", HTTP_HOST=desk.a.host).content.decode()
    assert "акт сверки.pdf" in shown
    link = f"/mail/files/{kept['акт сверки.pdf'].pk}/"
    assert link in shown
    got = browser.get(link, HTTP_HOST=desk.a.host)
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF  # type: ignore[attr-defined]


def test_files_over_the_limit_are_refused_and_the_text_is_kept(
    desk: Any, dovecot: Dovecot, smtp_server: SmtpServer, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_MB = 1
    ticket, _file = _ticket_with_a_file(desk, dovecot, desk.manager)
    browser = login_on_host(desk.manager.user, desk.a.company, desk.a.host)
    before = len(smtp_server.received)
    refused = browser.post(
        f"/tickets/{ticket.pk}/reply/",
        {
            "text": "Ответ, который нельзя потерять",
            "then": "waiting",
            "attachments": [SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 10))],
        },
        HTTP_HOST=desk.a.host,
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    errors = refused.context["reply_form"].errors["attachments"]
    assert any("1 " in str(e) for e in errors), errors
    assert str(errors[0]) in page
    assert "Ответ, который нельзя потерять" in page
    empty = browser.post(
        f"/tickets/{ticket.pk}/reply/",
        {"text": "Ещё", "then": "waiting", "attachments": [SimpleUploadedFile("zero.txt", b"")]},
        HTTP_HOST=desk.a.host,
    )
    assert empty.status_code == 400
    assert len(smtp_server.received) == before
    with desk.a:
        assert not TicketMessage.objects.filter(ticket=ticket, kind="reply").exists()


def test_a_tickets_files_open_for_whoever_sees_the_ticket_and_nobody_else(
    desk: Any, dovecot: Dovecot
) -> None:
    # The colleague is in the ticket's queue but does not read the support mailbox.
    ticket, received = _ticket_with_a_file(desk, dovecot, desk.colleague)
    with desk.a:
        assert not desk.box.readers.filter(user_id=desk.colleague.user_id).exists()
    link = f"/mail/files/{received.pk}/"
    agent = login_on_host(desk.colleague.user, desk.a.company, desk.a.host)
    assert link in agent.get(f"/tickets/{ticket.pk}/", HTTP_HOST=desk.a.host).content.decode()
    got = agent.get(link, HTTP_HOST=desk.a.host)
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF  # type: ignore[attr-defined]
    # Another manager sees neither the mailbox nor the ticket (a colleague's): not found.
    other = login_on_host(desk.manager.user, desk.a.company, desk.a.host)
    assert other.get(f"/tickets/{ticket.pk}/", HTTP_HOST=desk.a.host).status_code == 404
    assert other.get(link, HTTP_HOST=desk.a.host).status_code == 404
    # Once the ticket is the manager's, the file opens for them too.
    with desk.a:
        Ticket.objects.filter(pk=ticket.pk).update(assignee_id=desk.manager.user_id)
    assert other.get(link, HTTP_HOST=desk.a.host).status_code == 200
    # Company B's owner, on B's host, reaches nothing of A's by the same number.
    b_owner = login_on_host(desk.b.owner, desk.b.company, desk.b.host)
    assert b_owner.get(link, HTTP_HOST=desk.b.host).status_code == 404
    assert b_owner.get(link, HTTP_HOST=desk.a.host).status_code in {302, 403, 404}
