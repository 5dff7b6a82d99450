"""A token limited to a list of resources can be limited to tickets: made on the API tokens
page with "Tickets" ticked, it reads and writes tickets and nothing else; a token limited to
other resources is refused tickets; company B's tickets-only token reaches none of A's."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.api.models import ApiToken
from crm_core.api.services import issue_token
from tenants.models import Membership
from tests.test_api import Api, token_for
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _token_from_the_page(crm: Any, resources: list[str]) -> Api:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = browser.get("/settings/api-tokens/", HTTP_HOST=crm.a.host)
    assert 'value="tickets"' in page.content.decode()
    made = browser.post(
        "/settings/api-tokens/",
        {"name": "Help desk", "access": "write", "resources": resources, "acting_as": crm.owner.pk},
        HTTP_HOST=crm.a.host,
    )
    assert made.status_code == 200
    assert made.context["secret"], made.content.decode()[:2000]
    return Api(crm.a.host, made.context["secret"])


def test_a_token_limited_to_tickets_reaches_tickets_and_nothing_else(crm: Any) -> None:
    api = _token_from_the_page(crm, ["tickets"])
    with crm.a:
        assert ApiToken.objects.get(name="Help desk").resources == ["tickets"]
    made = api.call("post", "/tickets/", {"subject": "Из сайта", "text": "Помогите"})
    assert made.status_code == 201, made.body
    assert [t["id"] for t in api.call("get", "/tickets/").body["results"]] == [made.body["id"]]
    assert api.call("patch", f"/tickets/{made.body['id']}/", {"status": "open"}).status_code == 200
    for path in ("/deals/", "/clients/", "/requests/"):
        refused = api.call("get", path)
        assert refused.status_code == 403, (path, refused.body)
    # A token limited to deals is refused tickets, reading and writing.
    deals_only = token_for(crm, crm.owner, resources=["deals"])
    assert deals_only.call("get", "/tickets/").status_code == 403
    assert deals_only.call("post", "/tickets/", {"subject": "x", "text": "y"}).status_code == 403
    assert deals_only.call("get", f"/tickets/{made.body['id']}/").status_code == 403
    # Read-only and tickets-only: reads, never writes.
    reader = token_for(crm, crm.owner, access="read", resources=["tickets"])
    assert reader.call("get", "/tickets/").status_code == 200
    assert reader.call("post", "/tickets/", {"subject": "x", "text": "y"}).status_code == 403

    # Company B's tickets-only token: none of A's tickets, on its own host or on A's.
    with crm.b:
        b_owner = Membership.objects.get(company=crm.b.company, user=crm.b.owner)
        issued = issue_token(membership=b_owner, name="b", access="write", resources=["tickets"])
    b_api = Api(crm.b.host, issued.secret)
    assert b_api.call("get", "/tickets/").body["results"] == []
    assert b_api.call("get", f"/tickets/{made.body['id']}/").status_code == 404
    assert Api(crm.a.host, issued.secret).call("get", "/tickets/").status_code == 401


def test_unknown_resources_are_still_refused(crm: Any) -> None:
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    page = browser.post(
        "/settings/api-tokens/",
        {"name": "x", "access": "read", "resources": ["ticketz"], "acting_as": crm.owner.pk},
        HTTP_HOST=crm.a.host,
    )
    assert page.status_code == 200
    assert page.context["secret"] is None
    with crm.a:
        assert not ApiToken.objects.exists()
