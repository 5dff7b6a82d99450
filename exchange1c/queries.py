"""What the settings screen shows of the exchange."""

from __future__ import annotations

from django.db.models import QuerySet

from exchange1c.models import ExchangeSession, OutboundOrder

RECENT_SESSIONS = 20


def recent_sessions() -> QuerySet[ExchangeSession]:
    return ExchangeSession.objects.order_by("-started_at", "-id")[:RECENT_SESSIONS]


def orders_waiting() -> int:
    """Orders offered to 1C (or due to be) that 1C has not confirmed yet."""
    return OutboundOrder.objects.filter(confirmed_at=None).count()
