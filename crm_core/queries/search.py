"""One search box over clients, contact persons and deals, within the member's visibility.

- any 4+ consecutive digits find a phone (trigram index on E.164 numbers);
- 10 or 12 digits also find a client by INN;
- an e-mail finds contact persons by e-mail;
- words find clients, contact persons and deals by name, tolerating typos (pg_trgm word
  similarity, served by the same trigram indexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.postgres.search import TrigramWordDistance
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from crm_core.access import visible
from crm_core.models import Client, Contact, ContactName, Deal, Phone
from crm_core.queries.clients import visible_clients, visible_contacts
from relata.db import set_local
from tenants.models import Membership

LIMIT = 10
# pg_trgm's default (0.6) misses one-letter typos in short words ("Рамашка" for "Ромашка").
WORD_SIMILARITY = 0.4
_DIGITS = re.compile(r"\D+")


@dataclass
class SearchResults:
    query: str
    clients: list[Client] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.clients or self.contacts or self.deals)


@cache
def trigrams_available() -> bool:
    """pg_trgm is on managed PostgreSQL; the embedded development server lacks it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def search(membership: Membership, query: str) -> SearchResults:
    if not trigrams_available():
        return _search(membership, query, typos=False)
    with transaction.atomic():
        # SET LOCAL (not set_config) so that on Citus the workers that search use it too.
        set_local("pg_trgm.word_similarity_threshold", str(WORD_SIMILARITY))
        return _search(membership, query, typos=True)


def _search(membership: Membership, query: str, *, typos: bool) -> SearchResults:
    text = " ".join(query.split())[:100]
    results = SearchResults(query=text)
    if len(text) < 2:
        return results
    clients = visible_clients(membership)
    contacts = visible_contacts(membership).select_related("client")
    deals = visible(Deal.objects.select_related("client", "stage"), membership)

    digits = _DIGITS.sub("", text)
    if len(digits) >= 4 and len(digits) >= len(text.replace(" ", "")) - 4:
        owners = _phone_owners(digits)
        client_ids = {client for client, _contact in owners if client}
        contact_ids = {contact for _client, contact in owners if contact}
        if contact_ids:
            client_ids |= set(
                Contact.objects.filter(pk__in=contact_ids, client__isnull=False).values_list(
                    "client_id", flat=True
                )
            )
        by_id = Q(pk__in=client_ids)
        if len(digits) in (10, 12):
            by_id |= Q(inn=digits)
        results.clients = list(clients.filter(by_id).order_by("name")[:LIMIT])
        results.contacts = list(contacts.filter(pk__in=contact_ids)[:LIMIT])
        return results
    if "@" in text:
        results.contacts = list(contacts.filter(pk__in=_with_email(text.lower()))[:LIMIT])
        return results

    if not typos:
        results.clients = list(clients.filter(name__icontains=text).order_by("name")[:LIMIT])
        results.contacts = list(
            contacts.filter(Q(last_name__icontains=text) | Q(first_name__icontains=text))[:LIMIT]
        )
        results.deals = list(deals.filter(title__icontains=text)[:LIMIT])
        return results
    results.clients = _nearest(clients, "name", text)
    results.contacts = _people_named_like(contacts, text)
    results.deals = _nearest(deals, "title", text)
    return results


def _people_named_like(contacts: QuerySet[Contact], text: str) -> list[Contact]:
    """The nearest distinct names first (a few thousand rows, not a million), then the
    people with each name, nearest name first, along the name indexes."""
    people: list[Contact] = []
    for word in _nearest(ContactName.objects.filter(contacts__gt=0), "name", text):
        column = "last_name" if word.kind == ContactName.Kind.LAST else "first_name"
        people += contacts.filter(**{column: word.name}).order_by(column, "id")[
            : LIMIT - len(people)
        ]
        if len(people) >= LIMIT:
            break
    return list({c.pk: c for c in people}.values())


def _nearest(queryset: QuerySet[Any], column: str, text: str) -> list[Any]:
    """The LIMIT records nearest to ``text`` by trigram word distance, walked in the column's
    GiST index (``ORDER BY column <<-> text``) — no tie-breaker, which would make PostgreSQL
    read every record at the same distance before it could stop."""
    return list(
        queryset.filter(**{f"{column}__trigram_word_similar": text})
        .annotate(distance=TrigramWordDistance(text, column))
        .order_by("distance")[:LIMIT]
    )


# Exact look-ups go in two steps: first the ids from the one selective index, then the
# records by id. As one query, PostgreSQL's estimate for a trigram or array match (thousands of
# rows) makes it walk the whole table in the list's order hoping to meet ten matches early.
def _phone_owners(digits: str) -> list[tuple[int | None, int | None]]:
    return list(
        Phone.objects.filter(e164__contains=digits)
        .order_by()
        .values_list("client_id", "contact_id")[:200]
    )


def _with_email(email: str) -> list[int]:
    # No LIMIT on purpose: with one, the planner prefers a sequential scan that stops early.
    return list(
        Contact.objects.filter(emails__contains=[email]).order_by().values_list("pk", flat=True)
    )[:200]
