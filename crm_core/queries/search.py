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

from django.contrib.postgres.search import TrigramWordDistance
from django.db import connection, transaction
from django.db.models import Q

from crm_core.access import visible
from crm_core.models import Client, Contact, Deal, Phone
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
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(WORD_SIMILARITY)],
        )
        return _search(membership, query, typos=True)


def _search(membership: Membership, query: str, *, typos: bool) -> SearchResults:
    text = " ".join(query.split())[:100]
    results = SearchResults(query=text)
    if len(text) < 2:
        return results
    clients = visible(Client.objects.all(), membership)
    contacts = visible(Contact.objects.select_related("client"), membership)
    deals = visible(Deal.objects.select_related("client", "stage"), membership)

    digits = _DIGITS.sub("", text)
    if len(digits) >= 4 and len(digits) >= len(text.replace(" ", "")) - 4:
        phones = Phone.objects.filter(e164__contains=digits)
        by_phone = Q(pk__in=phones.values("client_id")) | Q(
            contacts__in=phones.values("contact_id")
        )
        if len(digits) in (10, 12):
            by_phone |= Q(inn=digits)
        results.clients = list(clients.filter(by_phone).distinct()[:LIMIT])
        results.contacts = list(contacts.filter(pk__in=phones.values("contact_id"))[:LIMIT])
        return results
    if "@" in text:
        results.contacts = list(contacts.filter(emails__contains=[text.lower()])[:LIMIT])
        return results

    if not typos:
        results.clients = list(clients.filter(name__icontains=text).order_by("name")[:LIMIT])
        results.contacts = list(
            contacts.filter(Q(last_name__icontains=text) | Q(first_name__icontains=text))[:LIMIT]
        )
        results.deals = list(deals.filter(title__icontains=text)[:LIMIT])
        return results
    # Nearest by trigram word distance, walked in the GiST indexes (no sort of all matches).
    results.clients = list(
        clients.filter(name__trigram_word_similar=text)
        .annotate(distance=TrigramWordDistance(text, "name"))
        .order_by("distance", "id")[:LIMIT]
    )
    results.contacts = list(
        contacts.filter(
            Q(last_name__trigram_word_similar=text) | Q(first_name__trigram_word_similar=text)
        )
        .annotate(distance=TrigramWordDistance(text, "last_name"))
        .order_by("distance", "id")[:LIMIT]
    )
    results.deals = list(
        deals.filter(title__trigram_word_similar=text)
        .annotate(distance=TrigramWordDistance(text, "title"))
        .order_by("distance", "-id")[:LIMIT]
    )
    return results
