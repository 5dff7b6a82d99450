"""Document numbers per company, per kind and per year: no gap, no duplicate.

One statement takes the next number: an upsert of the counter row that returns the new value.
The row stays locked until the transaction that stores the document commits, so a second
generation of the same kind waits for it; when the document's transaction rolls back, so does
the counter, and the number is taken again by the next one. Numbering restarts each year.
"""

from __future__ import annotations

from django.db import connection, transaction

from crm_core.documents.models import Counter


def take_number(kind: str, year: int) -> int:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a number is taken inside the transaction that stores the document")
    return _upsert(kind, year, first=1, then="{table}.last_number + 1")


def continue_after(kind: str, year: int, number: int) -> None:
    """Numbers of this kind and year go on after `number` (documents brought in from an
    export archive): the counter is raised to it, never lowered."""
    _upsert(kind, year, first=number, then="greatest({table}.last_number, excluded.last_number)")


def _upsert(kind: str, year: int, *, first: int, then: str) -> int:
    """One statement on the counter row: `first` for a new row, else `then` (SQL over the
    existing row); returns the number now stored."""
    table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, year, last_number) VALUES (%s, %s, %s) "
            f"ON CONFLICT (kind, year) DO UPDATE SET last_number = {then.format(table=table)} "
            "RETURNING last_number",
            [kind, year, first],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
