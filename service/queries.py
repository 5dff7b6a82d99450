"""Reads of tickets, always through what the acting member may see.

Owners, admins and read-only members see every ticket (as with crm_core's records); a head of
a team sees their team's and unassigned ones; a manager sees their own and the unassigned ones
(a ticket nobody has yet is there to be taken). Every lookup by id goes through ``ticket_for``,
which answers 404 for "missing" and "not yours" alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import StrIndex, Upper
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communications.models import Message as MailMessage
from crm_core.access import visible_user_ids
from crm_core.models import Client, Contact
from crm_core.queries.cards import Entry
from service.models import Priority, Queue, Ticket, TicketMessage
from tenants.models import Membership

PAGE = 50
SORTS = {
    "updated": ("-updated_at", "-id"),
    "new": ("-created_at", "-id"),
    "old": ("created_at", "id"),
    "due": ("sla_check_at", "id"),
}


def visible_tickets(membership: Membership) -> QuerySet[Ticket]:
    ids = visible_user_ids(membership)
    tickets = Ticket.objects.all()
    if ids is None:
        return tickets
    return tickets.filter(Q(assignee_id__in=ids) | Q(assignee_id__isnull=True))


def ticket_for(membership: Membership, ticket_id: int) -> Ticket:
    ticket = (
        visible_tickets(membership)
        .select_related("client", "contact", "queue__team", "sla_policy", "merged_into")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise Http404("no such ticket")
    return ticket


def may_read_letter(membership: Membership, message: MailMessage) -> bool:
    """A letter on a ticket (the customer's, or a reply as sent) and its files are for whoever
    sees the ticket, whether or not they read the support mailbox (communications asks)."""
    return visible_tickets(membership).filter(messages__mail_id=message.pk).exists()


def conversation(ticket: Ticket) -> list[TicketMessage]:
    return list(
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author", "mail")
        .prefetch_related("mail__attachments")
        .order_by("created_at", "id")
    )


class TicketFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Subject, number or e-mail"), max_length=200, required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[
            ("", gettext_lazy("Open (new, open, waiting)")),
            ("all", gettext_lazy("Any")),
            *Ticket.Status.choices,
        ],
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), required=False, choices=[("", "—"), *Priority.choices]
    )
    queue = forms.ModelChoiceField(
        label=gettext_lazy("Queue"), required=False, queryset=Queue.objects.none()
    )
    assignee = forms.TypedChoiceField(
        label=gettext_lazy("Assignee"), required=False, coerce=int, empty_value=None
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), required=False, choices=[("", "—"), *Ticket.Source.choices]
    )
    breached = forms.BooleanField(label=gettext_lazy("SLA missed"), required=False)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort"),
        required=False,
        choices=[
            ("updated", gettext_lazy("Recently updated")),
            ("new", gettext_lazy("Newest")),
            ("old", gettext_lazy("Oldest")),
            ("due", gettext_lazy("SLA due first")),
        ],
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.select_related("team")  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            (0, _("Nobody")),
            *members,
        ]


# A search that matches more than this many tickets is walked in recency order (the list's
# own index) instead of through the trigram index; the page says "more than" this many.
SEARCH_PROBE = 1000


@dataclass(frozen=True)
class Listing:
    """The list's tickets in order, and for a search how many matched: exact up to
    ``SEARCH_PROBE``; ``None`` when there was no search (pages never count the list)."""

    tickets: QuerySet[Ticket]
    found: int | None = None

    @property
    def many(self) -> bool:
        return self.found is not None and self.found > SEARCH_PROBE


def _searched(tickets: QuerySet[Ticket], text: str) -> tuple[QuerySet[Ticket], int]:
    """Tickets whose subject holds the text (or of that number or e-mail), and how many.

    How the rows are found depends on how many match, because a plan that suits one case is
    slow for the other, and PostgreSQL's guess from its statistics flips between them: a word
    one ticket in five holds (40,000 subjects) read through the trigram index, re-checked and
    sorted costs a third of a second, while walking the recency index stops after a page; a
    specific phrase walked that way reads all 200,000 rows, through the trigram index a few.
    So a bounded probe along the trigram index counts up to ``SEARCH_PROBE`` matches first;
    past that the page's query states the match with ``strpos``, which no index serves, and the
    planner walks the list's recency index and stops after a page."""
    number = text.lstrip("#")
    exact = Q(requester_email=text.lower())
    if number.isdigit() and len(number) < 19:
        exact |= Q(number=int(number))
    probe = tickets.filter(Q(subject__icontains=text) | exact).order_by()
    found = probe.values("pk")[: SEARCH_PROBE + 1].count()
    if found <= SEARCH_PROBE:
        return probe, found
    walked = tickets.alias(
        _at=StrIndex(Upper("subject"), Upper(Value(text, output_field=CharField())))
    ).filter(Q(_at__gt=0) | exact)
    return walked, found


def ticket_list(membership: Membership, filters: dict[str, Any]) -> Listing:
    tickets = visible_tickets(membership).filter(merged_into__isnull=True)
    status = filters.get("status") or ""
    if status == "":
        tickets = tickets.filter(
            status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING]
        )
    elif status != "all":
        tickets = tickets.filter(status=status)
    for key in ("priority", "source"):
        if filters.get(key):
            tickets = tickets.filter(**{key: filters[key]})
    if filters.get("queue") is not None:
        tickets = tickets.filter(queue=filters["queue"])
    assignee = filters.get("assignee")
    if assignee == 0:
        tickets = tickets.filter(assignee_id__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=assignee)
    if filters.get("breached"):
        tickets = tickets.filter(Q(first_response_breached=True) | Q(resolution_breached=True))
    found = None
    text = (filters.get("q") or "").strip()
    if text:
        tickets, found = _searched(tickets, text)
    order = SORTS.get(filters.get("sort") or "updated", SORTS["updated"])
    return Listing(tickets.order_by(*order), found)


