"""A suspended company's CRM is read-only: it can look, export and pay, not change."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenants.models import Company

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# What a suspended company may still post to: leaving, its language, coming in, paying,
# managing its team (freeing seats), its network security, and taking its data out. Exports
# are GET downloads (allowed anyway); "/export/" keeps a POST-started export possible.
ALLOWED_PREFIXES = (
    "/logout/",
    "/i18n/",
    "/handoff/",
    "/settings/billing/",
    "/settings/team/",
    "/settings/security/",
    "/export/",
)


class SuspendedCompanyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        company = getattr(request, "company", None)
        if (
            company is not None
            and company.status == Company.Status.SUSPENDED
            and request.method not in SAFE_METHODS
            and not request.path.startswith(ALLOWED_PREFIXES)
        ):
            response = render(request, "billing/suspended.html", status=403)
            if getattr(request, "htmx", False):
                # htmx does not swap error answers; reloading shows the read-only banner.
                response["HX-Refresh"] = "true"
            return response
        return self.get_response(request)
