"""The settings screen (owners and admins): connecting a provider with keys that are sealed and
never shown back, the endpoint to paste, extensions; the pop-up poller and the calls list on
every page; the event format in the published OpenAPI schema."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.db import connection as db

from onboarding import archive
from telephony.models import Call, Extension, PbxConnection
from telephony.tests.conftest import Office, event, logged_in, signed_post

MANGO_KEY, MANGO_SALT = "MANGO-API-KEY-0123456789", "MANGO-SALT-abcdefghij"


def test_the_owner_connects_mango_and_the_keys_are_sealed(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    owner = logged_in(office.owner, office.a)
    host = office.a.host
    assert 'id="nav-telephony"' in owner.get("/settings/", HTTP_HOST=host).content.decode()
    caplog.set_level(logging.DEBUG)
    saved = owner.post(
        "/settings/telephony/",
        {
            "provider": "mango",
            "api_key": MANGO_KEY,
            "api_secret": MANGO_SALT,
            "is_active": "on",
            "callback_minutes": "10",
        },
        HTTP_HOST=host,
    )
    assert saved.status_code == 302
    page = owner.get("/settings/telephony/", HTTP_HOST=host).content.decode()
    # The endpoint to paste into Mango's cabinet, the key's last characters, never the keys.
    assert f"http://{host}/public/telephony/mango" in page
    assert "…6789" in page
    assert MANGO_KEY not in page
    assert MANGO_SALT not in page
    assert MANGO_KEY not in caplog.text
    assert MANGO_SALT not in caplog.text
    with office.a:
        row = PbxConnection.objects.get()
        assert (row.provider, row.callback_minutes) == ("mango", 10)
        with db.cursor() as cursor:
            cursor.execute("SELECT row_to_json(c)::text FROM telephony_pbxconnection c")
            stored = cursor.fetchone()[0]
        assert MANGO_KEY not in stored
        assert MANGO_SALT not in stored
    # Saving again with blank key fields keeps the keys.
    owner.post(
        "/settings/telephony/",
        {"provider": "mango", "is_active": "on", "callback_minutes": "15"},
        HTTP_HOST=host,
    )
    from telephony.services.connection import credentials

    with office.a:
        keys = credentials(PbxConnection.objects.get())
        assert (keys.api_key, keys.api_secret) == (MANGO_KEY, MANGO_SALT)


def test_a_provider_is_not_switched_on_without_its_keys(office: Office) -> None:
    owner = logged_in(office.owner, office.a)
    answer = owner.post(
        "/settings/telephony/",
        {"provider": "zadarma", "is_active": "on", "callback_minutes": "15"},
        HTTP_HOST=office.a.host,
    )
    assert answer.status_code == 200
    assert "ключ и секрет API" in answer.content.decode()
    with office.a:
        assert PbxConnection.objects.get().provider == "relata"


def test_extensions_are_mapped_to_members_by_admins_only(office: Office) -> None:
    owner = logged_in(office.owner, office.a)
    host = office.a.host
    owner.post(
        "/settings/telephony/extensions/",
        {"number": "103", "user": str(office.viewer.user_id)},
        HTTP_HOST=host,
    )
    with office.a:
        assert Extension.objects.get(number="103").user_id == office.viewer.user_id
    # Someone of company B is not a member here.
    owner.post(
        "/settings/telephony/extensions/",
        {"number": "104", "user": str(office.b.owner.pk)},
        HTTP_HOST=host,
    )
    with office.a:
        assert not Extension.objects.filter(number="104").exists()
    manager = logged_in(office.manager, office.a)
    assert manager.get("/settings/telephony/", HTTP_HOST=host).status_code == 404
    assert (
        manager.post(
            "/settings/telephony/extensions/", {"number": "105"}, HTTP_HOST=host
        ).status_code
        == 404
    )


def test_the_webhook_secret_is_renewed_and_the_old_one_stops(office: Office) -> None:
    owner = logged_in(office.owner, office.a)
    owner.post("/settings/telephony/secret/", HTTP_HOST=office.a.host)
    old = signed_post(office.a.host, office.secret_a, event("started"))
    assert old.status_code == 401


def test_every_page_polls_for_calls_when_telephony_is_on(office: Office) -> None:
    manager = logged_in(office.manager, office.a)
    page = manager.get(f"/clients/{office.client.pk}/", HTTP_HOST=office.a.host).content.decode()
    assert 'id="call-popup"' in page
    assert "/static/telephony/calls.js" in page
    assert "<script>" not in page  # no inline script (the CSP forbids it)
    assert 'href="/calls/"' in page
    # Company B has telephony too, but a company without it polls nothing.
    with office.a:
        PbxConnection.objects.update(is_active=False)
    from django.core.cache import cache

    from telephony.services.connection import ON_KEY

    with office.a:
        cache.delete(ON_KEY)
    page = manager.get(f"/clients/{office.client.pk}/", HTTP_HOST=office.a.host).content.decode()
    assert 'id="call-popup"' not in page


def test_the_calls_list_shows_a_manager_only_calls_of_clients_she_sees(office: Office) -> None:
    from telephony.tests.conftest import COLLEAGUES_CALLER

    signed_post(office.a.host, office.secret_a, event("ended", call_id="mine", duration=5))
    signed_post(
        office.a.host,
        office.secret_a,
        event("ended", call_id="theirs", from_number=COLLEAGUES_CALLER, duration=5),
    )
    manager = logged_in(office.manager, office.a)
    listed = manager.get("/calls/", HTTP_HOST=office.a.host).content.decode()
    assert "Ромашка" in listed
    assert "Лютик" not in listed
    with office.a:
        theirs = Call.objects.get(external_id="theirs")
    assert (
        manager.post(
            f"/calls/{theirs.pk}/client/", {"name": "x"}, HTTP_HOST=office.a.host
        ).status_code
        == 404
    )
    owner_list = logged_in(office.owner, office.a).get("/calls/", HTTP_HOST=office.a.host)
    assert "Лютик" in owner_list.content.decode()
    # Company B's member sees none of A's calls (nor A's pages at all).
    b_owner = logged_in_b(office)
    assert "Ромашка" not in b_owner.get("/calls/", HTTP_HOST=office.b.host).content.decode()
    assert b_owner.get(f"/calls/{theirs.pk}/recording/", HTTP_HOST=office.b.host).status_code == 404


def logged_in_b(office: Office) -> Any:
    from tests.test_isolation import login_on_host

    return login_on_host(office.b.owner, office.b.company, office.b.host)


def test_the_event_format_is_in_the_openapi_schema(office: Office) -> None:
    from openapi_spec_validator import validate

    owner = logged_in(office.owner, office.a)
    answer = owner.get("/api/v1/schema/?format=json", HTTP_HOST=office.a.host)
    assert answer.status_code == 200
    schema = json.loads(answer.content)
    validate(schema)
    operation = schema["paths"]["/public/telephony/events/"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"X-Relata-Timestamp", "X-Relata-Signature"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/CallEventRequest")
    assert set(operation["responses"]) >= {"200", "400", "401", "404"}


def test_the_archive_keeps_calls_and_leaves_the_keys_out() -> None:
    archived = {model._meta.label for _name, model in archive.ENTITIES}
    assert {"telephony.Call", "telephony.Extension"} <= archived
    assert "telephony.PbxConnection" in archive.EXCLUDED


def test_the_keys_never_show_in_a_repr() -> None:
    from telephony.providers.base import Credentials

    shown = repr(Credentials(api_key="k-123456", api_secret="s-654321", webhook_secret="w-1"))
    assert "k-123456" not in shown
    assert "s-654321" not in shown
    assert "w-1" not in shown
