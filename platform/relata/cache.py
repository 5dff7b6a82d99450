"""The Redis cache, made to degrade instead of failing the request when Redis is down.

The CRM must keep serving while Redis restarts. When Redis does not answer, this cache serves
from a small in-process fallback (Django's LocMemCache: at most 10,000 entries, each kept at
most a minute) for a few seconds before it asks Redis again, logs a line and counts it in a
metric. So during an outage a read misses or finds what this process wrote, a write is kept
locally, and the rate limits (allauth's sign-in limit takes a lock with ``add``) still count,
per process: they fail open within bounds instead of refusing every sign-in with a 429. The
fallback uses the same key function as Redis, so two companies' keys never meet there either.
Everything else is Django's RedisCache with django-tenants' per-company key function.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django_tenants.cache import make_key as tenant_make_key
from prometheus_client import Counter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_DOWN = (RedisConnectionError, RedisTimeoutError)
T = TypeVar("T")

# After a failure, the fallback answers alone for this long: every operation on a down Redis
# waits for the connect timeout, and a page makes several.
RETRY_AFTER_SECONDS = 5.0
LOCAL_MAX_ENTRIES = 10_000
LOCAL_MAX_TIMEOUT = 60

FALLBACKS = Counter(
    "relata_cache_fallback_total",
    "Times the cache found Redis down and served from the in-process fallback",
)


# A key that starts with this is the same whichever company's schema is current: what the
# request needs before (or apart from) its company — the host's company, a member's role, a
# user — is named after that company or user explicitly and forgotten from any schema.
GLOBAL_KEY = "@"


def make_key(key: str, key_prefix: str, version: int | str) -> str:
    """django-tenants' key function (the current schema first, so two companies caching "x"
    never meet), except for keys that carry their company in their name (``GLOBAL_KEY``)."""
    if key.startswith(GLOBAL_KEY):
        return f"{GLOBAL_KEY}:{key_prefix}:{version}:{key}"
    return tenant_make_key(key, key_prefix, version)


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        local_params = {
            key: value for key, value in params.items() if key not in {"OPTIONS", "LOCATION"}
        }
        local_params["OPTIONS"] = {"MAX_ENTRIES": LOCAL_MAX_ENTRIES}
        local_params["TIMEOUT"] = LOCAL_MAX_TIMEOUT
        self._local = LocMemCache(f"relata-fallback-{id(self)}", local_params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _local_timeout(self, timeout: Any) -> Any:
        if timeout is DEFAULT_TIMEOUT or not isinstance(timeout, int | float):
            return LOCAL_MAX_TIMEOUT
        return min(timeout, LOCAL_MAX_TIMEOUT)

    def available(self) -> bool:
        """False while Redis was found down: what is kept meanwhile stays in this process."""
        return time.monotonic() >= self._down_until

    def _either(self, what: str, remote: Callable[[], T], local: Callable[[], T]) -> T:
        if time.monotonic() < self._down_until:
            return local()
        try:
            return remote()
        except _DOWN:
            with self._lock:
                newly_down = time.monotonic() >= self._down_until
                self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
            FALLBACKS.inc()
            if newly_down:
                logger.warning(
                    "cache unavailable (%s): the in-process fallback serves for %.0f s",
                    what,
                    RETRY_AFTER_SECONDS,
                )
            return local()

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._either(
            "get",
            lambda: super(ResilientRedisCache, self).get(key, default, version),
            lambda: self._local.get(key, default, version),
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._either(
            "get_many",
            lambda: super(ResilientRedisCache, self).get_many(keys, version),
            lambda: self._local.get_many(keys, version),
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._either(
            "set",
            lambda: super(ResilientRedisCache, self).set(key, value, timeout, version),
            lambda: self._local.set(key, value, self._local_timeout(timeout), version),
        )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._either(
            "add",
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version),
            lambda: self._local.add(key, value, self._local_timeout(timeout), version),
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        # Both: a value this process kept locally during an outage must not outlive a delete.
        self._local.delete(key, version)
        return self._either(
            "delete",
            lambda: super(ResilientRedisCache, self).delete(key, version),
            lambda: True,
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        # The sessions (cached_db) ask whether a new session key is taken.
        return self._either(
            "has_key",
            lambda: super(ResilientRedisCache, self).has_key(key, version),
            lambda: self._local.has_key(key, version),
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        keys = list(keys)
        self._local.delete_many(keys, version)
        self._either(
            "delete_many",
            lambda: super(ResilientRedisCache, self).delete_many(keys, version),
            lambda: None,
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._either(
            "incr",
            lambda: super(ResilientRedisCache, self).incr(key, delta, version),
            lambda: self._local.incr(key, delta, version),
        )
