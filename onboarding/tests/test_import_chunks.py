"""How an import's chunks reach the database: their commit, and the ids they take."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from crm_core.models import Client
from onboarding.importing import engine
from onboarding.importing.copying import _next_ids
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import csv_bytes
from relata.db import connection

pytestmark = pytest.mark.usefixtures("media_root")


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def test_a_chunk_commits_without_waiting_for_the_disk_and_nothing_else_does(
    committed_companies: Any, monkeypatch: Any
) -> None:
    # The chunk and its checkpoint are one transaction: lost together in a server crash, so a
    # resumed run redoes the chunk. Everything outside the chunk keeps the durable commit.
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    seen: list[str] = []
    checkpoint = engine.Importer._checkpoint

    def recorded(self: Any, row_number: int) -> None:
        seen.append(_synchronous_commit())
        checkpoint(self, row_number)

    monkeypatch.setattr(engine.Importer, "_checkpoint", recorded)
    a = committed_companies("Chunks A")
    rows = [["Наименование", "Телефон"]] + [
        [f"Клиент {i}", f"+7 916 100-00-{i:02d}"] for i in range(5)
    ]
    with a:
        report = run_import(
            a.company, a.owner, csv_bytes(rows, encoding="utf-8", delimiter=";"), "clients.csv"
        )
        assert report.batch.status == "done"
        assert report.counts["created"] == 5
        assert seen == ["off", "off", "off"]  # three chunks of two, two, one
        assert _synchronous_commit() == "on"
        assert Client.objects.count() == 5


def test_a_chunk_inside_a_callers_transaction_keeps_the_callers_durable_commit(
    committed_companies: Any,
) -> None:
    a = committed_companies("Chunks B")
    with a:
        with transaction.atomic(), engine._chunk_transaction():
            assert _synchronous_commit() == "on"
        with engine._chunk_transaction():
            assert _synchronous_commit() == "off"
        assert _synchronous_commit() == "on"


def test_new_ids_come_from_the_current_companys_own_sequence(make_company: Any) -> None:
    a = make_company("Ids A")
    b = make_company("Ids B")
    with b:
        b_first = _next_ids(Client, 1)[0]
    with a:
        taken = _next_ids(Client, 2000)
        assert taken == list(range(taken[0], taken[0] + 2000))  # distinct, in order
        assert _next_ids(Client, 1)[0] > taken[-1]
    with b:
        # A's 2,001 ids did not move B's sequence.
        assert _next_ids(Client, 1)[0] == b_first + 1