def page_of(tickets: QuerySet[Ticket], page: int) -> tuple[list[Ticket], bool]:
    """One page, without COUNT over 200,000 rows: one row more tells whether there is a next.
    The page's ids come first from the ticket table alone (an index walk that stops after a
    page), then those rows with what the table shows — never a sort of wide joined rows."""
    start = (max(page, 1) - 1) * PAGE
    ids = list(tickets.values_list("pk", flat=True)[start : start + PAGE + 1])
    found = {
        t.pk: t
        for t in Ticket.objects.filter(pk__in=ids[:PAGE])
        .select_related("client", "queue__team", "assignee")
        .only(*LIST_FIELDS)
    }
    return [found[i] for i in ids[:PAGE] if i in found], len(ids) > PAGE


LIST_FIELDS = (
    "number",
    "subject",
    "status",
    "priority",
    "source",
    "requester_email",
    "requester_name",
    "sla_check_at",
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "first_response_breached",
    "resolution_breached",
    "paused_at",
    "merged_into",
    "updated_at",
    "created_at",
    "client__name",
    "queue__team__name",
    "assignee__full_name",
    "assignee__email",
)


def due_text(ticket: Ticket) -> tuple[str, str]:
    """The SLA cell: what is due next and whether it is late ("late", "soon" or "")."""
    if ticket.first_response_breached or ticket.resolution_breached:
        return str(_("SLA missed")), "late"
    if not ticket.is_open:
        return "", ""
    if ticket.paused_at is not None:
        return str(_("Paused")), ""
    due = (
        ticket.first_response_due_at
        if ticket.first_responded_at is None
        else ticket.resolution_due_at
    )
    if due is None:
        return "", ""
    left = due - timezone.now()
    return timezone.localtime(due).strftime(
        "%d.%m %H:%M"
    ), "soon" if left.total_seconds() < 3600 else ""


def feed_entries(kind: str, record: Any, membership: Membership) -> list[Entry]:
    """The client's and contact person's feed: their tickets (registered in hooks)."""
    found = visible_tickets(membership)
    if kind == "client" and isinstance(record, Client):
        found = found.filter(client=record)
    elif kind == "contact" and isinstance(record, Contact):
        found = found.filter(contact=record)
    else:
        return []
    return [
        Entry(
            when=t.created_at,
            kind="ticket",
            label=str(_("Ticket")),
            summary=f"#{t.number} {t.subject} · {t.get_status_display()}",
            url=reverse("ticket", args=[t.pk]),
        )
        for t in found.order_by("-created_at", "-id")[:30]
    ]


def client_tickets(membership: Membership, client: Client) -> list[Ticket]:
    return list(visible_tickets(membership).filter(client=client).order_by("-created_at")[:20])
