"""Keeping a message the sync fetched: once, in its thread, on the right client, and — from
a stranger, where the mailbox says so — as a request through the capture pipeline."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy

from communications import signals
from communications.mime import ParsedMail, parse
from communications.models import Conversation, Mailbox, MailFolder, Message, MessageAttachment
from communications.services.conversations import note_message
from communications.services.matching import Match, match_addresses
from crm_core.automation.services import capture
from tenants.models import Company

log = logging.getLogger(__name__)
# Sent after a fetched message is kept, inside its transaction: (message, raw bytes).
mail_stored = Signal()
EMAIL = capture.register_channel("email", gettext_lazy("E-mail"))


def synthetic_id(mailbox: Mailbox, raw: bytes) -> str:
    """A message without a Message-ID is still kept once: its id is made from its bytes."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}.{mailbox.pk}@relata.invalid>"


def _thread_of(mailbox: Mailbox, mail: ParsedMail) -> Conversation | None:
    """The conversation the message answers: by In-Reply-To, then References (nearest first),
    among this mailbox's messages."""
    ids = mail.thread_ids
    if not ids:
        return None
    found = {
        m.message_id: m.conversation
        for m in Message.objects.filter(mailbox=mailbox, message_id__in=ids).select_related(
            "conversation"
        )
    }
    return next((found[i] for i in ids if i in found), None)


def _counterparts(mailbox: Mailbox, mail: ParsedMail, outgoing: bool) -> list[str]:
    own = mailbox.address.lower()
    if outgoing:
        return [a for a in [*mail.to, *mail.cc] if a != own]
    return [mail.from_address]


@transaction.atomic
def store(  # noqa: PLR0917  (the sync's one call per message)
    company: Company,
    mailbox: Mailbox,
    folder: MailFolder | None,
    uid: int | None,
    raw: bytes,
    seen: bool = False,
) -> Message | None:
    """Keep one fetched message and move the folder's position past it in the same
    transaction, so a sync that dies here resumes at the next message. None: already kept
    (the same Message-ID in this mailbox: a resumed or repeated sync, a copy in Sent)."""
    with connection.cursor() as cursor:
        # The server still has the message: a commit lost in a database crash is fetched
        # again with its folder position (same transaction), so no wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
    mail = parse(raw)
    message_id = mail.message_id or synthetic_id(mailbox, raw)
    if folder is not None and uid is not None:
        MailFolder.objects.filter(pk=folder.pk, last_uid__lt=uid).update(last_uid=uid)
    if Message.objects.filter(mailbox=mailbox, message_id=message_id).exists():
        return None
    # What sits in the Sent folder was sent from this mailbox whatever its From says (an alias,
    # another address of the same person); elsewhere, a letter from the mailbox's own address
    # is a copy of one it sent (a BCC to oneself, a phone's copy).
    in_sent = (
        folder is not None and bool(mailbox.sent_folder) and folder.name == mailbox.sent_folder
    )
    outgoing = in_sent or mail.from_address == mailbox.address.lower()
    when = mail.date or timezone.now()
    conversation = _thread_of(mailbox, mail)
    counterparts = _counterparts(mailbox, mail, outgoing)
    match = match_addresses(counterparts)
    if conversation is None:
        conversation = Conversation.objects.create(
            mailbox=mailbox,
            subject=mail.subject,
            counterpart=(counterparts[0] if counterparts else "")[:320],
            client=match.client,
            contact=match.contact,
            deal=match.deal,
            last_message_at=when,
        )
    elif conversation.contact_id is None and match.contact is not None:
        conversation.contact, conversation.client = match.contact, match.client
        conversation.deal = conversation.deal or match.deal
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT if outgoing else Message.Direction.IN,
        delivery=Message.Delivery.SENT if outgoing else Message.Delivery.RECEIVED,
        mailbox=mailbox,
        folder=folder,
        uid=uid,
        message_id=message_id,
        in_reply_to=mail.in_reply_to,
        references=" ".join(mail.references),
        from_address=mail.from_address,
        from_name=mail.from_name,
        to=mail.to,
        cc=mail.cc,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        sent_at=when,
        is_read=seen or outgoing,
        is_automatic=mail.automatic,
        problem="; ".join(mail.problems)[:500],
        size=len(raw),
    )
    if mail.problems:
        # Read as well as it could be; the source is kept so that nothing is lost.
        message.raw.save(f"{message.pk}.eml", ContentFile(raw), save=True)
        log.info("mail message kept with problems", extra={"problems": mail.problems})
    for part in mail.attachments:
        attachment = MessageAttachment(
            message=message, name=part.name, content_type=part.content_type, size=len(part.payload)
        )
        # Stored under a name of our own: the sender's ("..", "a/../b", 200 Cyrillic letters)
        # would make the storage refuse the file and the message with it, on every poll.
        attachment.file.save(stored_name(part.name), ContentFile(part.payload), save=False)
        attachment.save()
    note_message(conversation, message, when)
    # Other apps read what came in without this one knowing them (marketing: bounce reports).
    mail_stored.send(sender=Message, message=message, raw=raw)
    if _becomes_request(mailbox, conversation, message, match):
        _make_request(company, mailbox, conversation, mail)
    signals.message_stored.send(Mailbox, company=company, mailbox=mailbox, message=message)
    return message


def _becomes_request(
    mailbox: Mailbox, conversation: Conversation, message: Message, match: Match
) -> bool:
    """Only a person's first message to a mailbox that takes requests, from someone the CRM
    does not know, and never an automatic one (a loop of auto-replies makes no requests)."""
    return (
        mailbox.creates_requests
        and mailbox.request_form_id is not None
        and message.direction == Message.Direction.IN
        and not message.is_automatic
        and match.contact is None
        and conversation.lead_id is None
        and conversation.messages.count() == 1
        and bool(message.from_address)
    )


def _make_request(
    company: Company, mailbox: Mailbox, conversation: Conversation, mail: ParsedMail
) -> None:
    form = mailbox.request_form
    assert form is not None
    inbound = capture.Inbound(
        values={
            "name": mail.from_name or mail.from_address,
            "email": mail.from_address,
            "message": "\n\n".join(p for p in (mail.subject, mail.text.strip()[:1900]) if p),
        },
        # The per-address limit of the form counts per sender (a flood from one address).
        ip=f"email:{mail.from_address}",
    )
    try:
        with transaction.atomic():
            captured = capture.receive(company=company, form=form, channel=EMAIL, inbound=inbound)
    except capture.RefusedError as exc:
        # The message is kept in the inbox all the same; the refusal is on the request log.
        log.warning("mail request refused: %s", exc.code)
        return
    conversation.lead = captured.lead
    if captured.deal is not None:
        conversation.deal = captured.deal
        conversation.client = conversation.client or captured.deal.client
    conversation.save(update_fields=["lead", "deal", "client"])


_PLAIN_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def stored_name(name: str) -> str:
    """A random file name keeping a plain extension (the person sees ``name``)."""
    extension = _PLAIN_EXTENSION.search(name or "")
    return uuid.uuid4().hex + (extension.group(0).lower() if extension else "")
