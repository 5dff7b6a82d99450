"""The one inbox: everything a person still has to answer, whatever the channel, oldest first.

Conversations (e-mail, Telegram) are this app's own table and are read directly. Other things
that wait for an answer without being a conversation — a missed call not yet called back — come
from the apps that own them through a registry, so communications never imports telephony (or
any channel app): each source registers itself in its ``AppConfig.ready``.

The channel apps also say where one of their conversations opens (``register_conversation_page``):
a Telegram chat has a page of its own, with the bot's reply form, that communications does not
know how to build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.urls import reverse

from tenants.models import Membership

if TYPE_CHECKING:
    from communications.models import Conversation


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One thing to answer, as the inbox lists it."""

    waiting_since: datetime
    channel: str  # the source's key: "email", "telegram", "calls"…
    channel_label: str
    who: str
    summary: str
    url: str
    unread: int = 0
    client: Any = None  # crm_core.Client, when known and visible
    deal: Any = None


class InboxSource(Protocol):
    """A registered source of things waiting for an answer (not conversations)."""

    key: str

    def label(self) -> str:
        """The name of the source's tab in the inbox ("Missed calls")."""

    def waiting(self, membership: Membership, *, limit: int) -> list[InboxItem]:
        """What this member has to answer, oldest first; only what the member may see."""

    def count(self, membership: Membership) -> int:
        """How many of them (the menu's badge)."""


_SOURCES: dict[str, InboxSource] = {}
_PAGES: dict[str, Callable[[Conversation], str]] = {}


def register_inbox_source(source: InboxSource) -> None:
    _SOURCES[source.key] = source


def inbox_sources() -> list[InboxSource]:
    return list(_SOURCES.values())


def inbox_source(key: str) -> InboxSource | None:
    return _SOURCES.get(key)


def register_conversation_page(channel: str, url_of: Callable[[Conversation], str]) -> None:
    """Where a conversation of ``channel`` opens (its app's own page)."""
    _PAGES[channel] = url_of


def conversation_url(conversation: Conversation) -> str:
    url_of = _PAGES.get(conversation.channel)
    if url_of is not None:
        return url_of(conversation)
    return reverse("mail_conversation", args=[conversation.pk])
