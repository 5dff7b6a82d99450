"""Issuing and revoking API tokens (owners and admins only), and requests made through the API."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.access import require_admin, require_write
from crm_core.api.models import ApiToken
from crm_core.models import Lead
from crm_core.services.audit import record
from tenants.models import Membership

TOKEN_PREFIX = "rlt_"  # noqa: S105  (a public marker, not a secret)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the admin once, never stored


@transaction.atomic
def issue_token(
    *,
    membership: Membership,
    name: str,
    access: str,
    resources: list[str],
    acting_as: Membership | None = None,
) -> IssuedToken:
    """A new token acting as ``acting_as`` (the admin themselves by default). The token sees
    and may change exactly what that member may, never more, whatever its scopes say."""
    require_admin(membership)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the token (what will use it).")})
    if access not in ApiToken.Access.values:
        raise ValidationError({"access": _("Choose read or read and write.")})
    unknown = set(resources) - set(ApiToken.Resource.values)
    if unknown:
        raise ValidationError({"resources": _("Unknown resources: %s") % ", ".join(unknown)})
    member = acting_as or membership
    if member.company_id != membership.company_id or not member.is_active:
        raise ValidationError({"acting_as": _("Choose an active member of this company.")})
    if member.role == Membership.Role.OWNER and membership.role != Membership.Role.OWNER:
        # An admin cannot mint the owner's powers (billing, removing admins) for a script.
        raise ValidationError(
            {"acting_as": _("Only the owner can make a token acting as the owner.")}
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name[:100],
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        key_hash=hash_token(secret),
        access=access,
        resources=sorted(set(resources)),
        user_id=member.user_id,
        issued_by_id=membership.user_id,
    )
    record(membership, token, "create", {"name": (None, token.name), "access": (None, access)})
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def revoke_token(*, membership: Membership, token: ApiToken) -> ApiToken:
    """Idempotent: revoking a revoked token changes nothing."""
    require_admin(membership)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(membership, token, "revoke", {"revoked_at": (None, token.revoked_at)})
    return token


@transaction.atomic
def receive_request(
    *,
    membership: Membership,
    name: str,
    company_name: str = "",
    phone: str = "",
    email: str = "",
    message: str = "",
    source: str = "",
    utm: dict[str, str] | None = None,
) -> Lead:
    """A request sent in through the API by an integration acting as a member: it lands in
    the inbox unassigned, like one from the website form, for any manager to take."""
    require_write(membership)
    if not name.strip() and not phone.strip() and not email.strip():
        raise ValidationError({"name": _("Give at least a name, a phone or an e-mail.")})
    lead = Lead.objects.create(
        name=(name.strip() or phone.strip() or email.strip())[:300],
        company_name=company_name.strip()[:300],
        phone=phone.strip()[:100],
        email=email.strip(),
        message=message.strip(),
        source=(source.strip() or "api")[:100],
        utm=utm or {},
    )
    record(membership, lead, "create", {"name": (None, lead.name), "source": (None, lead.source)})
    return lead
