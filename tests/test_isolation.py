"""Tenant isolation: one company never sees, changes or infers another company's data."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver

from crm_core.models import Client
from relata.db import connection
from tenants.models import Membership
from tenants.services import handoff


def login_on_host(user: Any, company: Any, host: str) -> HttpClient:
    """A browser that came into ``company`` through the handoff, as a real user does."""
    browser = HttpClient()
    token = handoff.issue(user=user, company=company)
    response = browser.get(f"/handoff/{token}/", HTTP_HOST=host)
    assert response.status_code == 302, response
    assert response["Location"] == "/"
    return browser


def test_member_of_a_gets_404_on_b(two_companies: Any) -> None:
    a, b = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    assert browser.get("/", HTTP_HOST=a.host).status_code == 200
    # Logged into the public site too (the usual case), and going straight to B's host.
    browser.force_login(a.owner)
    response = browser.get("/", HTTP_HOST=b.host)
    assert response.status_code in (302, 404)
    assert b"Client of B" not in response.content


def test_handoff_token_for_a_cannot_open_b(two_companies: Any) -> None:
    a, b = two_companies
    token = handoff.issue(user=a.owner, company=a.company)
    browser = HttpClient()
    response = browser.get(f"/handoff/{token}/", HTTP_HOST=b.host)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert browser.get("/", HTTP_HOST=b.host).status_code == 302  # still anonymous on B
    # And the token was not burnt by the attempt on B: it still works on A.
    assert browser.get(f"/handoff/{token}/", HTTP_HOST=a.host)["Location"] == "/"


def test_handoff_token_is_single_use_and_short_lived(two_companies: Any) -> None:
    a, _ = two_companies
    token = handoff.issue(user=a.owner, company=a.company)
    assert HttpClient().get(f"/handoff/{token}/", HTTP_HOST=a.host)["Location"] == "/"
    replay = HttpClient().get(f"/handoff/{token}/", HTTP_HOST=a.host)
    assert "/accounts/login/" in replay["Location"]

    # The page to land on is a path of the company's own host, never another site.
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example/"):
        token = handoff.issue(user=a.owner, company=a.company)
        landed = HttpClient().get(f"/handoff/{token}/", {"next": elsewhere}, HTTP_HOST=a.host)
        assert landed["Location"] == "/"
    token = handoff.issue(user=a.owner, company=a.company)
    landed = HttpClient().get(f"/handoff/{token}/", {"next": "/setup/"}, HTTP_HOST=a.host)
    assert landed["Location"] == "/setup/"

    from tenants.models import HandoffToken

    stale = handoff.issue(user=a.owner, company=a.company)
    HandoffToken.objects.filter(used_at__isnull=True).update(expires_at="2000-01-01T00:00Z")
    assert (
        "/accounts/login/" in HttpClient().get(f"/handoff/{stale}/", HTTP_HOST=a.host)["Location"]
    )


def test_session_cookie_from_a_is_not_accepted_on_b(two_companies: Any) -> None:
    a, b = two_companies
    # B's owner is also a member of A, so only the cookie's host can make the difference.
    Membership.objects.create(user=b.owner, company=a.company, role="manager")
    browser = login_on_host(b.owner, a.company, a.host)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    stranger = HttpClient()
    stranger.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = stranger.get("/", HTTP_HOST=b.host)
    assert response.status_code == 302  # anonymous on B: sent to log in
    assert "login" in response["Location"]
    # The same cookie is still good on the host that issued it.
    again = HttpClient()
    again.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert again.get("/", HTTP_HOST=a.host).status_code == 200
    # The public site does not know it either.
    public = HttpClient()
    public.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert public.get("/companies/").status_code == 302


def test_deactivated_member_is_shut_out_at_once(two_companies: Any) -> None:
    a, _ = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    Membership.objects.filter(user=a.owner, company=a.company).update(is_active=False)
    assert browser.get("/", HTTP_HOST=a.host).status_code == 404


def test_each_company_sees_only_its_own_clients(two_companies: Any) -> None:
    a, b = two_companies
    page_a = login_on_host(a.owner, a.company, a.host).get("/", HTTP_HOST=a.host).content.decode()
    page_b = login_on_host(b.owner, b.company, b.host).get("/", HTTP_HOST=b.host).content.decode()
    assert "Client of A" in page_a
    assert "Client of B" not in page_a
    assert "Client of B" in page_b
    assert "Client of A" not in page_b


def test_unknown_company_host_is_404_not_the_public_site(db: None) -> None:
    response = HttpClient().get("/", HTTP_HOST=f"nobody-{uuid.uuid4().hex[:6]}.localhost")
    assert response.status_code == 404


def test_cache_entries_of_a_are_invisible_to_b(two_companies: Any) -> None:
    a, b = two_companies
    with a:
        cache.set("dashboard", "numbers of A", 60)
    with b:
        assert cache.get("dashboard") is None
        cache.set("dashboard", "numbers of B", 60)
    with a:
        assert cache.get("dashboard") == "numbers of A"
    assert cache.get("dashboard") is None  # nor on the public site
    with a:
        cache.delete("dashboard")
    with b:
        cache.delete("dashboard")


def test_uploaded_files_are_stored_under_the_company_prefix(
    two_companies: Any, media_root: Path
) -> None:
    tmp_path = media_root
    a, b = two_companies
    with a:
        name_a = default_storage.save("contracts/offer.txt", ContentFile(b"A's offer"))
        path_a = Path(default_storage.path(name_a))
    with b:
        assert not default_storage.exists(name_a)
        default_storage.save("contracts/offer.txt", ContentFile(b"B's offer"))
    assert path_a.is_relative_to(tmp_path / a.company.schema_name)
    assert (
        tmp_path / a.company.schema_name / "contracts" / "offer.txt"
    ).read_bytes() == b"A's offer"
    assert (
        tmp_path / b.company.schema_name / "contracts" / "offer.txt"
    ).read_bytes() == b"B's offer"


def _walk(patterns: list[Any], prefix: str = "") -> list[str]:
    paths = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            paths += _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            # Every id in a path is 1: B's first client, deal, stage, task… all exist.
            route = re.sub(r"<int:\w+>", "1", prefix + str(entry.pattern))
            paths.append(
                "/" + route.replace("<str:token>", "x" * 20).replace("^", "").replace("$", "")
            )
    return paths


def test_every_company_url_is_closed_to_members_of_other_companies(two_companies: Any) -> None:
    """Walk every URL pattern of a company host as A's owner against B's host."""
    a, b = two_companies
    browser = login_on_host(a.owner, a.company, a.host)
    browser.force_login(a.owner)  # even holding a session, it must not count on B
    paths = _walk(get_resolver("relata.urls_tenant").url_patterns)
    assert "/" in paths
    for path in paths:
        for method in ("get", "post"):
            response = getattr(browser, method)(path, HTTP_HOST=b.host)
            body = response.content
            assert b"Client of B" not in body, path
            # The REST API and the signed telephony webhook answer a call without this
            # company's token or signature with 401.
            unauthorized_ok = path.startswith(("/api/", "/public/telephony/"))
            closed = (302, 401, 403, 404, 405) if unauthorized_ok else (302, 403, 404, 405)
            # B's help centre is B's public site: anyone may read it (its own tests prove it
            # shows nothing of another company's and nothing that is not public).
            if path.startswith("/help/") and method == "get":
                closed = (*closed, 200)
            assert response.status_code in closed, (
                method,
                path,
                response.status_code,
            )
            if response.status_code == 302:
                location = response["Location"]
                assert b.host not in location or "handoff" not in location, path


def test_celery_task_runs_in_the_schema_of_the_company_that_sent_it(
    committed_companies: Any, run_process: Any, tmp_path: Path
) -> None:
    """A real worker process serves B, then A: A's task must run in A's schema."""
    from conftest import child_env
    from relata.tasks import probe_company

    a = committed_companies("Worker A")
    b = committed_companies("Worker B")
    with b:
        Client.objects.create(name="B1")
        Client.objects.create(name="B2")
    connection.set_schema_to_public()
    queue = f"isolation-{uuid.uuid4().hex[:8]}"
    run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", queue, "-l", "warning"],
        env=child_env(),
        log=tmp_path / "worker.log",
    )
    try:
        with b:
            result_b = probe_company.apply_async(queue=queue).get(timeout=60)
        with a:
            result_a = probe_company.apply_async(queue=queue).get(timeout=60)
        result_public = probe_company.apply_async(queue=queue)
        with pytest.raises(Exception, match="crm_core_client"):
            result_public.get(timeout=60)  # public has no CRM tables: nothing to leak
    except Exception:
        print((tmp_path / "worker.log").read_text())  # noqa: T201
        raise
    assert result_b == {"schema": b.company.schema_name, "clients": 2}
    assert result_a == {"schema": a.company.schema_name, "clients": 0}
