"""The clients, contacts and deals lists as a person shapes them: filters from a query string,
the columns they chose, and the records a bulk action may touch — always through visibility.

The pages and the background bulk task read the same function (``matching``), so "all N
matching the filter" in the task is exactly the list the person saw, re-read through their
visibility at the time the chunk runs (a manager who lost a record since cannot reach it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from crm_core.access import is_admin, visible_user_ids
from crm_core.currencies import sign
from crm_core.customfields import add_filter_fields, definitions, row_values
from crm_core.forms import ClientFilterForm, DealFilterForm, TaskFilterForm
from crm_core.models import Client, CustomField, SavedView, Task
from crm_core.queries.clients import (
    client_list,
    contact_list,
    editable_clients,
    editable_contacts,
)
from crm_core.queries.deals import deal_list, deal_marks, money_text, visible_deals
from crm_core.queries.members import assignable_members
from crm_core.queries.tasks import task_list, visible_tasks
from tenants.models import Membership

Entity = SavedView.Entity
FIELD_ENTITY = {
    Entity.CLIENTS: CustomField.Entity.CLIENT,
    Entity.CONTACTS: CustomField.Entity.CONTACT,
    Entity.DEALS: CustomField.Entity.DEAL,
}  # tasks have no custom fields
# Query-string keys that shape the page, not the selection.
NOT_FILTERS = {"page", "col", "view"}
CUSTOM = "cf:"


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Last or first name"), max_length=200, required=False)


@dataclass
class Listing:
    form: forms.Form
    records: QuerySet[Any]
    fields: list[CustomField]


def filters_only(query: str | QueryDict) -> QueryDict:
    """The query string without the page number, the columns and the view: what a view saves
    as its filters and what a bulk job selects by."""
    data = QueryDict(query, mutable=True) if isinstance(query, str) else query.copy()
    for key in NOT_FILTERS:
        data.pop(key, None)
    return data


def matching(
    membership: Membership,
    entity: str,
    query: str | QueryDict,
    members: list[tuple[int, str]] | None = None,
) -> Listing:
    """The list's records for this member and these filters (invalid filters are ignored, as
    the pages do: the form shows the error, the list shows everything visible). ``members``:
    the manager choices, when the caller has them already."""
    data = filters_only(query)
    if members is None and entity != Entity.CONTACTS:
        members = assignable_members(membership)
    bound = data or None
    field_entity = FIELD_ENTITY.get(Entity(entity))
    fields = definitions(field_entity) if field_entity else []
    if entity == Entity.TASKS:
        form: forms.Form = TaskFilterForm(bound, members=members or [])
        filters = form.cleaned_data if form.is_valid() else {}
        records: QuerySet[Any] = task_list(membership, filters, sort=filters.get("sort") or "")
    elif entity == Entity.CLIENTS:
        form = ClientFilterForm(bound, members=members or [])
        add_filter_fields(form, fields)
        filters = form.cleaned_data if form.is_valid() else {}
        records = client_list(membership, filters, fields, sort=filters.get("sort") or "new")
    elif entity == Entity.CONTACTS:
        form = ContactFilterForm(bound)
        filters = form.cleaned_data if form.is_valid() else {}
        records = contact_list(membership, filters.get("q") or "")
    else:
        form = DealFilterForm(bound, members=members or [], fields=fields)
        filters = form.cleaned_data if form.is_valid() else {}
        records = deal_list(membership, filters, fields, sort=filters.get("sort") or "new")
    return Listing(form=form, records=records, fields=fields)


def changeable(membership: Membership, entity: str) -> QuerySet[Any]:
    """The records of this list the member may change (a bulk action's outer bound)."""
    if entity == Entity.CLIENTS:
        return editable_clients(membership)
    if entity == Entity.CONTACTS:
        return editable_contacts(membership)
    if entity == Entity.TASKS:
        # A task the member sees is one they may act on (require_write bars the read-only).
        return visible_tasks(membership)
    return visible_deals(membership)


def selection(
    membership: Membership, entity: str, query: str, ids: Iterable[int], *, all_matching: bool
) -> QuerySet[Any]:
    """What a bulk action works on: the ticked ids (or everything matching the filters), cut
    to the records the member may change, unordered (the task walks it by id)."""
    chosen = changeable(membership, entity)
    listed = matching(membership, entity, query).records.order_by().values("pk")
    chosen = chosen.filter(pk__in=listed)
    if not all_matching:
        chosen = chosen.filter(pk__in=list(ids))
    return chosen.order_by()


# Columns a person may show, per list (the first column, the record's name, is always there).
Cell = tuple[str, str]  # text, link ("" for none)


def _responsible(record: Any) -> Cell:
    user = record.responsible
    return (user.get_full_name() if user is not None else "—", "")


def _client_link(client: Client | None) -> Cell:
    if client is None:
        return ("—", "")
    return (client.name, reverse("client_detail", args=[client.pk]))


def _when(value: Any) -> Cell:
    return (date_format(value, "SHORT_DATE_FORMAT") if value else "—", "")


def _due(task: Task) -> Cell:
    return (date_format(timezone.localtime(task.deadline), "SHORT_DATETIME_FORMAT"), "")


def _assignee(task: Task) -> Cell:
    user = task.assignee
    return (user.get_full_name() or user.email if user is not None else "—", "")


def _about(task: Task) -> Cell:
    """What the task is on: a deal, a client or a contact person (a personal task: nothing)."""
    if task.deal is not None:
        return (task.deal.title, reverse("deal_detail", args=[task.deal_id]))
    if task.client is not None:
        return _client_link(task.client)
    if task.contact is not None:
        return (str(task.contact), reverse("contact_edit", args=[task.contact_id]))
    return ("—", "")


def _status(task: Task) -> Cell:
    if task.done_at is not None:
        return (str(_("Done")), "")
    return (str(_("Overdue")) if task.deadline < timezone.now() else str(_("Open")), "")


COLUMNS: dict[str, list[tuple[str, Any, Callable[[Any], Cell]]]] = {
    Entity.CLIENTS: [
        ("relationship", _("Relationship"), lambda c: (c.get_relationship_display(), "")),
        ("inn", _("INN"), lambda c: (c.inn or "—", "")),
        ("tags", _("Tags"), lambda c: (", ".join(c.tags), "")),
        ("source", _("Source"), lambda c: (c.source, "")),
        ("industry", _("Industry"), lambda c: (c.industry, "")),
        ("responsible", _("Manager"), _responsible),
        ("created", _("Created"), lambda c: _when(c.created_at)),
    ],
    Entity.CONTACTS: [
        ("position", _("Position"), lambda c: (c.position, "")),
        ("client", _("Client"), lambda c: _client_link(c.client)),
        ("email", _("E-mail"), lambda c: (", ".join(c.emails), "")),
        ("responsible", _("Manager"), _responsible),
        ("created", _("Created"), lambda c: _when(c.created_at)),
    ],
    Entity.DEALS: [
        ("client", _("Client"), lambda d: _client_link(d.client)),
        ("stage", _("Stage"), lambda d: (d.stage.name, "")),
        ("amount", _("Amount"), lambda d: (f"{money_text(d.amount)}\xa0{sign(d.currency)}", "")),
        ("expected_close", _("Expected close"), lambda d: _when(d.expected_close)),
        ("responsible", _("Manager"), _responsible),
        ("source", _("Source"), lambda d: (d.source, "")),
        ("tags", _("Tags"), lambda d: (", ".join(d.tags), "")),
        ("created", _("Created"), lambda d: _when(d.created_at)),
        # Filled for the page's deals at once by `table` (deal_marks: the invoices' payment).
        ("payment", _("Payment"), lambda d: (", ".join(getattr(d, "mark_texts", [])) or "—", "")),
    ],
}
COLUMNS[Entity.TASKS] = [
    ("deadline", _("Deadline"), _due),
    ("kind", _("Type"), lambda t: (t.get_kind_display(), "")),
    ("assignee", _("Assignee"), _assignee),
    ("about", _("On"), _about),
    ("status", _("Status"), _status),
    ("created", _("Created"), lambda t: _when(t.created_at)),
]
DEFAULT_COLUMNS: dict[str, list[str]] = {
    Entity.CLIENTS: ["relationship", "inn", "tags", "source"],
    Entity.CONTACTS: ["position", "client", "email"],
    Entity.DEALS: ["client", "stage", "amount", "expected_close", "payment"],
    Entity.TASKS: ["deadline", "assignee", "about", "status"],
}


@dataclass
class Column:
    key: str
    label: str
    shown: bool


def column_choices(entity: str, fields: list[CustomField], chosen: list[str]) -> list[Column]:
    """Every column the list can show, with the ones shown ticked (for the column chooser)."""
    shown = set(chosen)
    columns = [Column(key, str(label), key in shown) for key, label, _read in COLUMNS[entity]]
    columns += [Column(CUSTOM + f.key, f.label, CUSTOM + f.key in shown) for f in fields]
    return columns


def chosen_columns(entity: str, asked: list[str], fields: list[CustomField]) -> list[str]:
    """The columns asked for in the URL (unknown ones dropped), or the list's defaults with
    the custom fields the admin shows in lists."""
    known = {key for key, _label, _read in COLUMNS[entity]} | {CUSTOM + f.key for f in fields}
    picked = [key for key in dict.fromkeys(asked) if key in known]
    if picked:
        return picked
    return DEFAULT_COLUMNS[entity] + [CUSTOM + f.key for f in fields if f.show_in_list]


def table(
    entity: str, records: list[Any], chosen: list[str], fields: list[CustomField]
) -> tuple[list[str], list[list[Cell]]]:
    """The header and the cells of the chosen columns for one page of records."""
    readers = {key: (str(label), read) for key, label, read in COLUMNS[entity]}
    by_key = {CUSTOM + f.key: f for f in fields}
    if entity == Entity.DEALS and "payment" in chosen:
        marks = deal_marks(record.pk for record in records)
        for record in records:
            record.mark_texts = [text for _code, text in marks.get(record.pk, [])]
    header = [readers[k][0] if k in readers else by_key[k].label for k in chosen]
    rows = []
    for record in records:
        cells: list[Cell] = []
        for key in chosen:
            if key in readers:
                cells.append(readers[key][1](record))
            else:
                cells.append((row_values(record, [by_key[key]])[0], ""))
        rows.append(cells)
    return header, rows


def saved_views(membership: Membership, entity: str) -> list[SavedView]:
    """The member's own views of this list and the ones shared with the company."""
    return list(
        SavedView.objects.filter(entity=entity).filter(
            Q(owner_id=membership.user_id) | Q(shared=True)
        )
    )


def view_for(membership: Membership, view_id: int, *, to_change: bool = False) -> SavedView:
    """A view the member may open (own or shared) — or change (own; shared ones: admins)."""
    from django.shortcuts import get_object_or_404

    views = SavedView.objects.filter(Q(owner_id=membership.user_id) | Q(shared=True))
    view = get_object_or_404(views, pk=view_id)
    if to_change and view.owner_id != membership.user_id and not is_admin(membership):
        from django.http import Http404

        raise Http404("only the owner or an admin changes a view")
    return view


def default_view(membership: Membership, views: list[SavedView]) -> SavedView | None:
    """The one of ``views`` (``saved_views``) this member opens first, if any."""
    return next((v for v in views if membership.user_id in v.default_for), None)


def sees_all(membership: Membership) -> bool:
    return visible_user_ids(membership) is None
