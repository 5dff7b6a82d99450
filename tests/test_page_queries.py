"""How many queries each main page makes, pinned from above so that it cannot creep back up
(bench/page_profile.py measures the same pages at 1,000,000 contacts). A page warmed once —
its company, session, user, membership, trial and set-up entry kept in the cache — makes
only its own queries; records added to the company do not add queries (no N+1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.test_isolation import login_on_host

# The upper bounds, with what the page reads. Raising one needs a reason in the commit.
# (The search looks people up once per distinct name nearest the text, at most ten: the
# records here share one name, as a page of real results mostly does.)
PAGES = {
    # SET, pipelines, fields, rates, stages, heads, cards, next tasks, the payment marks
    "/deals/": 9,
    "/deals/list/": 7,  # … with the payment marks of the page's deals (one grouped query)
    "/clients/": 5,
    "/contacts/": 5,
    "/search/?q=Иванов": 8,
    "/": 13,
    "/tasks/calendar/": 3,
}
DEAL_CARD = 22  # with the deal's payment by its invoices
CLIENT_CARD = 19


def _world(crm: Any, n: int) -> tuple[int, int]:
    """``n`` clients with a contact person and a phone each, a deal with both and a task."""
    from crm_core.models import Client, Contact, Deal, Phone, Task

    owner = crm.owner.user
    with crm.a:
        stage = crm.pipeline.stages.order_by("position").first()
        deal = client = None
        for i in range(n):
            client = Client.objects.create(name=f"ООО Окна {i}", responsible=owner)
            person = Contact.objects.create(
                client=client, last_name="Иванов", first_name="Пётр", responsible=owner
            )
            Phone.objects.create(contact=person, e164=f"+7999000{i:04d}", raw="x")
            deal = Deal.objects.create(
                title=f"Окна {i}",
                client=client,
                pipeline=crm.pipeline,
                stage=stage,
                responsible=owner,
                amount=1000 + i,
            )
            deal.contacts.add(person)
            Task.objects.create(
                title=f"Позвонить {i}",
                deal=deal,
                assignee=owner,
                deadline=timezone.now() + timedelta(hours=i - 2),
            )
        assert deal is not None
        assert client is not None
        return deal.pk, client.pk


def _queries(browser: Any, host: str, path: str) -> int:
    assert browser.get(path, HTTP_HOST=host).status_code == 200  # warm
    with CaptureQueriesContext(django_connection) as captured:
        assert browser.get(path, HTTP_HOST=host).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("records", [2, 12])
def test_main_pages_stay_within_their_queries(crm: Any, records: int) -> None:
    deal_id, client_id = _world(crm, records)
    browser = login_on_host(crm.owner.user, crm.a.company, crm.a.host)
    found = {path: _queries(browser, crm.a.host, path) for path in PAGES}
    found["deal card"] = _queries(browser, crm.a.host, f"/deals/{deal_id}/")
    found["client card"] = _queries(browser, crm.a.host, f"/clients/{client_id}/")
    limits = {**PAGES, "deal card": DEAL_CARD, "client card": CLIENT_CARD}
    over = {page: (n, limits[page]) for page, n in found.items() if n > limits[page]}
    assert not over, f"queries (found, allowed): {over}; all: {found}"
