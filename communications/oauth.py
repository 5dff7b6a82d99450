"""OAuth2 providers a mailbox can be connected through (the second way to sign in, XOAUTH2).

A provider is its authorisation and token addresses, the scopes that open IMAP and SMTP, and
its mail servers; the installation's client id and secret come from the environment
(``RELATA_OAUTH_<KEY>_CLIENT_ID`` / ``_CLIENT_SECRET``), and a provider without them is not
offered. ``settings.MAIL_OAUTH_OVERRIDES`` may replace any of a provider's addresses (a test's
local OAuth server and mail servers). One more provider is one more ``register_provider`` call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class OAuthProvider:
    key: str
    label: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    imap_host: str
    smtp_host: str
    imap_port: int = 993
    smtp_port: int = 465
    imap_security: str = "ssl"
    smtp_security: str = "ssl"
    # Extra authorisation parameters (Google issues a refresh token only when asked offline).
    extra: dict[str, str] = field(default_factory=dict)
    client_id: str = ""
    client_secret: str = ""


_PROVIDERS: dict[str, OAuthProvider] = {}


def register_provider(provider: OAuthProvider) -> None:
    _PROVIDERS[provider.key] = provider


register_provider(
    OAuthProvider(
        key="yandex",
        label="Яндекс Почта",
        authorize_url="https://oauth.yandex.ru/authorize",
        token_url="https://oauth.yandex.ru/token",  # noqa: S106  (an address, not a secret)
        scopes=("mail:imap_full", "mail:smtp"),
        imap_host="imap.yandex.ru",
        smtp_host="smtp.yandex.ru",
        extra={"force_confirm": "yes"},
    )
)
register_provider(
    OAuthProvider(
        key="mailru",
        label="Почта Mail.ru",
        authorize_url="https://oauth.mail.ru/login",
        token_url="https://oauth.mail.ru/token",  # noqa: S106
        scopes=("userinfo", "mail.imap"),
        imap_host="imap.mail.ru",
        smtp_host="smtp.mail.ru",
    )
)
register_provider(
    OAuthProvider(
        key="google",
        label="Gmail",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",  # noqa: S106
        scopes=("https://mail.google.com/",),
        imap_host="imap.gmail.com",
        smtp_host="smtp.gmail.com",
        extra={"access_type": "offline", "prompt": "consent"},
    )
)


def _configured(provider: OAuthProvider) -> OAuthProvider:
    overrides: dict[str, Any] = dict(
        getattr(settings, "MAIL_OAUTH_OVERRIDES", {}).get(provider.key, {})
    )
    prefix = f"RELATA_OAUTH_{provider.key.upper()}_"
    overrides.setdefault("client_id", os.environ.get(prefix + "CLIENT_ID", ""))
    overrides.setdefault("client_secret", os.environ.get(prefix + "CLIENT_SECRET", ""))
    return replace(provider, **overrides)


def provider(key: str) -> OAuthProvider | None:
    """The provider with its client id and secret, or None when unknown or not set up."""
    found = _PROVIDERS.get(key)
    if found is None:
        return None
    ready = _configured(found)
    return ready if ready.client_id and ready.client_secret else None


def available() -> list[OAuthProvider]:
    return [p for p in (provider(key) for key in _PROVIDERS) if p is not None]
