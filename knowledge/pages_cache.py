"""The public help centre's pages are kept in the cache (Redis) until something a reader sees
changes: an article published, unpublished, moved or deleted, a category or the help centre's
look changed. Instead of finding every page to forget, each change moves the company's
"edition" on, and every page's key carries the edition it was made from.

Keys are the company's twice over: the cache's key function prefixes the schema
(django_tenants.cache.make_key) and the key itself names the company's id, so a schema name
reused by another company after a deletion never meets an old page either.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.db import transaction

from tenants.models import Company

PAGE_SECONDS = 300
_EDITION_KEY = "help-centre-edition"


def edition() -> str:
    found = cache.get(_EDITION_KEY)
    if found is None:
        found = uuid.uuid4().hex
        cache.add(_EDITION_KEY, found, None)
        found = cache.get(_EDITION_KEY) or found
    return str(found)


def forget_pages() -> None:
    """At once, and again after the change is committed: between the two a reader could
    have kept the old page under the new edition."""
    cache.set(_EDITION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(_EDITION_KEY, uuid.uuid4().hex, None))


def page_key(company: Company, language: str, *parts: object) -> str:
    digest = hashlib.sha256(
        "|".join(str(p) for p in (company.pk, edition(), language, *parts)).encode()
    ).hexdigest()
    return f"help-page:{digest}"
