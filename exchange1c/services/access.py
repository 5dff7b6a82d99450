"""Who may speak for the company's 1C: its exchange login, password and sessions.

The login and password belong to the company's exchange, not to a person: 1C keeps them in
its exchange settings, so a person leaving the company does not break the exchange, and a
rotated password never touches anyone's own login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from exchange1c.models import ExchangeSession, ExchangeSettings
from tenants.models import Company

COOKIE_NAME = "relata_1c"
# A password 1C stores and nobody types: long, from an alphabet without look-alikes.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_PASSWORD_LENGTH = 24


def session_minutes() -> int:
    """How long a session lives after 1C's last request (a long import keeps it alive)."""
    return int(getattr(settings, "EXCHANGE1C_SESSION_MINUTES", 60))


def settings_of(company: Company) -> ExchangeSettings:
    """The company's exchange settings, made (switched off) on first use."""
    # One row, always pk 1: two first visits at once cannot make two.
    found, _created = ExchangeSettings.objects.get_or_create(
        pk=1, defaults={"login": f"1c-{company.slug}"[:100]}
    )
    return found


@transaction.atomic
def switch(*, company: Company, enabled: bool) -> ExchangeSettings:
    """Switch the exchange on or off. Orders go to 1C from the first switch-on."""
    current = settings_of(company)
    current.enabled = enabled
    if enabled and current.orders_since is None:
        current.orders_since = timezone.now()
    current.save(update_fields=["enabled", "orders_since"])
    if not enabled:
        # Switched off means no 1C session goes on either.
        ExchangeSession.objects.filter(status=ExchangeSession.Status.OPEN).update(
            expires_at=timezone.now()
        )
    return current


@transaction.atomic
def new_password(*, company: Company) -> str:
    """Generate (or rotate) the exchange password; returns it once, keeps only its hash.

    Sessions opened with the old password end: whoever held it is out at once.
    """
    current = settings_of(company)
    password = "".join(secrets.choice(_ALPHABET) for _ in range(_PASSWORD_LENGTH))
    current.password_hash = make_password(password)
    current.password_set_at = timezone.now()
    current.save(update_fields=["password_hash", "password_set_at"])
    ExchangeSession.objects.filter(expires_at__gt=timezone.now()).update(expires_at=timezone.now())
    return password


def credentials_valid(*, company: Company, login: str, password: str) -> bool:
    """The company's exchange login and password, and the exchange switched on."""
    current = ExchangeSettings.objects.filter(pk=1).first()
    if current is None or not current.enabled or not current.password_hash:
        # Hash anyway: a switched-off exchange answers as slowly as a wrong password.
        make_password(password)
        return False
    # As bytes: compare_digest refuses str with non-ASCII letters (a 500 for "логин").
    login_matches = secrets.compare_digest(
        login.strip().lower().encode(), current.login.lower().encode()
    )
    return check_password(password, current.password_hash) and login_matches


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(*, kind: str, address: str | None) -> tuple[ExchangeSession, str]:
    """A new exchange session after `checkauth`; returns it and the cookie value for 1C."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    session = ExchangeSession.objects.create(
        kind=kind,
        token_hash=_hashed(token),
        started_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(minutes=session_minutes()),
        address=address,
    )
    return session, token


def signed_in_before_from(address: str | None) -> bool:
    """Whether the company's 1C has opened an exchange session from this address before."""
    return address is not None and ExchangeSession.objects.filter(address=address).exists()


def session_of(token: str, *, kind: str) -> ExchangeSession | None:
    """The live session this cookie opened (of this exchange kind), kept alive by the call."""
    if not token:
        return None
    now = timezone.now()
    session = ExchangeSession.objects.filter(
        token_hash=_hashed(token), kind=kind, expires_at__gt=now
    ).first()
    if session is None:
        return None
    current = ExchangeSettings.objects.filter(pk=1).first()
    if current is None or not current.enabled:
        return None
    session.last_seen_at = now
    session.expires_at = now + dt.timedelta(minutes=session_minutes())
    session.save(update_fields=["last_seen_at", "expires_at"])
    return session


def finish(session: ExchangeSession, *, status: str, message: str = "") -> None:
    session.status = status
    session.message = message[:2000]
    session.save(update_fields=["status", "message"])
