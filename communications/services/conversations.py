"""What a new message does to its conversation, the same for every channel: the customer's
word makes it wait for an answer (since then), ours ends the wait; the first of each is kept
for the first-reply time."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from communications.models import Conversation, Message


def note_message(conversation: Conversation, message: Message, when: datetime) -> None:
    """A message kept in the conversation (fetched, or received by a bot's webhook)."""
    if when >= conversation.last_message_at:
        conversation.last_message_at = when
        if message.direction == Message.Direction.IN:
            # An auto-reply ("I am on holiday") is not something to answer.
            if not message.is_automatic and not conversation.awaiting_reply:
                conversation.awaiting_reply = True
                conversation.waiting_since = when
        else:
            conversation.awaiting_reply = False
            conversation.waiting_since = None
    if message.direction == Message.Direction.IN and conversation.first_inbound_at is None:
        conversation.first_inbound_at = when
    if message.direction == Message.Direction.OUT and conversation.first_inbound_at is not None:
        conversation.first_reply_at = conversation.first_reply_at or when
    conversation.save()


def note_answer(conversation: Conversation) -> None:
    """A reply of ours has gone: the conversation waits no more (written without reading the
    row back, so a message received meanwhile is not overwritten by a stale copy)."""
    now = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(
        awaiting_reply=False, waiting_since=None, last_message_at=now
    )
    Conversation.objects.filter(
        pk=conversation.pk, first_inbound_at__isnull=False, first_reply_at__isnull=True
    ).update(first_reply_at=now)
