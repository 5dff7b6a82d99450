"""The REST API: CRUD through the services, visibility, token scopes, revocation, isolation
between companies, rate limits, the error format and the published OpenAPI schema."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from crm_core.api.models import ApiToken
from crm_core.api.services import hash_token, issue_token
from crm_core.models import Client, Deal, Lead, Product, Stage
from crm_core.services.deals import create_deal
from tests.test_isolation import login_on_host

API = "/api/v1"


class Api:
    """A client of the API with one token on one host."""

    def __init__(self, host: str, secret: str) -> None:
        self.host, self.secret, self.http = host, secret, HttpClient()

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        kwargs: dict[str, Any] = {
            "HTTP_HOST": self.host,
            "HTTP_AUTHORIZATION": f"Bearer {self.secret}",
        }
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif query:
            kwargs["data"] = query
        response = getattr(self.http, method)(f"{API}{path}", **kwargs)
        response.body = response.json() if response.content else None
        return response


def token_for(
    crm: Any, member: Any, access: str = "write", resources: list[str] | None = None
) -> Api:
    with crm.a:
        issued = issue_token(
            membership=crm.owner,
            name="integration",
            access=access,
            resources=resources or [],
            acting_as=member,
        )
    return Api(crm.a.host, issued.secret)


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.body
    assert set(response.body) == {"error"}
    assert response.body["error"]["code"] == code
    assert response.body["error"]["message"]
    assert isinstance(response.body["error"]["fields"], dict)


def test_deals_crud_with_versions(crm: Any) -> None:
    api = token_for(crm, crm.manager)
    created = api.call("post", "/deals/", {"title": "Windows for the school", "amount": "120000"})
    assert created.status_code == 201, created.body
    deal = created.body
    assert deal["responsible"] == crm.manager.user_id
    assert deal["version"] == 1
    listed = api.call("get", "/deals/")
    assert [d["id"] for d in listed.body["results"]] == [deal["id"]]
    changed = api.call("patch", f"/deals/{deal['id']}/", {"version": 1, "title": "Windows x12"})
    assert changed.status_code == 200, changed.body
    assert changed.body["title"] == "Windows x12"
    assert changed.body["version"] == 2
    # Someone saved in between: the stale version is refused and nothing is lost.
    stale = api.call("patch", f"/deals/{deal['id']}/", {"version": 1, "title": "Overwrite"})
    assert_error(stale, 409, "stale_version")
    with crm.a:
        assert Deal.objects.get(pk=deal["id"]).title == "Windows x12"
        lost = Stage.objects.get(pipeline=crm.pipeline, outcome="lost")
        won = Stage.objects.get(pipeline=crm.pipeline, outcome="won")
    no_reason = api.call("patch", f"/deals/{deal['id']}/", {"version": 2, "stage": lost.pk})
    assert_error(no_reason, 400, "invalid")
    moved = api.call(
        "patch", f"/deals/{deal['id']}/", {"version": 2, "stage": won.pk, "amount": "130000"}
    )
    assert moved.status_code == 200, moved.body
    assert moved.body["stage"] == won.pk
    assert moved.body["amount"] == "130000.00"
    assert moved.body["closed_at"]
    by_stage = api.call("get", "/deals/", stage=won.pk)
    assert [d["id"] for d in by_stage.body["results"]] == [deal["id"]]
    assert api.call("get", "/deals/", stage=lost.pk).body["results"] == []
    bad = api.call("post", "/deals/", {"amount": "-5"})
    assert_error(bad, 400, "invalid")
    assert set(bad.body["error"]["fields"]) == {"title", "amount"}


def test_clients_contacts_tasks_products_requests(crm: Any) -> None:
    api = token_for(crm, crm.owner)
    client = api.call(
        "post",
        "/clients/",
        {"name": "ООО Окна", "inn": "7707083893", "phones": ["8 916 123-45-67"]},
    )
    assert client.status_code == 201, client.body
    assert client.body["phones"] == ["+79161234567"]
    long_name = api.call("post", "/clients/", {"name": "X", "contact_name": "0" * 150})
    assert_error(long_name, 400, "invalid")
    assert "contact_name" in long_name.body["error"]["fields"]
    bad_inn = api.call("post", "/clients/", {"name": "X", "inn": "7707083894"})
    assert_error(bad_inn, 400, "invalid")
    assert "inn" in bad_inn.body["error"]["fields"]
    patched = api.call(
        "patch", f"/clients/{client.body['id']}/", {"version": 1, "industry": "Construction"}
    )
    assert patched.status_code == 200, patched.body
    assert patched.body["industry"] == "Construction"
    assert patched.body["inn"] == "7707083893"
    contact = api.call(
        "post",
        "/contacts/",
        {"client": client.body["id"], "last_name": "Иванов", "first_name": "Пётр"},
    )
    assert contact.status_code == 201, contact.body
    renamed = api.call("patch", f"/contacts/{contact.body['id']}/", {"position": "Director"})
    assert renamed.body["position"] == "Director"
    assert renamed.body["last_name"] == "Иванов"
    of_client = api.call("get", "/contacts/", client=client.body["id"])
    assert [c["id"] for c in of_client.body["results"]] == [contact.body["id"]]
    deadline = (timezone.now() + timedelta(hours=1)).isoformat()
    task = api.call(
        "post",
        "/tasks/",
        {"title": "Call back", "deadline": deadline, "assignee": crm.manager.user_id},
    )
    assert task.status_code == 201, task.body
    done = api.call("patch", f"/tasks/{task.body['id']}/", {"done": True})
    assert done.body["done_at"]
    outsider = api.call(
        "post", "/tasks/", {"title": "x", "deadline": deadline, "assignee": crm.b.owner.pk}
    )
    assert_error(outsider, 400, "invalid")
    product = api.call("post", "/products/", {"name": "Window", "price": "9900.50"})
    assert product.status_code == 201, product.body
    assert product.body["vat_rate"] == "22"  # the standard rate unless given
    seeds = api.call("post", "/products/", {"name": "Seeds", "price": "10", "vat_rate": "10"})
    assert seeds.body["vat_rate"] == "10"
    # A change that does not name the rate keeps it.
    assert (
        api.call("patch", f"/products/{seeds.body['id']}/", {"price": "11"}).body["vat_rate"]
        == "10"
    )
    assert_error(
        api.call("post", "/products/", {"name": "X", "price": "1", "vat_rate": "18"}),
        400,
        "invalid",
    )
    assert api.call("delete", f"/products/{product.body['id']}/").status_code == 204
    assert_error(api.call("get", f"/products/{product.body['id']}/"), 404, "not_found")
    with crm.a:
        assert Product.objects.get(pk=product.body["id"]).is_active is False
    lead = api.call("post", "/requests/", {"name": "From the site", "source": "tilda"})
    assert lead.status_code == 201, lead.body
    assert lead.body["status"] == "new"
    assert [r["id"] for r in api.call("get", "/requests/", source="tilda").body["results"]] == [
        lead.body["id"]
    ]
    since = api.call("get", "/clients/", updated_since="not a date")
    assert_error(since, 400, "invalid")
    assert "updated_since" in since.body["error"]["fields"]


def test_cursor_pagination_walks_every_deal_once(crm: Any) -> None:
    with crm.a:
        for n in range(7):
            create_deal(membership=crm.owner, title=f"Deal {n}", pipeline=crm.pipeline)
    api = token_for(crm, crm.owner)
    seen: list[int] = []
    body = api.call("get", "/deals/", limit=3).body
    while True:
        seen += [d["id"] for d in body["results"]]
        if not body["next"]:
            break
        body = api.http.get(
            body["next"], HTTP_HOST=api.host, HTTP_AUTHORIZATION=f"Bearer {api.secret}"
        ).json()
    assert len(seen) == 7
    assert len(set(seen)) == 7


def test_a_managers_token_never_returns_a_colleagues_deals(crm: Any) -> None:
    with crm.a:
        mine = create_deal(membership=crm.manager, title="Mine", pipeline=crm.pipeline)
        theirs = create_deal(membership=crm.colleague, title="Theirs", pipeline=crm.pipeline)
    api = token_for(crm, crm.manager)
    assert [d["id"] for d in api.call("get", "/deals/").body["results"]] == [mine.pk]
    assert_error(api.call("get", f"/deals/{theirs.pk}/"), 404, "not_found")
    assert_error(api.call("patch", f"/deals/{theirs.pk}/", {"version": 1}), 404, "not_found")
    assert api.call("get", "/deals/", responsible=crm.colleague.user_id).body["results"] == []
    # The head sees the team (the manager), not the colleague outside it.
    head = token_for(crm, crm.head)
    assert [d["id"] for d in head.call("get", "/deals/").body["results"]] == [mine.pk]


def test_read_only_token_and_read_only_member_are_refused_writes(crm: Any) -> None:
    reader = token_for(crm, crm.owner, access="read")
    assert reader.call("get", "/deals/").status_code == 200
    assert_error(reader.call("post", "/deals/", {"title": "x"}), 403, "permission_denied")
    viewer = token_for(crm, crm.viewer, access="write")
    assert viewer.call("get", "/deals/").status_code == 200
    assert_error(viewer.call("post", "/deals/", {"title": "x"}), 403, "permission_denied")
    only_deals = token_for(crm, crm.owner, resources=["deals"])
    assert only_deals.call("get", "/deals/").status_code == 200
    assert_error(only_deals.call("get", "/clients/"), 403, "permission_denied")
    with crm.a:
        assert not Deal.objects.filter(title="x").exists()


def test_revoked_token_and_removed_member_are_refused(crm: Any) -> None:
    api = token_for(crm, crm.manager)
    assert api.call("get", "/deals/").status_code == 200
    with crm.a:
        token = ApiToken.objects.get(key_hash=hash_token(api.secret))
        assert token.last_used_at is not None
        from crm_core.api.services import revoke_token

        revoke_token(membership=crm.owner, token=token)
    assert_error(api.call("get", "/deals/"), 401, "authentication_failed")
    other = token_for(crm, crm.colleague)
    crm.colleague.is_active = False
    crm.colleague.save()
    assert_error(other.call("get", "/deals/"), 401, "authentication_failed")
    assert_error(
        Api(crm.a.host, "rlt_nonsense").call("get", "/deals/"), 401, "authentication_failed"
    )
    anonymous = HttpClient().get(f"{API}/deals/", HTTP_HOST=crm.a.host)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"


def test_a_token_of_a_never_reads_b(crm: Any) -> None:
    a_api = token_for(crm, crm.owner)
    # The same token on B's host: B's schema has no such token.
    on_b = Api(crm.b.host, a_api.secret)
    assert_error(on_b.call("get", "/clients/"), 401, "authentication_failed")
    # An id that exists only in B is simply not found through A.
    with crm.b:
        b_ids = list(Client.objects.values_list("pk", flat=True))
    with crm.a:
        a_ids = set(Client.objects.values_list("pk", flat=True))
    only_b = max(b_ids)
    assert only_b not in a_ids
    assert_error(a_api.call("get", f"/clients/{only_b}/"), 404, "not_found")
    names = {c["name"] for c in a_api.call("get", "/clients/").body["results"]}
    assert names == {"Client of A"}
    # A deal of A pointed at B's client id: refused as a field error, nothing created.
    made = a_api.call("post", "/deals/", {"title": "Cross", "client": only_b})
    assert_error(made, 400, "invalid")
    assert "client" in made.body["error"]["fields"]


def test_rate_limit_per_token(crm: Any, settings: Any) -> None:
    settings.RELATA_API_RATE = "3/min"
    first, second = token_for(crm, crm.owner), token_for(crm, crm.owner)
    for _ in range(3):
        assert first.call("get", "/products/").status_code == 200
    limited = first.call("get", "/products/")
    assert_error(limited, 429, "throttled")
    assert limited.body["error"]["retry_after"] > 0
    assert "Retry-After" in limited
    # Another token of the same company has its own budget.
    assert second.call("get", "/products/").status_code == 200


def test_rate_limit_keys_do_not_cross_companies(crm: Any, settings: Any) -> None:
    settings.RELATA_API_RATE = "1/min"
    a_api = token_for(crm, crm.owner)
    with crm.b:
        from tenants.models import Membership

        b_owner = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        b_token = issue_token(membership=b_owner, name="b", access="read", resources=[])
    # Give both tokens the same id in their own schemas (as two new companies' first tokens
    # have): the rate-limit keys must still differ.
    with crm.a:
        a_token = ApiToken.objects.get(key_hash=hash_token(a_api.secret))
    with crm.b:
        ApiToken.objects.filter(pk=b_token.token.pk).update(id=a_token.pk)
    assert a_api.call("get", "/products/").status_code == 200
    assert Api(crm.b.host, b_token.secret).call("get", "/products/").status_code == 200


def test_openapi_schema_is_published_and_valid(crm: Any) -> None:
    from openapi_spec_validator import validate

    api = token_for(crm, crm.manager, access="read", resources=["deals"])
    response = api.http.get(
        f"{API}/schema/?format=json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {api.secret}",
    )
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    paths = schema["paths"]
    for resource in ("clients", "contacts", "deals", "tasks", "products", "requests", "webhooks"):
        assert f"{API}/{resource}/" in paths
    assert "409" in paths[f"{API}/deals/{{id}}/"]["patch"]["responses"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert browser.get(f"{API}/docs/", HTTP_HOST=crm.a.host).status_code == 200
    assert browser.get(f"{API}/schema/", HTTP_HOST=crm.a.host).status_code == 200
    # Strangers are sent to log in; a bad token is refused.
    assert HttpClient().get(f"{API}/schema/", HTTP_HOST=crm.a.host).status_code == 302
    assert HttpClient().get(f"{API}/docs/", HTTP_HOST=crm.a.host).status_code == 302
    refused = HttpClient().get(
        f"{API}/schema/", HTTP_HOST=crm.a.host, HTTP_AUTHORIZATION="Bearer rlt_wrong"
    )
    assert refused.status_code == 401


def test_tokens_page_shows_the_token_once_and_keeps_only_its_hash(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = browser.post(
        "/settings/api-tokens/",
        {
            "name": "1C exchange",
            "access": "read",
            "resources": ["deals"],
            "acting_as": crm.manager.pk,
        },
        HTTP_HOST=crm.a.host,
    )
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret.startswith("rlt_")
    assert secret.encode() in page.content
    with crm.a:
        token = ApiToken.objects.get()
        assert token.key_hash == hash_token(secret)
        assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
        assert token.user_id == crm.manager.user_id
    again = browser.get("/settings/api-tokens/", HTTP_HOST=crm.a.host)
    assert secret.encode() not in again.content
    assert b"1C exchange" in again.content
    # Whose say-so the token rests on is on the page (it stops when they stop being admin).
    issuer = crm.owner.user.get_full_name() or crm.owner.user.email
    assert f"<td data-issued-by>{issuer}</td>" in again.content.decode()
    revoked = browser.post(f"/settings/api-tokens/{token.pk}/revoke/", HTTP_HOST=crm.a.host)
    assert revoked.status_code == 302
    with crm.a:
        token.refresh_from_db()
    assert token.revoked_at is not None
    manager = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    assert manager.get("/settings/api-tokens/", HTTP_HOST=crm.a.host).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/deals/999999/",
        "/clients/999999/",
        "/requests/999999/",
        "/deals/abc/",
        "/deals/99999999999999999999/",
        "/tasks/\u00b3/",  # a Unicode digit: isdigit() says yes, int() says no
        "/webhooks/999999/",
        "/nothing-here/",
    ],
)
def test_missing_records_answer_404_in_the_error_format(crm: Any, path: str) -> None:
    assert_error(token_for(crm, crm.owner).call("get", path), 404, "not_found")


def test_requests_visibility_unassigned_for_all_assigned_by_owner(crm: Any) -> None:
    with crm.a:
        free = Lead.objects.create(name="Anyone's")
        theirs = Lead.objects.create(name="Colleague's", responsible=crm.colleague.user)
    ids = {r["id"] for r in token_for(crm, crm.manager).call("get", "/requests/").body["results"]}
    assert free.pk in ids
    assert theirs.pk not in ids


def test_text_that_cannot_be_stored_and_numbers_for_text_are_refused(crm: Any) -> None:
    api = token_for(crm, crm.owner)
    assert_error(api.call("post", "/requests/", {"name": "a\u0000b"}), 400, "parse_error")
    raw = api.http.post(
        f"{API}/requests/",
        data='{"name": "\\ud9b5x"}',
        content_type="application/json",
        HTTP_HOST=api.host,
        HTTP_AUTHORIZATION=f"Bearer {api.secret}",
    )
    assert raw.status_code == 400
    numbers = api.call("post", "/deals/", {"title": 5, "amount": 10})
    assert_error(numbers, 400, "invalid")
    assert set(numbers.body["error"]["fields"]) == {"title", "amount"}


def test_a_token_stops_when_its_issuer_stops_managing_the_company(crm: Any) -> None:
    """A token made by an admin for a manager: it works while the admin is an admin; when the
    admin is demoted (or deactivated) the token is refused, though the manager is still active."""
    from tenants.models import Membership, User

    admin_user = User.objects.create_user(email="admin@example.com", password="Member-Pass-991")
    admin = Membership.objects.create(user=admin_user, company=crm.a.company, role="admin")
    with crm.a:
        issued = issue_token(
            membership=admin, name="site", access="read", resources=[], acting_as=crm.manager
        )
        assert ApiToken.objects.get(pk=issued.token.pk).issued_by_id == admin_user.pk
    api = Api(crm.a.host, issued.secret)
    assert api.call("get", "/deals/").status_code == 200
    admin.role = "manager"
    admin.save()
    assert_error(api.call("get", "/deals/"), 401, "authentication_failed")
    admin.role = "admin"
    admin.save()
    assert api.call("get", "/deals/").status_code == 200
    admin.is_active = False
    admin.save()
    assert_error(api.call("get", "/deals/"), 401, "authentication_failed")


def test_an_admin_cannot_make_a_token_acting_as_the_owner(crm: Any) -> None:
    from django.core.exceptions import ValidationError

    from tenants.models import Membership, User

    admin_user = User.objects.create_user(email="admin2@example.com", password="Member-Pass-991")
    admin = Membership.objects.create(user=admin_user, company=crm.a.company, role="admin")
    with crm.a, pytest.raises(ValidationError):
        issue_token(membership=admin, name="x", access="write", resources=[], acting_as=crm.owner)
    with crm.a:
        assert not ApiToken.objects.filter(name="x").exists()
    # A manager cannot make tokens at all, not even for themselves.
    from django.core.exceptions import PermissionDenied

    with crm.a, pytest.raises(PermissionDenied):
        issue_token(membership=crm.manager, name="y", access="read", resources=[])


@pytest.mark.parametrize(
    "header", ["Basic YWRtaW46YWRtaW4=", "Token abc", "Bearer", "Bearer rlt_wrong", "Bearer  "]
)
def test_the_schema_is_not_served_to_other_authorization_schemes(crm: Any, header: str) -> None:
    answer = HttpClient().get(
        f"{API}/schema/?format=json", HTTP_HOST=crm.a.host, HTTP_AUTHORIZATION=header
    )
    assert answer.status_code in (302, 401), answer.status_code
    assert b"openapi" not in answer.content


def test_the_schema_needs_a_token_of_this_company(crm: Any) -> None:
    a_api = token_for(crm, crm.manager, access="read", resources=["deals"])
    mine = HttpClient().get(
        f"{API}/schema/?format=json",
        HTTP_HOST=crm.a.host,
        HTTP_AUTHORIZATION=f"Bearer {a_api.secret}",
    )
    assert mine.status_code == 200
    on_b = HttpClient().get(
        f"{API}/schema/?format=json",
        HTTP_HOST=crm.b.host,
        HTTP_AUTHORIZATION=f"Bearer {a_api.secret}",
    )
    assert on_b.status_code == 401
