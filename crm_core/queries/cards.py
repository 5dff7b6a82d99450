"""Reads for the record cards (deal, client, contact person): one feed of what happened, with
the open tasks pinned on top and their due state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.models import Activity, Client, Contact, Deal, Lead, Task
from tenants.models import Membership

FEED_LENGTH = 100


@dataclass(slots=True)
class PinnedTask:
    task: Task
    due: str  # "overdue", "today" or "later"


@dataclass(slots=True)
class Entry:
    """One line of the feed: an activity (note, call, stage change, file…) or a request."""

    when: datetime
    kind: str
    label: str
    summary: str
    author: str = ""
    deal: Deal | None = None
    body: str = ""
    url: str = ""  # where the entry opens (an e-mail's conversation)
    duration: str = ""  # a call's talk time, "3:05"
    recording_url: str = ""


@dataclass(slots=True)
class Feed:
    pinned: list[PinnedTask] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.pinned or self.entries)


# Other parts of the product add their entries to the feeds (e-mail from communications/)
# without crm_core importing them: each source gets ("deal" | "client" | "contact", the record,
# the member looking) and returns the entries that member may see.
FeedSource = Callable[[str, Any, Membership], list[Entry]]
_SOURCES: list[FeedSource] = []


def register_feed_source(source: FeedSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def _more(kind: str, record: Any, viewer: Membership | None) -> list[Entry]:
    if viewer is None:
        return []
    return [entry for source in _SOURCES for entry in source(kind, record, viewer)]


def talk_time(seconds: int | None) -> str:
    """A call's length as people read it on a phone: "0:42", "3:05", "1:02:10"."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def due_state(deadline: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if deadline < now:
        return "overdue"
    if timezone.localdate(deadline) == timezone.localdate(now):
        return "today"
    return "later"


def _feed(
    tasks: QuerySet[Task],
    activities: QuerySet[Activity],
    leads: QuerySet[Lead],
    more: list[Entry] | None = None,
) -> Feed:
    now = timezone.now()
    open_tasks = tasks.filter(done_at__isnull=True).select_related("assignee").order_by("deadline")
    entries = [
        Entry(
            when=a.happened_at,
            kind=a.kind,
            label=a.get_kind_display(),
            summary=a.summary,
            author=a.author.get_full_name() if a.author else "",
            deal=a.deal,
            body=a.body if a.body.strip() != a.summary.strip() else "",
            duration=talk_time(a.duration_seconds),
            recording_url=a.recording_url,
        )
        for a in activities.select_related("author", "deal")[:FEED_LENGTH]
    ]
    entries += [
        Entry(
            when=lead.created_at,
            kind="request",
            label=str(_("Request")),
            summary=" · ".join(p for p in (lead.name, lead.phone, lead.email, lead.source) if p),
            body=lead.message,
        )
        for lead in leads.order_by("-created_at")[:20]
    ]
    entries += more or []
    entries.sort(key=lambda e: e.when, reverse=True)
    return Feed(
        pinned=[PinnedTask(task, due_state(task.deadline, now)) for task in open_tasks[:50]],
        entries=entries[:FEED_LENGTH],
    )


def deal_feed(deal: Deal, viewer: Membership | None = None) -> Feed:
    """Everything on one deal: open tasks first (the soonest on top), then the newest events.
    ``viewer``: the member looking, for the entries other parts add (e-mail)."""
    return _feed(
        Task.objects.filter(deal=deal),
        Activity.objects.filter(deal=deal),
        Lead.objects.filter(deal=deal),
        _more("deal", deal, viewer),
    )


def client_feed(client: Client, viewer: Membership | None = None) -> Feed:
    return _feed(
        Task.objects.filter(client=client),
        Activity.objects.filter(client=client),
        Lead.objects.filter(deal__client=client),
        _more("client", client, viewer),
    )


def contact_feed(contact: Contact, viewer: Membership | None = None) -> Feed:
    """What happened with a contact person: their own entries and those of their deals."""
    deals = Deal.objects.filter(contacts=contact)
    return _feed(
        Task.objects.filter(Q(contact=contact) | Q(deal__in=deals)),
        Activity.objects.filter(Q(contact=contact) | Q(deal__in=deals)),
        Lead.objects.filter(deal__in=deals),
        _more("contact", contact, viewer),
    )
