"""Deleting a company takes its tickets with it: its schema, with every customer-service table,
is dropped (committed data, as in production: no test transaction around the purge)."""

from __future__ import annotations

from typing import Any

from relata.db import connection
from service.services import tickets as service


def test_deleting_a_company_drops_its_tickets(committed_companies: Any) -> None:
    from tenants.services.deletion import purge_company

    doomed = committed_companies("Удаляемая")
    with doomed:
        service.open_ticket(company=doomed.company, subject="S", text="x", source="manual")
    schema = doomed.company.schema_name
    purge_company(doomed.company)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
            [schema],
        )
        assert cursor.fetchone()[0] == 0
