"""Reads of clients and contact persons, always through the member's visibility."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.shortcuts import get_object_or_404

from crm_core.access import visible, visible_user_ids
from crm_core.customfields import filter_by
from crm_core.models import Client, Contact, CustomField, Deal
from crm_core.normalise import clean_inn
from relata.inputs import whole_number
from tenants.models import Membership

T = TypeVar("T", bound=Model)


def _deals_of(ids: set[int]) -> QuerySet[Deal]:
    return Deal.objects.filter(responsible_id__in=ids).order_by()


def visible_clients(membership: Membership) -> QuerySet[Client]:
    """The clients the member is responsible for (or sees by role) and the clients of the
    deals they see. The deal arm is ``id IN (SELECT client_id …)``, which PostgreSQL runs once
    as a hashed subplan (the member's deals, along deal_responsible_idx), not once per row."""
    ids = visible_user_ids(membership)
    clients = Client.objects.all()
    if ids is None:
        return clients
    return clients.filter(
        Q(responsible_id__in=ids)
        | Q(pk__in=_deals_of(ids).filter(client__isnull=False).values("client_id"))
    )


def editable_clients(membership: Membership) -> QuerySet[Client]:
    """The clients the member may change: by their own responsible only, not through a deal."""
    return visible(Client.objects.all(), membership)


def recent_clients(*, membership: Membership, limit: int = 50) -> QuerySet[Client]:
    return visible_clients(membership)[:limit]


def client_for(membership: Membership, client_id: int, *, to_change: bool = False) -> Client:
    found = editable_clients(membership) if to_change else visible_clients(membership)
    return get_object_or_404(found, pk=client_id)


def visible_contacts(membership: Membership) -> QuerySet[Contact]:
    """A member sees the contact persons they are responsible for, those of the clients they
    see, and those named on the deals they see."""
    ids = visible_user_ids(membership)
    contacts = Contact.objects.all()
    if ids is None:
        return contacts
    deals = _deals_of(ids)
    return contacts.filter(
        Q(responsible_id__in=ids)
        | Q(client__responsible_id__in=ids)
        | Q(client_id__in=deals.filter(client__isnull=False).values("client_id"))
        | Q(pk__in=Deal.contacts.through.objects.filter(deal__in=deals).values("contact_id"))
    )


def editable_contacts(membership: Membership) -> QuerySet[Contact]:
    ids = visible_user_ids(membership)
    contacts = Contact.objects.all()
    if ids is None:
        return contacts
    return contacts.filter(Q(responsible_id__in=ids) | Q(client__responsible_id__in=ids))


def contact_for(membership: Membership, contact_id: int, *, to_change: bool = False) -> Contact:
    found = editable_contacts(membership) if to_change else visible_contacts(membership)
    return get_object_or_404(found, pk=contact_id)


CLIENT_SORTS = {"new": ("-created_at", "-id"), "old": ("created_at", "id"), "name": ("name", "id")}


def client_list(
    membership: Membership,
    filters: Mapping[str, Any],
    fields: Iterable[CustomField] = (),
    sort: str = "new",
) -> QuerySet[Client]:
    clients = visible_clients(membership)
    query = (filters.get("q") or "").strip()
    if query:
        digits = "".join(ch for ch in query if ch in "0123456789")
        if digits and len(digits) == len(query.replace(" ", "")):
            try:
                inn, _status = clean_inn(digits)
            except ValidationError:  # not a valid INN: look for it as typed
                inn = digits
            clients = clients.filter(inn=inn)
        else:
            clients = clients.filter(name__icontains=query)
    if filters.get("relationship") in Client.Relationship.values:
        clients = clients.filter(relationship=filters["relationship"])
    if filters.get("responsible"):
        clients = clients.filter(responsible_id=filters["responsible"])
    if filters.get("tag"):
        clients = clients.filter(tags__contains=[filters["tag"]])
    if filters.get("source"):
        clients = clients.filter(source=filters["source"])
    clients = filter_by(clients, fields, filters)
    return clients.order_by(*CLIENT_SORTS.get(sort, CLIENT_SORTS["new"]))


def contact_list(membership: Membership, query: str = "") -> QuerySet[Contact]:
    contacts = visible_contacts(membership).select_related("client")
    if query.strip():
        word = query.strip()
        contacts = contacts.filter(Q(last_name__istartswith=word) | Q(first_name__istartswith=word))
    return contacts.order_by("last_name", "first_name", "id")


@dataclass
class Page(Generic[T]):
    """One page of a long list, without counting the whole list: at a million contacts a
    COUNT(*) costs more than the page itself, and nobody reads page 20,000."""

    items: list[T]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_of(queryset: QuerySet[T], number: str | None, size: int = 50) -> Page[T]:
    page = whole_number(number, below=10_000) or 1
    start = (page - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Page(items=rows[:size], number=page, has_next=len(rows) > size)
