"""What every page reads before its view is kept in the cache (tenants.services.request_cache):
the host's company, the session, the user, the membership, the trial's end, the set-up entry.
A change must show on the very next request, and nothing kept for one company may serve
another."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.models import Company, Membership
from tests.test_isolation import login_on_host

ROLE_LABELS = {"manager": "Manager", "read_only": "Read-only", "head": "Head of sales"}


def _home(browser: Any, host: str) -> str:
    response = browser.get("/", HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def _baseline_queries(browser: Any, host: str) -> list[str]:
    with CaptureQueriesContext(django_connection) as captured:
        assert browser.get("/search/", HTTP_HOST=host).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_page_reads_nothing_of_the_baseline_from_the_database_once_kept(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    browser.get("/search/", HTTP_HOST=crm.a.host)  # keeps what the next pages read
    sql = " ".join(_baseline_queries(browser, crm.a.host))
    for table in (
        "tenants_domain",
        "django_session",
        "tenants_user",
        "tenants_membership",
        "billing_subscription",
        "onboarding_setupprogress",
    ):
        assert table not in sql, table


def test_a_role_changed_on_the_team_page_shows_on_the_next_request(crm: Any) -> None:
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert "· Manager ·" in _home(manager, crm.a.host)
    changed = owner.post(
        f"/settings/team/members/{crm.manager.pk}/role/",
        {"role": "read_only"},
        HTTP_HOST=crm.a.host,
    )
    assert changed.status_code == 302
    assert "· Read-only ·" in _home(manager, crm.a.host)
    # A change through update() (no signal) is forgotten too.
    Membership.objects.filter(pk=crm.manager.pk).update(role="head")
    assert "· Head of sales ·" in _home(manager, crm.a.host)


def test_a_deactivated_member_is_out_on_the_next_request(crm: Any) -> None:
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/deals/", HTTP_HOST=crm.a.host).status_code == 200
    gone = owner.post(
        f"/settings/team/members/{crm.manager.pk}/deactivate/",
        {"reassign_to": crm.colleague.pk},
        HTTP_HOST=crm.a.host,
    )
    assert gone.status_code == 302
    assert not Membership.objects.get(pk=crm.manager.pk).is_active
    assert manager.get("/deals/", HTTP_HOST=crm.a.host).status_code == 404


def test_a_password_change_ends_the_other_sessions_at_once(crm: Any) -> None:
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/deals/", HTTP_HOST=crm.a.host).status_code == 200
    user = crm.manager.user
    user.set_password("Another-Pass-552")
    user.save()
    assert manager.get("/deals/", HTTP_HOST=crm.a.host).status_code == 302  # to the sign-in


def test_the_company_name_and_status_show_on_the_next_request(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    assert "Relata · " in _home(browser, crm.a.host)
    company = Company.objects.get(pk=crm.a.company.pk)
    company.name = "Окна Севера"
    company.save()
    assert "Relata · </span>Окна Севера" in _home(browser, crm.a.host)
    Company.objects.filter(pk=company.pk).update(name="Окна Юга")
    assert "Relata · </span>Окна Юга" in _home(browser, crm.a.host)
    Company.objects.filter(pk=company.pk).update(status=Company.Status.CANCELED)
    assert browser.get("/", HTTP_HOST=crm.a.host).status_code == 404


def test_the_trial_banner_follows_the_subscription_at_once(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    Company.objects.filter(pk=crm.a.company.pk).update(status=Company.Status.TRIALING)
    from billing.services.subscriptions import ensure_subscription

    subscription = ensure_subscription(crm.a.company)
    subscription.trial_ends_at = timezone.now() + timedelta(days=20)
    subscription.save()
    assert "The trial ends on" not in _home(browser, crm.a.host)
    subscription.trial_ends_at = timezone.now() + timedelta(days=1)
    subscription.save()
    assert "The trial ends on" in _home(browser, crm.a.host)


def test_the_setup_entry_goes_when_dismissed(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    assert 'id="setup-entry"' in _home(browser, crm.a.host)
    assert browser.post("/setup/dismiss/", HTTP_HOST=crm.a.host).status_code == 302
    assert 'id="setup-entry"' not in _home(browser, crm.a.host)


def test_nothing_kept_for_company_a_serves_company_b(crm: Any) -> None:
    a, b = crm.a, crm.b
    a_owner = login_on_host(a.owner, a.company, a.host)
    b_owner = login_on_host(b.owner, b.company, b.host)
    Company.objects.filter(pk=b.company.pk).update(name="Компания Б")
    assert f"Relata · </span>{a.company.name}" in _home(a_owner, a.host)
    # B's host is B's, with B's set-up entry and B's owner, whatever A's pages kept.
    with b.company:
        from onboarding.models import SetupProgress

        SetupProgress.objects.create(pk=1, dismissed_at=timezone.now())
    page = _home(b_owner, b.host)
    assert "Relata · </span>Компания Б" in page
    assert 'id="setup-entry"' not in page
    assert 'id="setup-entry"' in _home(a_owner, a.host)
    # A's session cookie and A's kept membership open nothing on B's host.
    response = a_owner.get("/", HTTP_HOST=b.host)
    assert response.status_code in (302, 404)
    assert "Компания Б" not in response.content.decode()
    # A member of A only, signed in on the public site, is not a member of B.
    a_owner.force_login(a.owner)
    assert a_owner.get("/", HTTP_HOST=b.host).status_code in (302, 404)
