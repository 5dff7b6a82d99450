"""Encryption at rest for the bot's token and webhook secret (Fernet, from ``cryptography``).

The key comes from TELEGRAM_ENCRYPTION_KEY (a Fernet key); without it, one is derived from
SECRET_KEY so that a development set-up works, and rotating SECRET_KEY then means reconnecting.
"""

from __future__ import annotations

from cryptography.fernet import MultiFernet
from django.conf import settings

from relata.sealed import keyring


def _fernet() -> MultiFernet:
    return keyring(settings.TELEGRAM_ENCRYPTION_KEY, f"relata.telegram:{settings.SECRET_KEY}")


def seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()
