"""Shared helpers for the import tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from conftest import ROOT

# The real 1C files live next to the repository (never copied into it). A missing folder
# fails the tests that use it: they must not be skipped quietly.
FIXTURES_1C = Path(ROOT).parent / "shared/fixtures/1c"


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
    )
    return run_batch(batch, company=company)
