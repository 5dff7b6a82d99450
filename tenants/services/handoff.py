"""Carrying a login from the public site into one company's host.

Sessions are per host, so the public site cannot simply share its cookie with
``acme.localhost``. Instead it issues a random token valid for one minute and one use, bound
to one user and one company; the company's host redeems it and starts its own session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from relata.db import connection
from tenants.models import Company, HandoffToken, SupportSession, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(*, user: User, company: Company, support_session: SupportSession | None = None) -> str:
    token = secrets.token_urlsafe(32)
    HandoffToken.objects.create(
        token_hash=_digest(token),
        user=user,
        company=company,
        support_session=support_session,
        expires_at=timezone.now() + timedelta(seconds=settings.HANDOFF_TOKEN_TTL_SECONDS),
    )
    return token


def redeem(*, token: str, company: Company) -> User | None:
    """Return the user the token was issued to, or None if it is unknown, used, expired or
    issued for another company. The single UPDATE makes a second redemption impossible even
    when two requests race."""
    handoff = _use(token=token, company=company, support=False)
    if handoff is None:
        return None
    user = handoff.user
    return user if user.is_active else None


def redeem_support(*, token: str, company: Company) -> SupportSession | None:
    """The support session an operator's single-use link opens, or None (unknown, used,
    expired, another company's, or an ordinary member's link)."""
    handoff = _use(token=token, company=company, support=True)
    if handoff is None or handoff.support_session is None or not handoff.user.is_active:
        return None
    return handoff.support_session


def _use(*, token: str, company: Company, support: bool) -> HandoffToken | None:
    now = timezone.now()
    updated = HandoffToken.objects.filter(
        token_hash=_digest(token),
        company=company,
        used_at__isnull=True,
        expires_at__gt=now,
        support_session__isnull=not support,
    ).update(used_at=now)
    if updated != 1:
        return None
    return HandoffToken.objects.select_related("user", "support_session").get(
        token_hash=_digest(token)
    )


def purge_expired() -> int:
    assert connection.schema_name == settings.PUBLIC_SCHEMA_NAME
    deleted, _ = HandoffToken.objects.filter(
        expires_at__lt=timezone.now() - timedelta(hours=1)
    ).delete()
    return deleted
