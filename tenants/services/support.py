"""Relata's support inside a company's CRM: only with the company's consent, read-only,
without a seat, and every session recorded for the company's owners and admins.

The company's owner or admin switches support access on (optionally until a date). An
operator (staff who signed in with MFA, checked by the console) opens a session: it is
recorded at once and a single-use handoff link carries the operator to the company's host,
where the session acts as a read-only member that exists only in the request (no Membership
row, so no seat). Switching access off, its expiry or the session's time limit ends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.models import Company, Membership, SupportSession, User
from tenants.services import handoff

# How long one support session lasts before the operator must open a new (recorded) one.
SESSION_LIMIT = timedelta(hours=2)
ACCESS_DAYS = (1, 7, 30)


def access_allowed(company: Company, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return company.support_access and (
        company.support_access_until is None or company.support_access_until > now
    )


def set_access(*, actor: Membership, allowed: bool, days: int | None) -> Company:
    """The company's consent, switched by its owner or an admin. ``days`` None: until
    switched off. Switching off ends any support session in progress."""
    if actor.role not in (Membership.Role.OWNER, Membership.Role.ADMIN) or not actor.is_active:
        raise PermissionDenied("owners and admins only")
    if allowed and days is not None and days not in ACCESS_DAYS:
        raise ValidationError(_("Choose how long support may have access."))
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=actor.company_id)
        company.support_access = allowed
        company.support_access_until = (
            timezone.now() + timedelta(days=days) if allowed and days else None
        )
        company.save(update_fields=["support_access", "support_access_until"])
        if not allowed:
            SupportSession.objects.filter(company=company, ended_at__isnull=True).update(
                ended_at=timezone.now(), end_reason="access_withdrawn"
            )
    return company


def open_session(*, operator: User, company: Company, ip: str | None) -> tuple[SupportSession, str]:
    """Record a support session and return it with the single-use link token into the
    company's host. The caller has checked the operator (staff, MFA used)."""
    if not operator.is_staff:
        raise PermissionDenied("operators only")
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        if not access_allowed(company):
            raise ValidationError(_("This company does not allow support access."))
        session = SupportSession.objects.create(
            company=company, operator=operator, operator_email=operator.email, ip=ip or None
        )
        token = handoff.issue(user=operator, company=company, support_session=session)
    return session, token


def enter(*, token: str, company: Company) -> SupportSession | None:
    """Redeem the operator's link on the company's host; None if it is not valid here now."""
    session = handoff.redeem_support(token=token, company=company)
    if session is None or session.ended_at is not None:
        return None
    if not access_allowed(company):
        end(session, reason="access_withdrawn")
        return None
    session.entered_at = timezone.now()
    session.save(update_fields=["entered_at"])
    return session


def current(*, session_id: object, user: User, company: Company) -> SupportSession | None:
    """The support session a request belongs to, if it may go on; one that may not is ended
    (access withdrawn or expired, time limit reached, operator no longer staff)."""
    try:
        session = SupportSession.objects.get(pk=int(str(session_id)), company=company)
    except (ValueError, SupportSession.DoesNotExist):
        return None
    if session.ended_at is not None or session.operator_id != user.pk:
        return None
    now = timezone.now()
    if not access_allowed(company, now):
        end(session, reason="access_withdrawn")
        return None
    if not user.is_staff or not user.is_active:
        end(session, reason="operator_removed")
        return None
    if now - (session.entered_at or session.started_at) > SESSION_LIMIT:
        end(session, reason="time_limit")
        return None
    return session


def end(session: SupportSession, *, reason: str) -> None:
    SupportSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )


def as_member(session: SupportSession, user: User) -> Membership:
    """The read-only member a support session acts as. Never saved: not a seat, not listed."""
    return Membership(
        user=user, company=session.company, role=Membership.Role.READ_ONLY, is_active=True
    )
