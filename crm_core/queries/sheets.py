"""The columns of a list's Excel export, shared by the page's export and the bulk export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm_core.customfields import row_values
from crm_core.models import CustomField, SavedView

Rows = Iterator[list[Any]]


def client_sheet(clients: QuerySet[Any], fields: Iterable[CustomField]) -> tuple[list[str], Rows]:
    fields = list(fields)
    headers = [
        _("Client"),
        _("Relationship"),
        _("Full legal name"),
        _("INN"),
        _("KPP"),
        _("Legal address"),
        _("Website"),
        _("Industry"),
        _("Tags"),
        _("Source"),
        _("Created"),
        *(f.label for f in fields),
    ]
    rows = (
        [
            c.name,
            c.get_relationship_display(),
            c.full_name,
            c.inn,
            c.kpp,
            c.legal_address,
            c.website,
            c.industry,
            c.tags,
            c.source,
            c.created_at,
            *row_values(c, fields),
        ]
        for c in clients.iterator(chunk_size=2000)
    )
    return headers, rows


def deal_sheet(deals: QuerySet[Any], fields: Iterable[CustomField]) -> tuple[list[str], Rows]:
    fields = list(fields)
    headers = [
        _("Deal"),
        _("Client"),
        _("Stage"),
        _("Amount"),
        _("Currency"),
        _("Source"),
        _("Expected close"),
        _("Created"),
        _("Reason for losing"),
        *(f.label for f in fields),
    ]
    rows = (
        [
            d.title,
            d.client.name if d.client else "",
            d.stage.name,
            d.amount,
            d.currency,
            d.source,
            d.expected_close,
            d.created_at,
            d.lost_reason,
            *row_values(d, fields),
        ]
        for d in deals.select_related("client", "stage").iterator(chunk_size=2000)
    )
    return headers, rows


def contact_sheet(contacts: QuerySet[Any], fields: Iterable[CustomField]) -> tuple[list[str], Rows]:
    fields = list(fields)
    headers = [
        _("Last name"),
        _("First name"),
        _("Middle name"),
        _("Position"),
        _("Client"),
        _("E-mail"),
        _("Created"),
        *(f.label for f in fields),
    ]
    rows = (
        [
            c.last_name,
            c.first_name,
            c.middle_name,
            c.position,
            c.client.name if c.client else "",
            c.emails,
            c.created_at,
            *row_values(c, fields),
        ]
        for c in contacts.select_related("client").iterator(chunk_size=2000)
    )
    return headers, rows


def task_sheet(tasks: QuerySet[Any], fields: Iterable[CustomField]) -> tuple[list[str], Rows]:
    """Tasks have no custom fields (``fields`` is empty)."""
    headers = [
        _("Task"),
        _("Type"),
        _("Deadline"),
        _("Assignee"),
        _("Deal"),
        _("Client"),
        _("Contact person"),
        _("Done"),
        _("Description"),
    ]
    rows = (
        [
            t.title,
            t.get_kind_display(),
            t.deadline,
            (t.assignee.get_full_name() or t.assignee.email) if t.assignee else "",
            t.deal.title if t.deal else "",
            t.client.name if t.client else "",
            str(t.contact) if t.contact else "",
            t.done_at or "",
            t.description,
        ]
        for t in tasks.select_related("assignee", "deal", "client", "contact").iterator(
            chunk_size=2000
        )
    )
    return headers, rows


SHEETS: dict[str, Any] = {
    SavedView.Entity.CLIENTS: client_sheet,
    SavedView.Entity.CONTACTS: contact_sheet,
    SavedView.Entity.DEALS: deal_sheet,
    SavedView.Entity.TASKS: task_sheet,
}
