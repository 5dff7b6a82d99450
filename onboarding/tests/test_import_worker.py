"""Imports in a real Celery worker: the right company's schema, and a killed worker resumed."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from conftest import child_env, wait_for
from crm_core.models import Client, Phone
from onboarding.models import ImportBatch
from onboarding.services.imports import create_batch, stalled_batches
from onboarding.tasks import run_import
from onboarding.tests.sheets import csv_bytes, messy_xlsx
from relata.db import connection


def _worker(run_process: Any, tmp_path: Path, media: Path, queue: str, name: str) -> Any:
    return run_process(
        ["-m", "celery", "-A", "relata", "worker", "--pool", "solo", "-Q", queue, "-l", "warning"],
        env=child_env(MEDIA_ROOT=str(media), IMPORT_CHUNK_ROWS="500"),
        log=tmp_path / f"{name}.log",
    )


def _status(company: Any, batch_id: int) -> ImportBatch:
    with company:
        return ImportBatch.objects.get(pk=batch_id)


def test_an_import_runs_in_its_company_and_never_touches_another(
    committed_companies: Any, run_process: Any, tmp_path: Path, media_root: Path
) -> None:
    a = committed_companies("Import A")
    b = committed_companies("Import B")
    queue = f"import-{uuid.uuid4().hex[:8]}"
    _worker(run_process, tmp_path, media_root, queue, "worker")
    b_file = csv_bytes(
        [["Клиент", "Телефон"], ["Клиент Б", "+7 916 000-00-01"]], encoding="utf-8", delimiter=";"
    )
    with b:
        b_batch = create_batch(user_id=b.owner.pk, file=io.BytesIO(b_file), file_name="b.csv")
        run_import.apply_async(args=[b_batch.pk], queue=queue)
    wait_for(lambda: _status(b, b_batch.pk).status == "done", 60, "B's import")
    with a:
        a_batch = create_batch(
            user_id=a.owner.pk, file=io.BytesIO(messy_xlsx()), file_name="a.xlsx"
        )
        run_import.apply_async(args=[a_batch.pk], queue=queue)
    try:
        wait_for(lambda: _status(a, a_batch.pk).status == "done", 60, "A's import")
    except AssertionError:
        print((tmp_path / "worker.log").read_text())  # noqa: T201
        raise
    with a:
        assert Client.objects.count() == 5
        assert list(ImportBatch.objects.values_list("file_name", flat=True)) == ["a.xlsx"]
        a_path = ImportBatch.objects.get().file.name
    with b:
        assert list(Client.objects.values_list("name", flat=True)) == ["Клиент Б"]
        # A's batch is not visible in B, not even by its id.
        assert list(ImportBatch.objects.values_list("file_name", flat=True)) == ["b.csv"]
        assert not ImportBatch.objects.filter(file=a_path).exists()
    # Each company's upload lives under its own schema's folder.
    assert (media_root / a.company.schema_name / a_path).is_file()
    assert not (media_root / b.company.schema_name / a_path).exists()


def test_a_worker_killed_mid_import_is_resumed_without_duplicates(
    committed_companies: Any, run_process: Any, tmp_path: Path, media_root: Path
) -> None:
    a = committed_companies("Import kill")
    rows = [["Наименование", "Телефон", "Email"]] + [
        [
            f"Клиент {i:05d}",
            f"+7 916 {i // 10000:03d}-{i % 10000 // 100:02d}-{i % 100:02d}",
            f"c{i}@example.com",
        ]
        for i in range(20000)
    ]
    data = csv_bytes(rows, encoding="utf-8", delimiter=";")
    queue = f"import-{uuid.uuid4().hex[:8]}"
    first = _worker(run_process, tmp_path, media_root, queue, "first")
    with a:
        batch = create_batch(user_id=a.owner.pk, file=io.BytesIO(data), file_name="big.csv")
        run_import.apply_async(args=[batch.pk], queue=queue)
    connection.set_schema_to_public()
    wait_for(lambda: _status(a, batch.pk).checkpoint >= 1500, 120, "the first chunks")
    first.kill()  # SIGKILL: no clean-up, mid-chunk
    first.wait(timeout=15)
    interrupted = _status(a, batch.pk)
    assert interrupted.status == "running"
    assert 1500 <= interrupted.checkpoint < 20001
    with a:
        committed = Client.objects.count()
    assert committed == interrupted.checkpoint - 1  # the header is row 1
    # The beat finds the batch by its stale heartbeat and hands it to a worker again.
    with a:
        ImportBatch.objects.filter(pk=batch.pk).update(
            heartbeat_at=interrupted.heartbeat_at.replace(year=2000)  # type: ignore[union-attr]
        )
        assert [s.pk for s in stalled_batches()] == [batch.pk]
    _worker(run_process, tmp_path, media_root, queue, "second")
    with a:
        run_import.apply_async(args=[batch.pk], queue=queue)
    connection.set_schema_to_public()
    try:
        wait_for(lambda: _status(a, batch.pk).status == "done", 180, "the resumed import")
    except AssertionError:
        print((tmp_path / "second.log").read_text())  # noqa: T201
        raise
    with a:
        assert Client.objects.count() == 20000
        assert Client.objects.values("name").distinct().count() == 20000
        assert Phone.objects.count() == 20000
        done = ImportBatch.objects.get(pk=batch.pk)
        assert done.counts["created"] == 20000
        assert done.counts["rows"] == 20000
