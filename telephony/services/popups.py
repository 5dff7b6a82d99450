"""The incoming-call pop-up: a cache key per person (the cache's key function puts the company's
schema in front, so two companies never share one) naming the call that rings for them.

The browser polls a cheap endpoint that reads only this key; the database is read only while a
call is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache

from crm_core.access import visible_user_ids
from crm_core.queries.clients import visible_clients, visible_contacts
from tenants.models import Company, Membership

if TYPE_CHECKING:
    from telephony.models import Call

# A call that rang stays on the person's screen this long unless closed.
SHOWN_SECONDS = 10 * 60


def key(user_id: int) -> str:
    return f"telephony:popup:{user_id}"


def ring(company: Company, call: Call) -> list[int]:
    """Show the call to the person whose extension rings, or to everyone when the extension is
    nobody's — only to those who may see the caller. The ids it was shown to."""
    people = recipients(company, call)
    if people:
        cache.set_many({key(user_id): call.pk for user_id in people}, timeout=SHOWN_SECONDS)
    return people


def recipients(company: Company, call: Call) -> list[int]:
    members = list(
        Membership.objects.filter(company=company, is_active=True).exclude(
            role=Membership.Role.READ_ONLY
        )
    )
    mapped = [m for m in members if call.manager_id and m.user_id == call.manager_id]
    return [m.user_id for m in (mapped or members) if may_see_caller(m, call)]


def may_see_caller(membership: Membership, call: Call) -> bool:
    """An unknown number is anyone's to answer; a client's or contact's call is for those who
    see the record."""
    if visible_user_ids(membership) is None:
        return True
    if call.client_id is not None:
        return visible_clients(membership).filter(pk=call.client_id).exists()
    if call.contact_id is not None:
        return visible_contacts(membership).filter(pk=call.contact_id).exists()
    return True


def shown_to(user_id: int) -> int | None:
    value = cache.get(key(user_id))
    return int(value) if isinstance(value, int) else None


def close(user_id: int) -> None:
    cache.delete(key(user_id))
