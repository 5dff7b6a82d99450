"""Bad input that used to end in a server error: NUL characters, Unicode digits, numbers and
dates at the edges of what the database holds. Each gets a clear refusal and writes nothing
(a probe of every route with such values found these; the cases are kept here)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient

from crm_core.automation.models import CapturedRequest, RequestForm
from crm_core.automation.services.setup import hash_key
from crm_core.models import Client, CustomField, Deal, DealItem, Task
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")

SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() says yes, int() says no


@pytest.fixture
def deal(crm: Any) -> Deal:
    with crm.a:
        stage = crm.pipeline.stages.order_by("position")[0]
        return Deal.objects.create(
            title="Окна", pipeline=crm.pipeline, stage=stage, amount=Decimal(100)
        )


def test_nul_characters_in_parameters_are_refused_before_any_view(crm: Any, deal: Deal) -> None:
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    for path, params in [
        ("/search/", {"q": "ab\x00cd"}),
        ("/contacts/", {"q": "a\x00"}),
        ("/products/", {"q": "a\x00"}),
        ("/clients/duplicates/", {"email": "a\x00@b.c"}),
        ("/audit/", {"type": "a\x00", "id": "1"}),
    ]:
        response = owner.get(path, params, HTTP_HOST=crm.a.host)
        assert response.status_code == 400, path
        assert "NUL" in response.content.decode()
    response = owner.post(
        f"/deals/{deal.pk}/tasks/",
        {"task-title": "Позвонить\x00", "task-kind": "call", "task-deadline": "2026-12-01T10:00"},
        HTTP_HOST=crm.a.host,
    )
    assert response.status_code == 400
    with crm.a:
        assert not Task.objects.exists()
    # Ordinary text passes.
    assert owner.get("/search/", {"q": "Окна"}, HTTP_HOST=crm.a.host).status_code == 200


def test_unicode_digits_in_numeric_parameters_are_not_numbers(crm: Any, deal: Deal) -> None:
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    host = crm.a.host
    for path in ("/clients/", "/contacts/", "/deals/list/"):
        assert owner.get(path, {"page": SUPERSCRIPT_TWO}, HTTP_HOST=host).status_code == 200
    assert (
        owner.get("/audit/", {"type": "deal", "id": SUPERSCRIPT_TWO}, HTTP_HOST=host).status_code
        == 200
    )
    moved = owner.post(
        f"/deals/{deal.pk}/move/",
        {"stage": SUPERSCRIPT_TWO},
        HTTP_HOST=host,
        HTTP_ACCEPT="application/json",
    )
    assert moved.status_code == 400
    with crm.a:
        assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id


def test_a_custom_field_filter_beyond_any_number_is_a_form_error(crm: Any) -> None:
    with crm.a:
        CustomField.objects.create(entity="client", key="area", label="Площадь", kind="number")
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    response = owner.get("/clients/", {"cf_area__min": "1e400"}, HTTP_HOST=crm.a.host)
    assert response.status_code == 200


def test_a_line_that_would_overflow_the_deals_amount_is_refused(crm: Any, deal: Deal) -> None:
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    response = owner.post(
        f"/deals/{deal.pk}/items/",
        {"item-name": "Окна", "item-quantity": "999999999", "item-price": "999999999999"},
        HTTP_HOST=crm.a.host,
        follow=True,
    )
    assert response.status_code == 200
    assert "сумма сделки превысит" in response.content.decode()
    with crm.a:
        assert not DealItem.objects.exists()
        assert Deal.objects.get(pk=deal.pk).amount == Decimal(100)


def test_dates_at_the_calendars_edge_are_refused(crm: Any, deal: Deal) -> None:
    owner = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    host = crm.a.host
    owner.post(
        f"/deals/{deal.pk}/tasks/",
        {"task-title": "t", "task-kind": "call", "task-deadline": "9999-12-31T23:59"},
        HTTP_HOST=host,
    )
    with crm.a:
        assert not Task.objects.exists()
    report = owner.get(
        "/reports/funnel/", {"date_from": "9999-01-01", "date_to": "9999-12-31"}, HTTP_HOST=host
    )
    assert report.status_code in {200, 400}
    assert "1900" in report.content.decode()


def test_the_public_api_refuses_text_the_database_cannot_hold(crm: Any) -> None:
    with crm.a:
        form = RequestForm.objects.create(name="Сайт", api_key_hash=hash_key("key-1"))
        clients = Client.objects.count()
    api = HttpClient()
    for body in [
        '{"name": "Ivan\\u0000", "phone": "+79991234570"}',
        '{"name": "Ivan\\ud800", "phone": "+79991234571"}',
        '{"name": "Ivan", "utm": {"utm_source": "\\u0000"}}',
        '{"name": ' + "9" * 5000 + "}",
    ]:
        response = api.post(
            "/public/api/requests/",
            body,
            content_type="application/json",
            HTTP_HOST=crm.a.host,
            HTTP_AUTHORIZATION="Bearer key-1",
        )
        assert response.status_code == 400, body[:40]
        assert json.loads(response.content)["error"]["code"] in {"bad_text", "bad_json"}
    with crm.a:
        assert not CapturedRequest.objects.filter(form=form).exists()
        assert Client.objects.count() == clients


def test_the_api_answers_a_nul_in_its_own_error_shape(crm: Any) -> None:
    from crm_core.api.services import issue_token

    with crm.a:
        token = issue_token(membership=crm.owner, name="t", access="read", resources=[])
    response = HttpClient().get(
        "/api/v1/deals/",
        {"cursor": "ab\x00"},
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
    )
    assert response.status_code == 400
    error = json.loads(response.content)["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["cursor"]


# --- JSON bounded before it is parsed (relata.jsonlimits) -------------------------------------


def _nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def test_json_depth_is_counted_without_recursion_and_outside_strings() -> None:
    from relata import jsonlimits

    assert jsonlimits.nesting_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert jsonlimits.nesting_depth(_nested(100_000).encode()) == 100_000
    deep: list[object] = []
    for _level in range(100_000):  # a value deeper than any recursion limit
        deep = [deep]
    assert jsonlimits.storable(deep)
    assert not jsonlimits.storable([[["ok", {"k": "a\x00"}]]])


@pytest.mark.parametrize("levels", [33, 500, 900, 5000])
def test_deep_json_is_refused_in_the_apis_error_shape(crm: Any, levels: int) -> None:
    from crm_core.api.services import issue_token

    with crm.a:
        token = issue_token(membership=crm.owner, name="t", access="write", resources=[])
    response = HttpClient().post(
        "/api/v1/deals/",
        '{"title": "Окна", "custom": ' + _nested(levels) + "}",
        content_type="application/json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
    )
    assert response.status_code == 400
    error = json.loads(response.content)["error"]
    assert error["code"] == "too_deep", error
    with crm.a:
        assert not Deal.objects.filter(title="Окна").exists()


@pytest.mark.parametrize("levels", [33, 400, 900, 5000])
def test_deep_json_is_refused_by_the_public_request_endpoint(crm: Any, levels: int) -> None:
    with crm.a:
        RequestForm.objects.create(name="Сайт", api_key_hash=hash_key("key-deep"))
    response = HttpClient().post(
        "/public/api/requests/",
        '{"name": "Ivan", "utm": ' + _nested(levels, "{}") + "}",
        content_type="application/json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION="Bearer key-deep",
    )
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["code"] == "too_deep"
    with crm.a:
        assert not CapturedRequest.objects.exists()


def test_deep_json_is_refused_by_the_stripe_webhook(db: None) -> None:
    response = HttpClient().post(
        "/billing/stripe/webhook/",
        '{"id": "evt_1", "data": ' + _nested(5000) + "}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=0",
    )
    assert response.status_code == 400
