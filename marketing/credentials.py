"""The transactional provider's API key and webhook signing key at rest, sealed like every
other secret (relata.sealed): ``RELATA_MARKETING_KEY`` names the key(s); unset, one is derived
from SECRET_KEY."""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings

from relata.sealed import keyring


class SecretUnreadableError(Exception):
    """The stored key was sealed with a key this installation no longer has."""


def _fernet() -> MultiFernet:
    configured = getattr(settings, "RELATA_MARKETING_KEY", "")
    return keyring(configured, f"relata-marketing:{settings.SECRET_KEY}")


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def unseal(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError("the provider key was sealed with another key") from exc
