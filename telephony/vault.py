"""The PBX provider's keys at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

The key comes from ``TELEPHONY_ENCRYPTION_KEY``; without it, one is derived from SECRET_KEY so
a fresh install works with nothing set. A database dump alone never reveals a provider's key.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings

from relata.sealed import keyring


def _box() -> MultiFernet:
    return keyring(settings.TELEPHONY_ENCRYPTION_KEY, f"relata-telephony:{settings.SECRET_KEY}")


def seal(value: str) -> str:
    return _box().encrypt(value.encode()).decode() if value else ""


def unseal(token: str) -> str:
    """The clear value, or "" when the token was made with another key (the admin re-enters it)."""
    if not token:
        return ""
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def hint(value: str) -> str:
    """What the settings screen shows of a key: its last four characters."""
    return f"…{value[-4:]}" if len(value) > 8 else "…"
