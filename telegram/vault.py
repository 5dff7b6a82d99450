"""Encryption at rest for the bot's token and webhook secret (Fernet, from ``cryptography``).

The key comes from TELEGRAM_ENCRYPTION_KEY (a Fernet key); without it, one is derived from
SECRET_KEY so that a development set-up works, and rotating SECRET_KEY then means reconnecting.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.TELEGRAM_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(b"relata.telegram:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()
