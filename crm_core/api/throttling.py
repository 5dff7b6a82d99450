"""Rate limits per token, counted in the shared cache (Redis), keyed by company and token."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from crm_core.api.auth import TokenAccess


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_rate(self) -> str:
        # Read at each request (not frozen at import) so operators and tests can change it.
        return str(getattr(settings, "RELATA_API_RATE", "600/min"))

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        access = request.auth
        if not isinstance(access, TokenAccess):
            return None  # unauthenticated calls are refused before they cost anything
        # The cache's key function adds the schema too; the company id here keeps the key
        # unique even under a cache without it.
        return f"api-throttle:{access.membership.company_id}:{access.token.pk}"
