"""Mailbox secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from the environment.

``RELATA_MAILBOX_KEY`` holds one key or several separated by commas: the first encrypts, all of
them decrypt, so a key can be rotated without re-entering every password. Without it (local
development and tests) a key is derived from SECRET_KEY so that ``dev.py start`` works;
production refuses to start without one (settings).
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings

from relata.sealed import keyring


class SecretUnreadableError(Exception):
    """The stored secret was encrypted with a key this installation no longer has."""


def _fernet() -> MultiFernet:
    return keyring(settings.RELATA_MAILBOX_KEY, f"relata-mailbox:{settings.SECRET_KEY}")


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError("the mailbox secret was encrypted with another key") from exc
