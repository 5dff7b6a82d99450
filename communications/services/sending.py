"""Writing from the CRM: a reply in a thread or a new message, sent through the mailbox's
SMTP server with the thread's headers, its copy put in the mailbox's Sent folder.

The message is written to the conversation before it is sent; a refusal of the SMTP server
leaves it there marked "not sent" with the reason, so nothing typed is lost."""

from __future__ import annotations

import logging
import mimetypes
import smtplib
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from imap_tools import MailMessageFlags

from communications.models import Conversation, Mailbox, Message, MessageAttachment
from communications.services.connection import MailboxError, imap, smtp
from communications.services.conversations import note_answer
from communications.services.inbound import stored_name
from communications.services.matching import match_addresses
from crm_core.models import Attachment, Deal
from tenants.models import User

log = logging.getLogger(__name__)
MAX_ATTACHMENTS_MB = 25  # what most mail servers accept in one message


@dataclass(frozen=True)
class Upload:
    """A file sent with the letter that is no deal's file (a ticket reply's): it is kept with
    the sent letter (``MessageAttachment``, under the company's folder) as received files are."""

    name: str
    content_type: str
    data: bytes


@dataclass
class Outgoing:
    to: list[str]
    subject: str
    text: str
    cc: list[str] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    # The HTML part (multipart/alternative beside the text); empty: a plain-text letter.
    html: str = ""


class SendError(Exception):
    """The message was kept but not sent; ``str()`` says why, for the person."""


def _references(conversation: Conversation) -> tuple[str, str]:
    """In-Reply-To and References of a reply: the last message of the thread, and its
    references followed by it (RFC 5322 §3.6.4)."""
    last = conversation.messages.exclude(message_id="").order_by("-sent_at", "-id").first()
    if last is None:
        return "", ""
    chain = [*last.references.split(), last.message_id]
    return last.message_id, " ".join(chain[-20:])


def build(
    mailbox: Mailbox, sender: User, outgoing: Outgoing, in_reply_to: str, references: str
) -> EmailMessage:
    message = EmailMessage()
    domain = mailbox.address.rsplit("@", 1)[-1]
    message["From"] = Address(sender.get_full_name() or mailbox.name, addr_spec=mailbox.address)
    message["To"] = ", ".join(outgoing.to)
    if outgoing.cc:
        message["Cc"] = ", ".join(outgoing.cc)
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=domain)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references
    message.set_content(outgoing.text)
    if outgoing.html:
        message.add_alternative(outgoing.html, subtype="html")
    for upload in outgoing.uploads:
        maintype, _sep, subtype = upload.content_type.partition("/")
        message.add_attachment(
            upload.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=upload.name,
        )
    for file in outgoing.files:
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        with file.file.open("rb") as handle:
            message.add_attachment(
                handle.read(), maintype=maintype, subtype=subtype, filename=file.name
            )
    return message


def _check(outgoing: Outgoing) -> None:
    if not outgoing.to:
        raise ValidationError(_("Say whom to send it to."))
    if not outgoing.text.strip() and not outgoing.files and not outgoing.uploads:
        raise ValidationError(_("The message is empty."))
    total = sum(f.size for f in outgoing.files) + sum(len(u.data) for u in outgoing.uploads)
    if total > MAX_ATTACHMENTS_MB * 1024 * 1024:
        raise ValidationError(
            _("The files come to more than %(mb)s MB; mail servers refuse that.")
            % {"mb": MAX_ATTACHMENTS_MB}
        )


def send(
    *,
    sender: User,
    mailbox: Mailbox,
    outgoing: Outgoing,
    conversation: Conversation | None = None,
    deal: Deal | None = None,
) -> Message:
    """Send and keep the message; raises ``SendError`` (the message kept as not sent) when
    the server refuses it, ``ValidationError`` before anything is written for bad input."""
    _check(outgoing)
    in_reply_to, references = _references(conversation) if conversation else ("", "")
    email = build(mailbox, sender, outgoing, in_reply_to, references)
    with transaction.atomic():
        if conversation is None:
            match = match_addresses(outgoing.to)
            conversation = Conversation.objects.create(
                mailbox=mailbox,
                subject=outgoing.subject[:500],
                counterpart=outgoing.to[0][:320],
                client=deal.client if deal is not None else match.client,
                contact=match.contact,
                deal=deal or match.deal,
            )
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUT,
            mailbox=mailbox,
            message_id=str(email["Message-ID"]),
            in_reply_to=in_reply_to,
            references=references,
            from_address=mailbox.address.lower(),
            from_name=sender.get_full_name(),
            to=outgoing.to,
            cc=outgoing.cc,
            subject=outgoing.subject[:500],
            text=outgoing.text,
            is_read=True,
            author=sender,
            delivery=Message.Delivery.FAILED,
            problem=_("Sending…"),
            size=len(email.as_bytes()),
        )
        for upload in outgoing.uploads:
            kept = MessageAttachment(
                message=message,
                name=upload.name[:255],
                content_type=upload.content_type[:200],
                size=len(upload.data),
            )
            kept.file.save(stored_name(upload.name), ContentFile(upload.data), save=False)
            kept.save()
    try:
        with smtp(mailbox) as server:
            server.send_message(email)
    except (MailboxError, smtplib.SMTPException, OSError) as exc:
        reason = str(exc) if isinstance(exc, MailboxError) else _("the server refused it")
        Message.objects.filter(pk=message.pk).update(problem=reason[:500])
        log.warning("mail not sent", extra={"mailbox": mailbox.pk, "mail_message": message.pk})
        raise SendError(reason) from None
    problem = _save_copy(mailbox, email)
    Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.SENT, problem=problem)
    note_answer(conversation)
    message.refresh_from_db()
    return message


def _save_copy(mailbox: Mailbox, email: EmailMessage) -> str:
    """Put the sent copy in the Sent folder (as a mail program does); a failure is noted on
    the message, the message itself has gone."""
    if not mailbox.sent_folder:
        return ""
    try:
        with imap(mailbox) as box:
            box.append(email.as_bytes(), mailbox.sent_folder, flag_set=[MailMessageFlags.SEEN])
    except Exception as exc:
        log.warning("sent copy not saved: %s", type(exc).__name__, extra={"mailbox": mailbox.pk})
        return _("Sent, but the copy could not be put in the Sent folder.")
    return ""
