"""Pages for the client base: the list, the card's edit form, contact persons, merging."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm_core.access import may_change, member_required
from crm_core.customfields import (
    PREFIX,
    add_fields,
    add_filter_fields,
    definitions,
    merged_values,
)
from crm_core.exports import xlsx_response
from crm_core.forms import ClientEditForm, ClientFilterForm, ContactForm
from crm_core.list_views import render_list
from crm_core.models import Client, Contact, CustomField
from crm_core.once_views import acts_once
from crm_core.queries.clients import (
    client_for,
    client_list,
    contact_for,
)
from crm_core.queries.sheets import client_sheet
from crm_core.services.clients import ContactInput, save_contact, update_client
from crm_core.services.merge import merge_clients
from crm_core.views import _errors_to_form, _fail, _members, _membership

Entity = CustomField.Entity


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _filtered_clients(
    request: HttpRequest,
) -> tuple[ClientFilterForm, QuerySet[Client], list[CustomField]]:
    membership = _membership(request)
    fields = definitions(Entity.CLIENT)
    form = ClientFilterForm(request.GET or None, members=_members(membership))
    add_filter_fields(form, fields)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, client_list(membership, filters, fields, sort=filters.get("sort") or "new"), fields


@member_required
@require_GET
def clients_page(request: HttpRequest) -> HttpResponseBase:
    return render_list(
        request,
        "clients",
        "crm_core/clients.html",
        extra={"relationship_tabs": _relationship_tabs(request)},
    )


def _relationship_tabs(request: HttpRequest) -> list[tuple[str, str, bool]]:
    """All · Clients · Partners · Suppliers over the list, keeping the other filters."""
    current = request.GET.get("relationship", "")
    tabs = []
    plural = {
        "": _("All"),
        Client.Relationship.CUSTOMER: _("Clients"),
        Client.Relationship.PARTNER: _("Partners"),
        Client.Relationship.SUPPLIER: _("Suppliers"),
    }
    for value, label in plural.items():
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("relationship", None)
        if value:
            query["relationship"] = value
        tabs.append((str(label), f"?{query.urlencode()}", value == current))
    return tabs


@member_required
@require_GET
def clients_export(request: HttpRequest) -> HttpResponseBase:
    """The list as filtered, to Excel: only the clients this member may see."""
    _form, clients, fields = _filtered_clients(request)
    headers, rows = client_sheet(clients, fields)
    return xlsx_response("clients.xlsx", _("Clients"), headers, rows)


def _client_form(
    client: Client,
    membership: Any,
    fields: list[CustomField],
    data: Any = None,
    prefix: str | None = None,
    *,
    members: list[tuple[int, str]] | None = None,
) -> ClientEditForm:
    """``members``: the assignable members when the caller has them already (the card)."""
    form = ClientEditForm(
        data,
        prefix=prefix,
        members=_members(membership) if members is None else members,
        initial={
            **{
                name: getattr(client, name)
                for name in ClientEditForm.base_fields
                if hasattr(client, name)
            },
            "tags": ", ".join(client.tags),
            "responsible": client.responsible_id,
            "foreign_tax_id": client.inn_status == Client.TaxIdStatus.FOREIGN,
        },
    )
    add_fields(form, fields, client.custom)
    return form


@member_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    membership = _membership(request)
    client = client_for(membership, client_id, to_change=True)
    fields = definitions(Entity.CLIENT)
    form = _client_form(client, membership, fields, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if not k.startswith(PREFIX)}
        data["custom"] = merged_values(fields, form.cleaned_data, client.custom)
        data["responsible_id"] = data.pop("responsible") or client.responsible_id
        try:
            update_client(membership=membership, client=client, **data)
        except PermissionDenied as exc:
            _fail(request, exc)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("client_detail", client_id=client.pk)
    return render(request, "crm_core/client_edit.html", {"client": client, "form": form})


def contact_initial(contact: Contact) -> dict[str, Any]:
    """A contact person's values as their form shows them."""
    return {
        "last_name": contact.last_name,
        "first_name": contact.first_name,
        "middle_name": contact.middle_name,
        "position": contact.position,
        "emails": "\n".join(contact.emails),
        "phones": "\n".join(p.raw for p in contact.phones.all()),
        "telegram": contact.messengers.get("telegram", ""),
        "whatsapp": contact.messengers.get("whatsapp", ""),
        "version": contact.version,
    }


