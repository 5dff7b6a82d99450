"""Merging two contact persons or two deals (clients: client_views.client_merge)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm_core.access import member_required
from crm_core.models import Contact, Deal
from crm_core.queries.clients import contact_for, editable_contacts
from crm_core.queries.deals import deal_for, money_text, visible_deals
from crm_core.services.merge import CONTACT_FIELDS, DEAL_FIELDS, merge_contacts, merge_deals
from tenants.models import Membership, User


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _text(record: Any, name: str) -> str:
    value = getattr(record, name)
    if value in (None, ""):
        return ""
    if name == "client_id":
        return record.client.name if record.client else ""
    if name == "responsible_id":
        user = User.objects.filter(pk=value).first()
        return user.get_full_name() if user else ""
    if name == "amount":
        return f"{money_text(value)} ₽"
    if name == "expected_close":
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _rows(model: type[Any], keep: Any, other: Any, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per field: both values, and whether there is a choice to make."""
    rows = []
    for name in names:
        field = model._meta.get_field(name.removesuffix("_id"))
        mine, theirs = _text(keep, name), _text(other, name)
        rows.append(
            {
                "name": name,
                "label": str(field.verbose_name),
                "keep": mine,
                "other": theirs,
                "choice": bool(mine and theirs and mine != theirs),
            }
        )
    return rows


def _merge_page(
    request: HttpRequest,
    *,
    kind: str,
    keep: Any,
    other: Any,
    rows: list[dict[str, Any]],
    counts: list[tuple[str, int, int]],
    merge: Any,
    done_url: str,
    swap_url: str,
) -> HttpResponse:
    if request.method == "POST":
        take_other = {row["name"] for row in rows if request.POST.get(row["name"]) == "other"}
        try:
            merge(membership=_membership(request), keep=keep, other=other, take_other=take_other)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(
                request,
                "; ".join(exc.messages)
                if isinstance(exc, ValidationError)
                else _("You may not change one of these records."),
            )
        else:
            messages.success(request, _("Merged. Everything is on this card now."))
            return redirect(done_url)
    return render(
        request,
        "crm_core/record_merge.html",
        {
            "kind": kind,
            "keep": keep,
            "other": other,
            "rows": rows,
            "counts": counts,
            "swap_url": swap_url,
            "back_url": done_url,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def contact_merge(request: HttpRequest, contact_id: int, other_id: int) -> HttpResponse:
    """Two records of the same person side by side: the first survives; for each differing
    field the person picks which value stays."""
    membership = _membership(request)
    keep = contact_for(membership, contact_id, to_change=True)
    other = contact_for(membership, other_id, to_change=True)
    counts = [
        (_("Phones"), keep.phones.count(), other.phones.count()),
        (_("Deals"), keep.deals.count(), other.deals.count()),
    ]
    return _merge_page(
        request,
        kind="contact",
        keep=keep,
        other=other,
        rows=_rows(Contact, keep, other, CONTACT_FIELDS),
        counts=counts,
        merge=merge_contacts,
        done_url=reverse("contact_card", args=[keep.pk]),
        swap_url=reverse("contact_merge", args=[other.pk, keep.pk]),
    )


@member_required
@require_http_methods(["GET", "POST"])
def deal_merge(request: HttpRequest, deal_id: int, other_id: int) -> HttpResponse:
    membership = _membership(request)
    keep = deal_for(membership, deal_id)
    other = deal_for(membership, other_id)
    counts = [
        (_("Tasks"), keep.tasks.count(), other.tasks.count()),
        (_("History"), keep.activities.count(), other.activities.count()),
        (_("Products"), keep.items.count(), other.items.count()),
    ]
    return _merge_page(
        request,
        kind="deal",
        keep=keep,
        other=other,
        rows=_rows(Deal, keep, other, DEAL_FIELDS),
        counts=counts,
        merge=merge_deals,
        done_url=reverse("deal_detail", args=[keep.pk]),
        swap_url=reverse("deal_merge", args=[other.pk, keep.pk]),
    )


@member_required
@require_http_methods(["GET"])
def merge_pick(request: HttpRequest, record_id: int, kind: str) -> HttpResponse:
    """From a card: choose the duplicate to merge into this record (the likely ones first:
    the same client's, the same name or title; or found by what the person types)."""
    membership = _membership(request)
    query = request.GET.get("q", "").strip()[:100]
    if kind == "contact":
        record: Any = contact_for(membership, record_id, to_change=True)
        candidates: Any = (
            editable_contacts(membership).exclude(pk=record.pk).select_related("client")
        )
        if query:
            candidates = candidates.filter(
                Q(last_name__istartswith=query) | Q(first_name__istartswith=query)
            )
        else:
            candidates = candidates.filter(
                Q(last_name__iexact=record.last_name, first_name__iexact=record.first_name)
                | (Q(client_id=record.client_id) if record.client_id else Q(pk__in=[]))
            )
        url_name = "contact_merge"
    else:
        record = deal_for(membership, record_id)
        candidates = visible_deals(membership).exclude(pk=record.pk).select_related("client")
        if query:
            candidates = candidates.filter(title__icontains=query)
        else:
            candidates = candidates.filter(
                Q(title__iexact=record.title)
                | (Q(client_id=record.client_id) if record.client_id else Q(pk__in=[]))
            )
        url_name = "deal_merge"
    return render(
        request,
        "crm_core/merge_pick.html",
        {
            "kind": kind,
            "record": record,
            "q": query,
            "candidates": [(c, reverse(url_name, args=[record.pk, c.pk])) for c in candidates[:30]],
        },
    )
