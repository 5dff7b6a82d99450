"""The Redis cache, made to degrade instead of failing the request when Redis is down.

The CRM must keep serving pages while Redis restarts: a cache read then misses and a write is
dropped (logged), which is what a cache is allowed to do. Everything else is Django's
RedisCache with django-tenants' per-company key function.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_DOWN = (RedisConnectionError, RedisTimeoutError)


class ResilientRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except _DOWN:
            logger.warning("cache unavailable: get %s missed", key)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except _DOWN:
            logger.warning("cache unavailable: get_many missed")
            return {}

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except _DOWN:
            logger.warning("cache unavailable: set %s dropped", key)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except _DOWN:
            logger.warning("cache unavailable: add %s dropped", key)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except _DOWN:
            logger.warning("cache unavailable: delete %s dropped", key)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except _DOWN:
            logger.warning("cache unavailable: incr %s treated as missing", key)
            raise ValueError(f"Key {key!r} not found (cache unavailable)") from None
