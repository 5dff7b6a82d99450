"""With Redis down the CRM keeps serving: sign-in, sign-up, pages, board moves, the API.

The cache falls back to a small in-process store for the outage (relata.cache), so rate limits
still count, per process, instead of refusing everyone; tasks that cannot reach the broker are
not the request's failure. Redis is "down" here the way a stopped server is: nothing listens on
the port the cache and the broker use.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from conftest import PASSWORD
from crm_core.models import Deal, Pipeline
from crm_core.services.deals import create_deal
from tests.test_api import token_for
from tests.test_isolation import login_on_host

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from relata.celery import app

    default = settings.CACHES["default"]
    settings.CACHES = {"default": {**default, "LOCATION": NOBODY_LISTENS}}
    monkeypatch.setattr(app.conf, "broker_url", NOBODY_LISTENS)


def test_the_right_password_signs_in_and_guessing_is_still_limited(
    make_company: Any, redis_down: None
) -> None:
    made = make_company("Без Redis")
    browser = HttpClient()
    signed_in = browser.post("/accounts/login/", {"login": made.owner.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert "_auth_user_id" in browser.session

    # The in-process fallback still counts failed attempts: guessing stops paying.
    guesser = HttpClient()
    for _ in range(10):
        guesser.post("/accounts/login/", {"login": made.owner.email, "password": "guess"})
    refused = guesser.post(
        "/accounts/login/",
        {"login": made.owner.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "_auth_user_id" not in guesser.session
    assert b"Too many failed login attempts" in refused.content


def test_a_signed_in_person_works_on_with_redis_down(crm: Any, redis_down: None) -> None:
    with crm.a:
        pipeline = Pipeline.objects.get(is_default=True)
        deal = create_deal(membership=crm.manager, title="Окна на дачу", pipeline=pipeline)
        second = pipeline.stages.order_by("position")[1]
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    for path in ("/", "/deals/", f"/deals/{deal.pk}/", "/clients/", "/tasks/", "/search/?q=окна"):
        assert browser.get(path, HTTP_HOST=crm.a.host).status_code == 200, path
    moved = browser.post(
        f"/deals/{deal.pk}/move/",
        {"stage": second.pk, "version": deal.version},
        HTTP_HOST=crm.a.host,
        HTTP_ACCEPT="application/json",
    )
    assert moved.status_code == 200
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).stage_id == second.pk


def test_the_api_reads_and_writes_with_redis_down(crm: Any, redis_down: None) -> None:
    api = token_for(crm, crm.manager)
    assert api.call("get", "/deals/").status_code == 200
    created = api.call("post", "/deals/", {"title": "Через API без Redis"})
    assert created.status_code == 201, created.body
    with crm.a:
        assert Deal.objects.filter(title="Через API без Redis").count() == 1


def test_sign_up_works_with_redis_down(db: None, redis_down: None) -> None:
    response = HttpClient().post(
        "/signup/",
        {
            "company_name": "Без Redis",
            "slug": "bez-redis",
            "email": "bezredis@example.com",
            "password": PASSWORD,
            "signup_key": "7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        },
    )
    assert response.status_code == 302, response.content[:500]


def test_the_fallback_keeps_companies_apart(two_companies: Any, redis_down: None) -> None:
    from django.core.cache import cache

    a, b = two_companies
    with a:
        cache.set("board-heads", json.dumps({"who": "a"}))
    with b:
        assert cache.get("board-heads") is None
    with a:
        assert json.loads(cache.get("board-heads")) == {"who": "a"}
