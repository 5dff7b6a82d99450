"""The menu's inbox badge: unread letters and everything else waiting for the person.

Counting runs a handful of queries, so the figure is cached for a short while per person (the
cache key function puts the company's schema in every key, so two companies never share it);
opening the inbox or answering refreshes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

BADGE_SECONDS = 30


def badge_key(user_id: int) -> str:
    return f"communications:badge:{user_id}"


def forget_badge(user_id: int | None) -> None:
    if user_id:
        cache.delete(badge_key(user_id))


def inbox_badge(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    if getattr(request, "company", None) is None or membership is None:
        return {}

    def count() -> int:
        # Called only by a template that shows it (the menu), at most once per page.
        key = badge_key(membership.user_id)
        cached = cache.get(key)
        if cached is not None:
            return int(cached)
        from communications.queries import badge

        figure = badge(membership)
        cache.set(key, figure, BADGE_SECONDS)
        return figure

    lazy: Callable[[], int] = count
    return {"inbox_badge": lazy}
