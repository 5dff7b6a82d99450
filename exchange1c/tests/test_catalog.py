"""The catalogue exchange driven as 1C drives it: import.xml and offers.xml in chunks, in a
zip, after a dropped connection, polled while the worker imports, and sent twice."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.core.files.storage import default_storage

from crm_core.models import Product
from exchange1c.models import ExchangeSession, ReceivedFile
from exchange1c.tests.onec import DroppedConnection, fixture_1c
from onboarding.models import ImportBatch
from onboarding.tasks import run_import
from relata.celery import app

CATALOGUE = "dobromyslov-commerceml-parser/import0_1.xml"
OFFERS = "dobromyslov-commerceml-parser/offers0_1.xml"


def _connected(exchange: Any, kind: str = "catalog") -> Any:
    onec = exchange.onec(kind)
    assert onec.checkauth().word == "success"
    answer = onec.init()
    assert answer.lines == ["zip=yes", "file_limit=4096"]
    return onec


def test_a_full_catalogue_exchange_lands_products_and_prices_once(
    exchange: Any, eager: None
) -> None:
    catalogue, offers = fixture_1c(CATALOGUE).read_bytes(), fixture_1c(OFFERS).read_bytes()
    assert len(catalogue) > 4096  # really chunked
    counts = []
    for _run in range(2):  # the second run is 1C sending the same catalogue again
        onec = _connected(exchange)
        onec.upload("import.xml", catalogue)
        onec.upload("offers.xml", offers)
        assert onec.import_file("import.xml").lines == ["success"]
        assert onec.import_file("offers.xml").lines == ["success"]
        with exchange.company:
            counts.append(Product.objects.count())
    with exchange.company:
        # The catalogue's 35 live products (and offers of variants it does not list), once.
        assert counts[0] >= 35
        assert counts == [counts[0]] * 2
        assert Product.objects.filter(price__gt=0).exists()
        # The second run's files were the same bytes: answered from the first run's batches.
        assert ImportBatch.objects.count() == 2
        sessions = list(ExchangeSession.objects.all())
        assert [s.status for s in sessions] == [ExchangeSession.Status.DONE] * 2
        assert "import.xml" in sessions[0].message
        # The chunks are not kept once the importer has its own copy of the file.
        assert all(not f.parts for f in ReceivedFile.objects.all())


def test_import_says_progress_while_the_worker_runs_and_a_repeat_does_not_duplicate(
    exchange: Any,
) -> None:
    """No eager Celery: the batch really goes to the broker; the test is the worker."""
    onec = _connected(exchange)
    onec.upload("import.xml", fixture_1c(CATALOGUE).read_bytes())
    first = onec.get("import", filename="import.xml")
    assert first.word == "progress"
    # 1C timed out and asks again: still the one batch, still in progress.
    assert onec.get("import", filename="import.xml").word == "progress"
    with exchange.company:
        (batch,) = ImportBatch.objects.all()
        run_import(batch.pk)  # what the worker does with the queued task
    assert onec.get("import", filename="import.xml").lines == ["success"]
    # And once more after success (1C lost the answer): nothing is imported again.
    assert onec.get("import", filename="import.xml").lines == ["success"]
    with exchange.company:
        assert ImportBatch.objects.count() == 1
        assert Product.objects.count() == 35  # 36 in the file, one of them deleted in 1C
    app.control.purge()


def test_a_chunk_cut_by_a_dropped_connection_is_sent_again(exchange: Any, eager: None) -> None:
    data = fixture_1c(CATALOGUE).read_bytes()
    onec = _connected(exchange)
    assert onec.send_chunk("import.xml", data[:4096]).lines == ["success"]
    second = data[4096:8192]
    cut = onec.send_chunk(
        "import.xml",
        second,
        CONTENT_LENGTH=str(len(second)),
        **{"wsgi.input": DroppedConnection(second[:1000])},
    )
    assert cut.word == "failure"
    with exchange.company:
        assert ReceivedFile.objects.get(name="import.xml").size == 4096  # nothing of it kept
    # 1C starts the exchange again from checkauth and resends the file from its start.
    onec = _connected(exchange)
    onec.upload("import.xml", data)
    assert onec.import_file("import.xml").lines == ["success"]
    with exchange.company:
        assert Product.objects.count() == 35  # 36 in the file, one of them deleted in 1C
        latest = ExchangeSession.objects.first()
        assert latest is not None
        assert latest.files.get(name="import.xml").size == len(data)


def test_a_zip_is_unpacked_within_the_importers_limits(
    exchange: Any, eager: None, settings: Any
) -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("import.xml", fixture_1c(CATALOGUE).read_bytes())
        archive.writestr("offers.xml", fixture_1c(OFFERS).read_bytes())
        archive.writestr("import_files/ab/picture.jpg", b"\xff\xd8 not kept")
    onec = _connected(exchange)
    onec.upload("import.zip", packed.getvalue())
    assert onec.import_file("import.xml").lines == ["success"]
    assert onec.import_file("offers.xml").lines == ["success"]
    with exchange.company:
        assert Product.objects.count() >= 35
        assert Product.objects.filter(price__gt=0).exists()
        assert not ReceivedFile.objects.filter(name__endswith=".jpg").exists()
    # Over the importer's zip limits (here: files inside) the whole archive is refused.
    settings.MAX_IMPORT_ZIP_MEMBERS = 2
    onec = _connected(exchange)
    onec.upload("import.zip", packed.getvalue())
    refused = onec.import_file("import.xml")
    assert refused.word == "failure"
    assert "3" in refused.lines[1]


def test_a_chunk_over_file_limit_and_a_path_are_refused(exchange: Any) -> None:
    onec = _connected(exchange)
    over = onec.send_chunk("import.xml", b"x" * 4097)
    assert over.word == "failure"
    assert "4096" in over.lines[1]
    for name in ("../../etc/passwd", "..", "a/../../b.xml", "C:\\x.xml", ""):
        answer = onec.send_chunk(name, b"<x/>")
        assert answer.word == "failure", name
    with exchange.company:
        assert not ReceivedFile.objects.exclude(size=0).exists()
    assert not default_storage.exists("etc")
