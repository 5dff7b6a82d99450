"""Reads for telephony pages: only the calls a member may see (a client's or contact's call for
those who see the record; an unknown number's for everyone, as its pop-up was)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from crm_core.access import visible_user_ids
from crm_core.models import Deal
from crm_core.queries.clients import visible_clients, visible_contacts
from crm_core.queries.deals import visible_deals
from telephony.models import Call
from telephony.services import popups
from tenants.models import Membership


def visible_calls(membership: Membership) -> QuerySet[Call]:
    calls = Call.objects.select_related("client", "contact")
    if visible_user_ids(membership) is None:
        return calls
    return calls.filter(
        Q(client__in=visible_clients(membership))
        | Q(client__isnull=True, contact__in=visible_contacts(membership))
        | Q(client__isnull=True, contact__isnull=True)
    )


def call_for(membership: Membership, call_id: int) -> Call:
    """The call, or 404 alike for "no such call" and "not yours to see"."""
    call = visible_calls(membership).filter(pk=call_id).first()
    if call is None:
        raise Http404("no such call")
    return call


def popup_call(membership: Membership) -> Call | None:
    """The call ringing for this member right now, if she may still see its caller."""
    call_id = popups.shown_to(membership.user_id)
    if call_id is None:
        return None
    return visible_calls(membership).filter(pk=call_id).first()


def open_deals_of(membership: Membership, call: Call) -> list[Deal]:
    if call.client_id is None:
        return []
    return list(
        visible_deals(membership)
        .filter(client_id=call.client_id, closed_at__isnull=True)
        .select_related("stage")
        .order_by("-created_at")[:3]
    )
