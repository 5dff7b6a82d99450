"""Secrets kept at rest in a company's tables (mailbox passwords, PBX keys, bot tokens): Fernet
(AES-128-CBC + HMAC-SHA256) from ``cryptography``, one mechanism for every app that stores one.

Each app names its own setting: one key or several separated by commas (the first encrypts, all
decrypt, so a key can be rotated without re-entering every secret). Unset, a key is derived from
SECRET_KEY and a label of the app's own, so a fresh install works with nothing set and the apps'
keys differ; a database dump alone never reveals a secret.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet


@lru_cache(maxsize=16)
def keyring(configured: str, derived_from: str) -> MultiFernet:
    """The Fernet keys of ``configured`` (comma-separated), or one derived from ``derived_from``
    (the app's label and SECRET_KEY) when nothing is configured."""
    keys = [key.strip() for key in configured.split(",") if key.strip()]
    if not keys:
        digest = hashlib.sha256(derived_from.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])
