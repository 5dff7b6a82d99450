"""The tickets list's search: how many matched (exact up to a bound, "more than" past it, never
a count of every match), and a plan that stays fast whichever way PostgreSQL's statistics lean:
a word many tickets hold is read along the recency index and stops after a page, a rare phrase
through the trigram index."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from service import queries
from service.models import Ticket
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.django_db


def _fill(crm: Any, common: int, rare: int) -> None:
    with crm.a:
        Ticket.objects.bulk_create(
            [
                Ticket(number=n, subject=f"Не пришла доставка {n}", source="manual")
                for n in range(1, common + 1)
            ]
            + [
                Ticket(number=100_000 + n, subject=f"Возврат товара {n}", source="manual")
                for n in range(rare)
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE service_ticket")


def test_the_page_says_how_many_matched_and_more_than_the_bound(crm: Any) -> None:
    _fill(crm, queries.SEARCH_PROBE + 5, 3)
    browser = login_on_host(crm.manager.user, crm.a.company, crm.a.host)
    many = browser.get("/tickets/?status=all&q=доставка", HTTP_HOST=crm.a.host)
    text = many.content.decode()
    assert 'id="found-count"' in text
    assert f"{queries.SEARCH_PROBE}" in text.split('id="found-count"')[1].split("</p>")[0]
    assert many.context["found_many"] is True
    # The newest first, a full page, and a next page.
    assert f"Не пришла доставка {queries.SEARCH_PROBE + 5}<" in text
    assert many.context["more"] is True
    few = browser.get("/tickets/?status=all&q=возврат товара", HTTP_HOST=crm.a.host)
    assert few.context["found"] == 3
    assert few.context["found_many"] is False
    assert len(few.context["rows"]) == 3
    # A number and an e-mail still find their ticket, through either route.
    by_number = browser.get("/tickets/?status=all&q=%23100001", HTTP_HOST=crm.a.host)
    assert [t.number for t, *_ in by_number.context["rows"]] == [100_001]
    # No search, no count: the plain list never counts.
    assert browser.get("/tickets/?status=all", HTTP_HOST=crm.a.host).context["found"] is None


def test_a_common_word_walks_the_recency_index(crm: Any) -> None:
    _fill(crm, queries.SEARCH_PROBE + 200, 5)
    with crm.a, connection.cursor() as cursor:
        # As at 200,000 tickets, where reading the whole table is never the cheap way.
        cursor.execute("SET enable_seqscan = off")
        try:
            for member in (crm.owner, crm.manager):
                common = queries.ticket_list(member, {"status": "all", "q": "доставка"})
                plan = common.tickets.values("pk")[: queries.PAGE + 1].explain()
                assert "ticket_live_idx" in plan, plan
                assert "Sort" not in plan, plan
            rare = queries.ticket_list(crm.manager, {"status": "all", "q": "Возврат товара"})
            assert rare.found == 5
            assert len(rare.tickets) == 5
        finally:
            cursor.execute("RESET enable_seqscan")
