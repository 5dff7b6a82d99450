"""A company may open its CRM only to its office networks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tenants.models import Company
from tenants.services.network import allowed, parse_allowlist
from tests.test_isolation import login_on_host


def test_allowlist_parsing_and_matching() -> None:
    text = "203.0.113.0/24  # office\n\n2001:db8::/32\n198.51.100.7"
    assert len(parse_allowlist(text)) == 3
    assert allowed(text, "203.0.113.45")
    assert allowed(text, "198.51.100.7")
    assert allowed(text, "2001:db8::1")
    assert not allowed(text, "192.0.2.1")
    assert allowed("", "192.0.2.1")  # no list: open
    with translation.override("en"), pytest.raises(ValidationError, match="Line 2"):
        parse_allowlist("10.0.0.0/8\nthe office")


def test_office_only_company_refuses_other_networks_with_a_clear_page(crm: Any) -> None:
    # Managers cannot change the list.
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/security/", HTTP_HOST=crm.a.host).status_code == 404
    admin = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    # Saving a list that excludes the admin's own address is refused: no self lock-out.
    refused = admin.post(
        "/settings/security/",
        {"ip_allowlist": "203.0.113.0/24"},
        HTTP_HOST=crm.a.host,
        REMOTE_ADDR="192.0.2.10",
    )
    assert refused.status_code == 200
    assert Company.objects.get(pk=crm.a.company.pk).ip_allowlist == ""
    saved = admin.post(
        "/settings/security/",
        {"ip_allowlist": "203.0.113.0/24\n192.0.2.10"},
        HTTP_HOST=crm.a.host,
        REMOTE_ADDR="192.0.2.10",
    )
    assert saved.status_code == 302

    from_office = admin.get("/", HTTP_HOST=crm.a.host, REMOTE_ADDR="203.0.113.9")
    assert from_office.status_code == 200
    from_cafe = admin.get(
        "/", HTTP_HOST=crm.a.host, REMOTE_ADDR="198.18.0.1", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert from_cafe.status_code == 403
    assert "only from the office network" in from_cafe.content.decode()
    # The handoff is refused too: no way in from outside, even with a fresh token.
    from django.test import Client as HttpClient

    from tenants.services import handoff

    token = handoff.issue(user=crm.owner.user, company=crm.a.company)
    assert (
        HttpClient()
        .get(f"/handoff/{token}/", HTTP_HOST=crm.a.host, REMOTE_ADDR="198.18.0.1")
        .status_code
        == 403
    )
    # Company B is not affected by A's list.
    other = login_on_host(crm.b.owner, crm.b.company, crm.b.host)
    assert other.get("/", HTTP_HOST=crm.b.host, REMOTE_ADDR="198.18.0.1").status_code == 200


def test_forwarded_for_counts_only_trusted_proxies(crm: Any, settings: Any) -> None:
    from django.test import RequestFactory

    from tenants.services.network import client_ip

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.18.0.1", REMOTE_ADDR="10.0.0.2"
    )
    assert client_ip(request) == "198.18.0.1"  # the forged left part is ignored
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
