"""An office with a PBX: company A (owner, two managers with extensions, a read-only member,
clients with phones) connected to a PBX, and company B beside it with a PBX of its own."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client as HttpClient

from telephony.providers.relata import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

CALLER = "+79161234567"  # the manager's client
COLLEAGUES_CALLER = "+79035550000"  # the colleague's client
UNKNOWN = "+79990001122"


@dataclass
class Office:
    a: Any
    b: Any
    owner: Any
    manager: Any
    colleague: Any
    viewer: Any
    client: Any
    colleagues_client: Any
    secret_a: str
    secret_b: str


def _connect(
    company: Any, owner: Any, provider: str = "relata", api_key: str = "", api_secret: str = ""
) -> str:
    from telephony.services.connection import ConnectionInput, connect, credentials
    from tenants.models import Membership

    membership = Membership.objects.get(company=company.company, user=owner)
    with company:
        connection = connect(
            membership=membership,
            data=ConnectionInput(provider=provider, api_key=api_key, api_secret=api_secret),
        )
        return credentials(connection).webhook_secret


@pytest.fixture
def office(two_companies: Any) -> Office:
    from crm_core.models import Client, Employee, Phone, Team
    from telephony.models import Extension
    from tenants.models import Membership, User

    a, b = two_companies

    def member(email: str, role: str) -> Any:
        user = User.objects.create_user(email=email, password="Member-Pass-991")  # noqa: S106
        return Membership.objects.create(user=user, company=a.company, role=role)

    manager = member("m1@example.com", "manager")
    colleague = member("m2@example.com", "manager")
    viewer = member("viewer@example.com", "read_only")
    with a:
        team = Team.objects.create(name="Sales")
        Employee.objects.create(user=manager.user, team=team)
        client = Client.objects.create(name="Ромашка", responsible=manager.user)
        Phone.objects.create(client=client, e164=CALLER, raw="8 916 123-45-67")
        theirs = Client.objects.create(name="Лютик", responsible=colleague.user)
        Phone.objects.create(client=theirs, e164=COLLEAGUES_CALLER, raw="8 903 555-00-00")
        Extension.objects.create(number="101", user=manager.user)
        Extension.objects.create(number="102", user=colleague.user)
    secret_a = _connect(a, a.owner)
    secret_b = _connect(b, b.owner)
    owner = Membership.objects.get(company=a.company, user=a.owner)
    return Office(a, b, owner, manager, colleague, viewer, client, theirs, secret_a, secret_b)


def signed_post(
    host: str, secret: str, payload: Any, *, stamp: int | None = None, raw: bytes | None = None
) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp_text = str(int(time.time()) if stamp is None else stamp)
    return HttpClient().post(
        "/public/telephony/events/",
        data=body,
        content_type="application/json",
        HTTP_HOST=host,
        headers={
            TIMESTAMP_HEADER: stamp_text,
            SIGNATURE_HEADER: signature(secret, stamp_text, body),
        },
    )


def event(kind: str, call_id: str = "c-1", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": kind,
        "call_id": call_id,
        "direction": "incoming",
        "from_number": CALLER,
        "to_number": "+74951112233",
    }
    payload.update(extra)
    return payload


def logged_in(membership: Any, company: Any) -> HttpClient:
    from tests.test_isolation import login_on_host

    return login_on_host(membership.user, company.company, company.host)
