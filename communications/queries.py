"""Reads of mailboxes, conversations and messages, always through the member's visibility.

Who reads what:
- a personal mailbox: its owner and whoever the owner named as a reader — no one else, not
  even an admin (a person's mail is private unless shared);
- a shared mailbox (sales@): its readers, and the company's owners and admins;
- on a client's, contact person's or deal's card: the conversations of the mailboxes one
  reads, and those of shared mailboxes about a client or deal the member sees;
- a Telegram chat with the company's bot (one bot per company, like a shared mailbox): the
  owners and admins, and whoever sees its client, contact person, deal or request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from communications.inbox import InboxItem, conversation_url, inbox_sources
from communications.models import Channel, Conversation, Mailbox, Message, MessageAttachment
from crm_core.access import is_admin
from crm_core.models import Client, Contact, Deal
from crm_core.queries.cards import Entry
from crm_core.queries.clients import visible_clients, visible_contacts
from crm_core.queries.deals import visible_deals
from crm_core.queries.leads import visible_leads
from tenants.models import Membership


def readable_mailboxes(membership: Membership) -> QuerySet[Mailbox]:
    mine = Q(owner_id=membership.user_id) | Q(readers__user_id=membership.user_id)
    if is_admin(membership):
        mine |= Q(kind=Mailbox.Kind.SHARED)
    return Mailbox.objects.filter(pk__in=Mailbox.objects.filter(mine).values("pk")).order_by(
        "name", "id"
    )


def mailbox_for(membership: Membership, mailbox_id: int) -> Mailbox:
    return get_object_or_404(readable_mailboxes(membership), pk=mailbox_id)


def _bot_chats(membership: Membership) -> Q:
    """The Telegram chats a member sees: all for admins, else those about what they see."""
    telegram = Q(channel=Channel.TELEGRAM)
    if is_admin(membership):
        return telegram
    return telegram & (
        Q(client__in=visible_clients(membership).values("pk"))
        | Q(contact__in=visible_contacts(membership).values("pk"))
        | Q(deal__in=visible_deals(membership).values("pk"))
        | Q(lead__in=visible_leads(membership).values("pk"))
    )


def visible_conversations(membership: Membership) -> QuerySet[Conversation]:
    shared = Q(mailbox__kind=Mailbox.Kind.SHARED) & (
        Q(client__in=visible_clients(membership).values("pk"))
        | Q(deal__in=visible_deals(membership).values("pk"))
    )
    return Conversation.objects.filter(
        Q(mailbox__in=readable_mailboxes(membership).values("pk")) | shared | _bot_chats(membership)
    )


# Other parts of the product that show letters give their readers sight of them: customer
# service shows a ticket's letters (and their files) to whoever sees the ticket, mailbox reader
# or not. Each is asked "may this member read this message?"; communications imports none.
MessageAccess = Callable[[Membership, Message], bool]
MESSAGE_ACCESS: list[MessageAccess] = []


def register_message_access(check: MessageAccess) -> None:
    if check not in MESSAGE_ACCESS:
        MESSAGE_ACCESS.append(check)


def may_read_message(membership: Membership, message: Message) -> bool:
    """Whether the member reads the message: through its conversation (mailbox readers, the
    card's shared letters) or through a registered part of the product."""
    if visible_conversations(membership).filter(pk=message.conversation_id).exists():
        return True
    return any(check(membership, message) for check in MESSAGE_ACCESS)


def _inbox_scope(membership: Membership) -> Q:
    """What a person's inbox holds: the mailboxes they read and the bot's chats they see (a
    shared mailbox they do not read stays out of it, though its letters show on the cards)."""
    return Q(mailbox__in=readable_mailboxes(membership).values("pk")) | _bot_chats(membership)


def conversation_for(membership: Membership, conversation_id: int) -> Conversation:
    return get_object_or_404(
        visible_conversations(membership).select_related("mailbox", "client", "contact", "deal"),
        pk=conversation_id,
    )


def inbox(
    membership: Membership,
    *,
    mailbox: Mailbox | None = None,
    channel: str = "",
    waiting: bool = True,
) -> QuerySet[Conversation]:
    """The person's inbox: conversations of the mailboxes they read and the bot's chats they
    see; ``waiting``: only those whose last word was the customer's, the oldest first."""
    found = Conversation.objects.filter(_inbox_scope(membership))
    if mailbox is not None:
        found = found.filter(mailbox=mailbox)
    if channel:
        found = found.filter(channel=channel)
    found = found.select_related("mailbox", "client", "contact", "deal").annotate(
        unread=Count(
            "messages",
            filter=Q(messages__is_read=False, messages__direction=Message.Direction.IN),
        )
    )
    if waiting:
        return found.filter(awaiting_reply=True).order_by("waiting_since", "id")
    return found.order_by("-last_message_at", "-id")


def unread_counts(membership: Membership) -> dict[int, int]:
    """Unread received messages per mailbox the person reads."""
    rows = (
        Message.objects.filter(
            mailbox__in=readable_mailboxes(membership).values("pk"),
            is_read=False,
            direction=Message.Direction.IN,
        )
        .values("mailbox_id")
        .annotate(n=Count("id"))
    )
    return {row["mailbox_id"]: row["n"] for row in rows}


def waiting_count(membership: Membership, channel: str = "") -> int:
    """Conversations waiting for this person's answer (the menu's and the tabs' badges)."""
    found = Conversation.objects.filter(_inbox_scope(membership), awaiting_reply=True)
    if channel:
        found = found.filter(channel=channel)
    return found.count()


def has_bot_chats(membership: Membership) -> bool:
    return Conversation.objects.filter(_bot_chats(membership)).exists()


def waiting_items(membership: Membership, *, source: str = "", limit: int = 200) -> list[InboxItem]:
    """Everything waiting for an answer, oldest first: the waiting conversations (of one
    channel when ``source`` names it) and the registered sources' items (missed calls)."""
    items: list[InboxItem] = []
    sources = inbox_sources()
    if source in {"", Channel.EMAIL, Channel.TELEGRAM}:
        found = inbox(membership, channel=source)[:limit]
        items += [
            InboxItem(
                waiting_since=c.waiting_since or c.last_message_at,
                channel=c.channel,
                channel_label=str(c.get_channel_display()),
                who=str(c.contact) if c.contact else c.counterpart,
                summary=c.subject or str(_("(no subject)")),
                url=conversation_url(c),
                unread=c.unread,  # type: ignore[attr-defined]
                client=c.client,
                deal=c.deal,
            )
            for c in found
        ]
        if source:
            sources = []
    else:
        sources = [s for s in sources if s.key == source]
    for registered in sources:
        items += registered.waiting(membership, limit=limit)
    items.sort(key=lambda item: item.waiting_since)
    return items[:limit]


def badge(membership: Membership) -> int:
    """The menu's number: unread letters and everything else waiting for this person."""
    unread_mail = sum(unread_counts(membership).values())
    return (
        unread_mail
        + waiting_count(membership, Channel.TELEGRAM)
        + sum(s.count(membership) for s in inbox_sources())
    )


def sendable_mailboxes(membership: Membership) -> QuerySet[Mailbox]:
    """Mailboxes the person may send from: their own, and the shared ones they read. Leave to
    read a colleague's personal mailbox is not leave to write in the colleague's name."""
    return (
        readable_mailboxes(membership)
        .exclude(status=Mailbox.Status.PAUSED)
        .filter(Q(kind=Mailbox.Kind.SHARED) | Q(owner_id=membership.user_id))
    )


def stored_bytes() -> int:
    """Bytes of mail kept as files in the current company's schema: the letters' attachments
    and the raw sources kept of messages that could not be read cleanly (``Message.size`` is
    the source's length; only those with a stored ``raw`` file take room)."""
    attached = MessageAttachment.objects.aggregate(total=Sum("size"))["total"] or 0
    kept = Message.objects.exclude(raw="").aggregate(total=Sum("size"))["total"] or 0
    return int(attached) + int(kept)


def feed_entries(kind: str, record: Any, membership: Membership) -> list[Entry]:
    """The card feed's e-mail entries (registered with crm_core's feed in apps.py)."""
    if kind == "deal" and isinstance(record, Deal):
        about = Q(deal=record)
    elif kind == "client" and isinstance(record, Client):
        about = Q(client=record)
    elif kind == "contact" and isinstance(record, Contact):
        about = Q(contact=record)
    else:
        return []
    # Most records have no conversation at all: one look along the record's index saves
    # building and planning the visibility filter (~15 ms of a manager's card in a large
    # company, where its subqueries span every client, contact person and deal she sees).
    if not Conversation.objects.filter(about).exists():
        return []
    found = visible_conversations(membership).filter(about)
    messages = (
        Message.objects.filter(conversation__in=found.values("pk"))
        .select_related("conversation")
        .order_by("-sent_at", "-id")[:50]
    )
    return [
        Entry(
            when=m.sent_at,
            kind=m.channel,
            label=_label(m),
            summary=(m.subject or str(_("(no subject)")))
            if m.channel == Channel.EMAIL
            else _snippet(m.text, 120),
            author=m.from_name or m.from_address,
            deal=None,
            body=_snippet(m.text) if m.channel == Channel.EMAIL else "",
            url=conversation_url(m.conversation) + f"#message-{m.pk}",
        )
        for m in messages
    ]


def _label(message: Message) -> str:
    incoming = message.direction == Message.Direction.IN
    if message.channel == Channel.TELEGRAM:
        if message.delivery == Message.Delivery.FAILED:
            return str(_("Telegram message not sent"))
        return str(_("Telegram message received") if incoming else _("Telegram message sent"))
    return str(_("E-mail received") if incoming else _("E-mail sent"))


def _snippet(text: str, length: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
