"""Idempotency-Key on the API's creates: a retry gets the first answer, never a second record."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from django.db import connection as thread_connection
from django.test import Client as HttpClient
from django.utils import timezone

from crm_core.api.models import IdempotentRequest
from crm_core.api.services import issue_token
from crm_core.models import Deal, Task
from tenants.models import Membership
from tests.test_api import token_for


def _post(api: Any, path: str, body: dict[str, Any], key: str) -> Any:
    return api.http.post(
        f"/api/v1{path}",
        json.dumps(body),
        content_type="application/json",
        HTTP_HOST=api.host,
        HTTP_AUTHORIZATION=f"Bearer {api.secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_retry_with_the_same_key_gets_the_first_answer(crm: Any) -> None:
    api = token_for(crm, crm.manager)
    first = _post(api, "/deals/", {"title": "Окна на дачу"}, "order-1")
    again = _post(api, "/deals/", {"title": "Окна на дачу"}, "order-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    with crm.a:
        assert Deal.objects.filter(title="Окна на дачу").count() == 1
    # A refusal is an answer too: the same key gets the same refusal.
    bad = _post(api, "/tasks/", {"title": ""}, "task-1")
    assert bad.status_code == 400
    assert _post(api, "/tasks/", {"title": ""}, "task-1").json() == bad.json()
    # Without a key, every request is its own.
    api.call("post", "/deals/", {"title": "Без ключа"})
    api.call("post", "/deals/", {"title": "Без ключа"})
    with crm.a:
        assert Deal.objects.filter(title="Без ключа").count() == 2
        assert not Task.objects.exists()


def test_a_request_that_dies_half_way_leaves_its_key_free_for_the_retry(
    crm: Any, monkeypatch: Any
) -> None:
    """The database restarting or the process dying after the write, before the answer was
    stored: nothing of that request stays (the deal included), and the retry runs once."""
    from crm_core.api import views

    real = views.create_deal
    calls = {"n": 0}

    def dies_after_writing(**kwargs: Any) -> Any:
        calls["n"] += 1
        deal = real(**kwargs)
        if calls["n"] == 1:
            raise RuntimeError("the connection went away")
        return deal

    monkeypatch.setattr(views, "create_deal", dies_after_writing)
    api = token_for(crm, crm.manager)
    api.http.raise_request_exception = False
    assert _post(api, "/deals/", {"title": "Замер"}, "order-9").status_code == 500
    with crm.a:
        assert not Deal.objects.filter(title="Замер").exists()
    retry = _post(api, "/deals/", {"title": "Замер"}, "order-9")
    assert retry.status_code == 201, retry.content[:300]
    assert _post(api, "/deals/", {"title": "Замер"}, "order-9")["Idempotent-Replayed"] == "true"
    with crm.a:
        assert Deal.objects.filter(title="Замер").count() == 1


def test_the_same_key_with_another_request_is_refused(crm: Any) -> None:
    api = token_for(crm, crm.manager)
    assert _post(api, "/deals/", {"title": "Первый"}, "k").status_code == 201
    other = _post(api, "/deals/", {"title": "Второй"}, "k")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    too_long = _post(api, "/deals/", {"title": "Третий"}, "x" * 256)
    assert too_long.status_code == 400
    with crm.a:
        assert list(Deal.objects.values_list("title", flat=True)) == ["Первый"]


def test_a_key_is_kept_for_24_hours(crm: Any) -> None:
    api = token_for(crm, crm.manager)
    assert _post(api, "/deals/", {"title": "Вчера"}, "day").status_code == 201
    with crm.a:
        IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert _post(api, "/deals/", {"title": "Вчера"}, "day").status_code == 201
    with crm.a:
        assert Deal.objects.filter(title="Вчера").count() == 2


def test_keys_of_one_company_never_answer_another(crm: Any) -> None:
    api_a = token_for(crm, crm.manager)
    with crm.b:
        owner_b = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        issued = issue_token(membership=owner_b, name="b", access="write", resources=[])
    api_b = type(api_a)(crm.b.host, issued.secret)
    made_a = _post(api_a, "/deals/", {"title": "Сделка"}, "same-key").json()
    made_b = _post(api_b, "/deals/", {"title": "Сделка"}, "same-key")
    assert made_b.status_code == 201
    assert "Idempotent-Replayed" not in made_b
    with crm.b:
        assert Deal.objects.filter(title="Сделка").count() == 1
        assert Deal.objects.get(title="Сделка").pk == made_b.json()["id"]
    assert made_a["id"] is not None


def test_five_simultaneous_retries_make_one_deal(committed_companies: Any) -> None:
    company = committed_companies("Двойной клик")
    owner = Membership.objects.get(company=company.company, user=company.owner)
    with company:
        issued = issue_token(membership=owner, name="site", access="write", resources=[])
    start = threading.Barrier(5)
    answers: list[int] = []

    def retry() -> None:
        try:
            start.wait()
            answer = HttpClient().post(
                "/api/v1/deals/",
                json.dumps({"title": "Один раз"}),
                content_type="application/json",
                HTTP_HOST=company.host,
                HTTP_AUTHORIZATION=f"Bearer {issued.secret}",
                HTTP_IDEMPOTENCY_KEY="double-click",
            )
            answers.append(answer.status_code)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=retry) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # The twins wait for the first one's claim to commit, then replay its answer.
    assert answers == [201] * 5
    with company:
        assert Deal.objects.filter(title="Один раз").count() == 1
