"""Shared helpers for the import tests."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from conftest import ROOT


def _fixtures_1c() -> Path:
    """The real 1C files are read in place, never copied into the repository: the folder named
    by RELATA_1C_FIXTURES, else ``shared/fixtures/1c`` beside the checkout or one of its
    parents (a clone elsewhere, e.g. CI's, finds the workplace's copy at /work/shared). A
    missing folder fails the tests that use it: they must not be skipped quietly."""
    if os.environ.get("RELATA_1C_FIXTURES"):
        return Path(os.environ["RELATA_1C_FIXTURES"])
    candidates = [p / "shared/fixtures/1c" for p in Path(ROOT).resolve().parents]
    candidates.append(Path("/work/shared/fixtures/1c"))
    return next((c for c in candidates if c.is_dir()), candidates[0])


FIXTURES_1C = _fixtures_1c()


def fixture_1c(relative: str) -> Path:
    path = FIXTURES_1C / relative
    assert path.is_file(), f"the real 1C fixture {path} is missing"
    return path


def run_import(
    company: Any,
    owner: Any,
    data: bytes | Path,
    name: str = "",
    *,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    date_order: str = "",
    options: dict[str, Any] | None = None,
) -> Any:
    from onboarding.services.imports import create_batch, run_batch

    if isinstance(data, Path):
        name = name or data.name
        data = data.read_bytes()
    batch = create_batch(
        user_id=owner.pk,
        file=io.BytesIO(data),
        file_name=name or "file.bin",
        mapping=mapping,
        dry_run=dry_run,
        date_order=date_order,
        options=options,
    )
    return run_batch(batch, company=company)