def _contact_input(data: dict[str, Any]) -> ContactInput:
    return ContactInput(
        last_name=data["last_name"],
        first_name=data["first_name"],
        middle_name=data["middle_name"],
        position=data["position"],
        emails=data["emails"],
        phones=data["phones"],
        telegram=data["telegram"],
        whatsapp=data["whatsapp"],
    )


@member_required
@require_http_methods(["GET", "POST"])
@acts_once
def contact_edit(
    request: HttpRequest, client_id: int | None = None, contact_id: int | None = None
) -> HttpResponse:
    """Add a contact person to a client (or on their own), or change one."""
    membership = _membership(request)
    # A person seen only through a deal opens read-only (the phone to call); saving needs the
    # right to change them, which save_contact checks again.
    contact = contact_for(membership, contact_id) if contact_id else None
    client = client_for(membership, client_id, to_change=True) if client_id else None
    if client is None and contact is not None:
        client = contact.client
    read_only = contact is not None and not may_change(
        membership, contact.responsible_id, client.responsible_id if client else None
    )
    initial = contact_initial(contact) if contact is not None else {}
    form = ContactForm(request.POST or None, initial=initial)
    fields = definitions(Entity.CONTACT)
    add_fields(form, fields, contact.custom if contact else {})
    if read_only:
        for form_field in form.fields.values():
            form_field.disabled = True
    if request.method == "POST" and read_only:
        raise PermissionDenied("seen through a deal: read only")
    if request.method == "POST" and form.is_valid():
        data = _contact_input(form.cleaned_data)
        data.custom = merged_values(fields, form.cleaned_data, contact.custom if contact else {})
        try:
            saved = save_contact(
                membership=membership,
                company=request.company,  # type: ignore[attr-defined]
                client=client,
                contact=contact,
                data=data,
                version=form.cleaned_data.get("version") if contact is not None else None,
            )
        except PermissionDenied as exc:
            _fail(request, exc)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            if saved.client_id:
                return redirect("client_detail", client_id=saved.client_id)
            return redirect("contacts")
    return render(
        request,
        "crm_core/contact_edit.html",
        {"form": form, "client": client, "contact": contact, "read_only": read_only},
    )


@member_required
@require_GET
def contacts_page(request: HttpRequest) -> HttpResponseBase:
    return render_list(request, "contacts", "crm_core/contacts.html")


@member_required
@require_http_methods(["GET", "POST"])
def client_merge(request: HttpRequest, client_id: int, other_id: int) -> HttpResponse:
    """Two records of the same client side by side; merging keeps the first and all history."""
    membership = _membership(request)
    keep = client_for(membership, client_id, to_change=True)
    other = client_for(membership, other_id, to_change=True)
    if request.method == "POST":
        try:
            merged = merge_clients(membership=membership, keep=keep, other=other)
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Merged. Everything is on this card now."))
            return redirect("client_detail", client_id=merged.pk)
    rows = [
        (
            getattr(Client._meta.get_field(name), "verbose_name", name),
            getattr(keep, name),
            getattr(other, name),
        )
        for name in ("name", "inn", "kpp", "legal_address", "website", "industry", "source")
    ]
    counts = [
        (_("Contact persons"), keep.contacts.count(), other.contacts.count()),
        (_("Deals"), keep.deals.count(), other.deals.count()),
        (_("History"), keep.activities.count(), other.activities.count()),
    ]
    return render(
        request,
        "crm_core/client_merge.html",
        {"keep": keep, "other": other, "rows": rows, "counts": counts},
    )
