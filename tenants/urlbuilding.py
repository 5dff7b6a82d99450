"""Absolute URLs between the public site and company hosts."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from tenants.models import Company


def _origin(request: HttpRequest, host: str) -> str:
    # Keep the port the browser used (8000 locally, a random one in tests, none behind nginx).
    port = request.get_port()
    default = {"http": "80", "https": "443"}[request.scheme or "http"]
    suffix = "" if port in ("", default) else f":{port}"
    return f"{request.scheme}://{host}{suffix}"


def company_url(request: HttpRequest, company: Company, path: str = "/") -> str:
    domain = company.get_primary_domain()
    host = domain.domain if domain else f"{company.slug}.{settings.BASE_DOMAIN}"
    return _origin(request, host) + path


def public_url(request: HttpRequest, path: str = "/") -> str:
    return _origin(request, settings.BASE_DOMAIN) + path
