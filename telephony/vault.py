"""The PBX provider's keys at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

The key comes from ``TELEPHONY_ENCRYPTION_KEY``; without it, one is derived from SECRET_KEY so
a fresh install works with nothing set. A database dump alone never reveals a provider's key.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(configured: str, secret_key: str) -> Fernet:
    if configured:
        return Fernet(configured.encode())
    digest = hashlib.sha256(f"relata-telephony:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _box() -> Fernet:
    return _fernet(settings.TELEPHONY_ENCRYPTION_KEY, settings.SECRET_KEY)


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
