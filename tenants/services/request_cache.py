"""What every page of a company reads before its view, kept in the cache between requests.

Each request of a member used to ask PostgreSQL, before any of its own work, for the company
of the host, the signed-in user, the member's role, the trial's end and the set-up progress:
rows that change a few times in a company's life. They are kept here, each under a key named
after its company or user (``relata.cache.GLOBAL_KEY``: the same key whichever schema is
current, so a change made from the public site or another company forgets the right entry),
and forgotten when the row changes — at once and again when the transaction commits, so a
request that read the old row in between cannot keep it. A change is therefore seen by the
very next request. ``KEEP_SECONDS`` only bounds what a write outside the models (raw SQL)
could leave behind.

While Redis is down nothing is kept (the in-process fallback of relata.cache is per process,
so another process's forgetting would not reach it): every request reads the rows, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

from relata.cache import GLOBAL_KEY

T = TypeVar("T")
KEEP_SECONDS = 600
_MISSING = object()


def host_key(hostname: str) -> str:
    return f"{GLOBAL_KEY}tenants:host:{hostname}"


def user_key(user_id: Any) -> str:
    return f"{GLOBAL_KEY}tenants:user:{user_id}"


def member_key(company_id: Any, user_id: Any) -> str:
    return f"{GLOBAL_KEY}tenants:member:{company_id}:{user_id}"


def company_key(company_id: Any, name: str) -> str:
    """Something of one company's that its pages show (the trial's end, the set-up entry)."""
    return f"{GLOBAL_KEY}company:{company_id}:{name}"


def _available() -> bool:
    check = getattr(cache, "available", None)
    return bool(check()) if check is not None else True


def remembered(key: str, load: Callable[[], T], *, keep_none: bool = True) -> T:
    """The value under ``key``, or ``load()`` kept there (None too, unless ``keep_none``)."""
    if not _available():
        return load()
    found = cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    value = load()
    if value is not None or keep_none:
        cache.set(key, value, KEEP_SECONDS)
    return value


def look_up(key: str) -> Any:
    """The kept value, or ``MISSING`` (also while Redis is down)."""
    if not _available():
        return _MISSING
    return cache.get(key, _MISSING)


def keep(key: str, value: Any) -> None:
    if _available():
        cache.set(key, value, KEEP_SECONDS)


MISSING = _MISSING


def forget(keys: Iterable[str]) -> None:
    """Forget now, and again once the change is committed (a request between the two may have
    read the old row and kept it)."""
    keys = list(keys)
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
