"""Routing requests to a company, and keeping non-members out of it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

from relata.db import connection
from relata.logs import current_user_id
from tenants.models import Company
from tenants.queries.memberships import ACTIVE_COMPANY_STATUSES, request_membership
from tenants.services import request_cache
from tenants.services.network import allowed, client_ip


class CompanyRoutingMiddleware(TenantMainMiddleware):
    """The bare base domain is the public site; ``<slug>.<base domain>`` is a company.

    Unlike django-tenants' default, an unknown subdomain is a 404 rather than the public site,
    and a company that has been canceled is not served.
    """

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        request.company = None  # type: ignore[attr-defined]
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if isinstance(tenant, Company):
            if tenant.status not in ACTIVE_COMPANY_STATUSES:
                connection.set_schema_to_public()
                raise Http404("company not available")
            request.company = tenant  # type: ignore[attr-defined]
        return response

    def get_tenant(self, domain_model: Any, hostname: str) -> Company:
        """The host's company, kept in the cache (forgotten when the company or its domain
        changes: tenants.signals_cache); an unknown host is asked of the database each time."""
        key = request_cache.host_key(hostname)
        found = request_cache.look_up(key)
        if found is not request_cache.MISSING:
            return found
        company: Company = super().get_tenant(domain_model, hostname)
        request_cache.keep(key, company)
        return company

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> None:
        if hostname in settings.PUBLIC_HOSTS:
            self.setup_url_routing(request=request, force_public=True)
            return
        raise Http404(f"No company at {hostname}")


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


class RequestContextMiddleware:
    """Per-request context (the company's time zone, the user id for logs) and the security
    headers every response carries (Django 5.2 has no CSP of its own)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_user_id.set(None)
        company = getattr(request, "company", None)
        # Dates and times on a company's pages read in the company's own time zone.
        if company is not None:
            timezone.activate(_zone(company.time_zone))
        try:
            response = self.get_response(request)
        finally:
            current_user_id.reset(token)
            timezone.deactivate()
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class PersonTimeZoneMiddleware:
    """A member's pages read in the member's own time zone when they chose one in their
    profile (RequestContextMiddleware, before authentication, set the company's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from tenants.zones import zone_of

        company = getattr(request, "company", None)
        user = getattr(request, "user", None)
        if company is not None and str(getattr(user, "time_zone", None) or ""):
            timezone.activate(zone_of(user, company))
        return self.get_response(request)


class OfficeNetworkMiddleware:
    """A company that allows only its office networks refuses every other address, with a page
    that says why (before any of the company's data is read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        company = getattr(request, "company", None)
        # The company's request form is meant for its customers, wherever they are.
        if company is not None and request.path.startswith(settings.PUBLIC_COMPANY_PATHS):
            return self.get_response(request)
        if company is not None and company.ip_allowlist:
            address = client_ip(request)
            if not allowed(company.ip_allowlist, address):
                return render(
                    request,
                    "relata/office_only.html",
                    {"blocked_company": company, "address": address},
                    status=403,
                )
        return self.get_response(request)


class MembershipMiddleware:
    """On a company's host, a logged-in user who is not an active member gets 404.

    Sessions are stored in each company's own schema, so a cookie from another host is simply
    unknown here; this check also covers a member who was deactivated while logged in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            current_user_id.set(user.pk)
        company = getattr(request, "company", None)
        if company is not None and user.is_authenticated:
            membership = request_membership(user=user, company=company)
            if membership is None:
                raise Http404("not a member of this company")
            request.membership = membership  # type: ignore[attr-defined]
        return self.get_response(request)


class NulCharacterMiddleware:
    """A NUL character in a parameter is refused here, for every view at once: PostgreSQL
    cannot store one in text, so a form value or search that carries it would fail as a
    server error far from where it came in. Django's form fields refuse it already; views
    that read a parameter directly (searches, filters, buttons) do not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _with_nul(request.GET)
        if request.method == "POST":
            found += _with_nul(request.POST)
        if not found:
            return self.get_response(request)
        message = _("The request contains a NUL character, which no field accepts.")
        if request.path.startswith(("/api/", "/public/api/")):
            # In the API's own error shape (its schema documents JSON for every 400).
            fields = {name.replace("\x00", "\\0"): [message] for name in found}
            return JsonResponse(
                {"error": {"code": "invalid", "message": message, "fields": fields}}, status=400
            )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _with_nul(params: QueryDict) -> list[str]:
    """The names of the parameters with a NUL in their name or a value."""
    return [
        key
        for key, values in params.lists()
        if "\x00" in key or any("\x00" in value for value in values)
    ]
