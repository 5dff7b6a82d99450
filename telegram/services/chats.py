"""A client's chat with the company's bot as a conversation of the inbox and the card.

Every client message the webhook keeps (``TelegramMessage``, the raw record the request
matching works on) is also written as a ``communications`` message of channel "telegram" in
the chat's conversation, so the person's inbox, the card's feed and the first-reply report see
it as they see mail. A manager's reply goes out through the bot (text, or a file as a
document) and is kept the same way; a reply Telegram refuses is kept as "not sent" with the
reason, so nothing typed is lost.
"""

from __future__ import annotations

import logging
import mimetypes

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communications.models import Channel, Conversation, Message, MessageAttachment
from communications.services.conversations import note_answer, note_message
from crm_core.access import require_write
from telegram import botapi
from telegram.models import TelegramMessage
from telegram.services.connection import current_bot, token_of
from tenants.models import Membership

log = logging.getLogger(__name__)

MAX_TEXT = 4096
SUBJECT_LENGTH = 120


class ReplyError(Exception):
    """The reply did not go (kept as "not sent"); the text says why, for the manager."""


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUBJECT_LENGTH else flat[: SUBJECT_LENGTH - 1] + "…"


def chat_of(chat_id: int) -> Conversation | None:
    return (
        Conversation.objects.filter(channel=Channel.TELEGRAM, external_id=str(chat_id))
        .order_by("id")
        .first()
    )


def record_incoming(stored: TelegramMessage) -> Message:
    """The client's message in its chat's conversation (inside the webhook's transaction)."""
    conversation = chat_of(stored.chat_id)
    counterpart = stored.from_name or (
        f"@{stored.from_username}" if stored.from_username else str(stored.from_id)
    )
    if conversation is None:
        conversation = Conversation.objects.create(
            channel=Channel.TELEGRAM,
            external_id=str(stored.chat_id),
            counterpart=counterpart[:320],
            last_message_at=stored.sent_at,
        )
    text = stored.text or (
        _("Shared the phone number %(phone)s") % {"phone": stored.phone} if stored.phone else ""
    )
    message = Message.objects.create(
        conversation=conversation,
        channel=Channel.TELEGRAM,
        direction=Message.Direction.IN,
        message_id=f"telegram:{stored.update_id}",
        from_name=counterpart[:300],
        from_address=f"@{stored.from_username}" if stored.from_username else "",
        text=text,
        sent_at=stored.sent_at,
        size=len(text.encode()),
    )
    conversation.subject = _shown(text) or conversation.subject
    note_message(conversation, message, stored.sent_at)
    match_chat(stored.chat_id)
    return message


def match_chat(chat_id: int) -> None:
    """The chat's conversation takes the contact person, client and request its messages were
    matched to (a phone shared later, a request made from them)."""
    latest = (
        TelegramMessage.objects.filter(chat_id=chat_id)
        .exclude(contact=None, client=None, lead=None)
        .order_by("-id")
        .first()
    )
    if latest is None:
        return
    Conversation.objects.filter(channel=Channel.TELEGRAM, external_id=str(chat_id)).update(
        contact=latest.contact, client=latest.client, lead=latest.lead
    )


def clean_reply(text: str, upload: UploadedFile | None) -> str:
    text = text.strip()
    if not text and upload is None:
        raise ValidationError(_("Write a message or choose a file."), code="empty")
    if len(text) > MAX_TEXT:
        raise ValidationError(
            _("A Telegram message holds at most %(n)s characters.") % {"n": MAX_TEXT},
            code="too_long",
        )
    if upload is not None and (upload.size or 0) > botapi.MAX_UPLOAD:
        raise ValidationError(
            _("The file is larger than %(mb)s MB; Telegram bots cannot send it.")
            % {"mb": botapi.MAX_UPLOAD // (1024 * 1024)},
            code="too_large",
        )
    return text


def reply(
    *,
    membership: Membership,
    conversation: Conversation,
    text: str,
    upload: UploadedFile | None = None,
) -> Message:
    """Send a manager's reply through the bot and keep it in the conversation. The caller has
    found the conversation through the member's visibility (``conversation_for``)."""
    require_write(membership)
    if conversation.channel != Channel.TELEGRAM or not conversation.external_id:
        raise PermissionDenied("not a Telegram chat")
    text = clean_reply(text, upload)
    bot = current_bot()
    if bot is None:
        raise ReplyError(_("The company's Telegram bot is not connected."))
    content = upload.read() if upload is not None else b""
    name = (upload.name or "file") if upload is not None else ""
    content_type = ""
    if upload is not None:
        content_type = upload.content_type or mimetypes.guess_type(name)[0] or ""
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            channel=Channel.TELEGRAM,
            direction=Message.Direction.OUT,
            from_name=f"@{bot.username}",
            text=text,
            sent_at=timezone.now(),
            is_read=True,
            author_id=membership.user_id,
            delivery=Message.Delivery.FAILED,
            problem=_("Sending…"),
            size=len(text.encode()) + len(content),
        )
        if upload is not None:
            attachment = MessageAttachment(
                message=message, name=name[:255], content_type=content_type, size=len(content)
            )
            attachment.file.save(f"telegram-{message.pk}", upload, save=False)
            attachment.save()
    try:
        _send(
            bot_token=token_of(bot),
            chat_id=int(conversation.external_id),
            text=text,
            name=name,
            content=content,
            content_type=content_type,
            has_file=upload is not None,
        )
    except botapi.BotApiError as exc:
        reason = _reason(exc)
        Message.objects.filter(pk=message.pk).update(problem=reason[:500])
        log.warning("telegram reply refused: %s", exc.code)
        raise ReplyError(reason) from None
    Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.SENT, problem="")
    note_answer(conversation)
    message.refresh_from_db()
    return message


def _send(
    *,
    bot_token: str,
    chat_id: int,
    text: str,
    name: str,
    content: bytes,
    content_type: str,
    has_file: bool,
) -> None:
    if not has_file:
        botapi.send_message(bot_token, chat_id, text)
        return
    caption = text if len(text) <= botapi.CAPTION_LENGTH else ""
    if text and not caption:
        # Too long for a caption: the text first, then the file on its own.
        botapi.send_message(bot_token, chat_id, text)
    botapi.send_document(
        bot_token, chat_id, name=name, content=content, content_type=content_type, caption=caption
    )


def _reason(exc: botapi.BotApiError) -> str:
    if exc.code == 403:
        return _("The client has blocked the bot: Telegram will not deliver the message.")
    if exc.code == 0:
        return _("Telegram could not be reached; the message is kept, try again later.")
    return _("Telegram refused the message (%(reason)s).") % {"reason": exc.description or exc.code}
