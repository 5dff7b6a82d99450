"""Who is calling: a bearer token of *this* company, acting as the member who owns it.

Tokens live in the company's schema, so a token of company A presented on B's host is simply
not found there (401) — isolation comes from where the token is stored, not from a check we
could forget. The member is re-read on every request: a member removed from the company, or
made inactive, takes their tokens' access with them. So does the owner or admin who issued
the token: once they are deactivated or no longer an owner/admin, the token stops working
(someone who may no longer make tokens must not keep ones acting for colleagues).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from crm_core.access import ADMINS
from crm_core.api.models import ApiToken
from crm_core.api.services import TOKEN_PREFIX, hash_token
from tenants.models import Membership, User

# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass
class TokenAccess:
    token: ApiToken
    membership: Membership


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, TokenAccess] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Bearer <token>."))
        secret = header[1].decode(errors="replace")
        company = getattr(request._request, "company", None)
        if company is None or not secret.startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed(_("This token is not valid here."))
        token = ApiToken.objects.filter(key_hash=hash_token(secret)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid here."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        membership = (
            Membership.objects.select_related("user", "company")
            .filter(company=company, user_id=token.user_id, is_active=True, user__is_active=True)
            .first()
        )
        if membership is None:
            raise exceptions.AuthenticationFailed(
                _("The member this token acts for no longer has access to the company.")
            )
        if token.issued_by_id is not None and not (
            Membership.objects.filter(
                company=company,
                user_id=token.issued_by_id,
                is_active=True,
                user__is_active=True,
                role__in=ADMINS,
            ).exists()
        ):
            raise exceptions.AuthenticationFailed(
                _("The owner or admin who made this token no longer manages the company.")
            )
        now = timezone.now()
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        return membership.user, TokenAccess(token=token, membership=membership)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm_core.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
