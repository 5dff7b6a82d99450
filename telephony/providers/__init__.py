"""Adapters for the virtual PBX providers: each reads its provider's webhooks into
``CallUpdate``s (checking the signature) and calls its API (click-to-call, recordings)."""

from __future__ import annotations

from telephony.models import Provider
from telephony.providers.base import Adapter
from telephony.providers.mango import MangoAdapter
from telephony.providers.relata import RelataAdapter
from telephony.providers.zadarma import ZadarmaAdapter

ADAPTERS: dict[str, Adapter] = {
    Provider.RELATA: RelataAdapter(),
    Provider.MANGO: MangoAdapter(),
    Provider.ZADARMA: ZadarmaAdapter(),
}


def adapter_for(provider: str) -> Adapter:
    return ADAPTERS[provider]
