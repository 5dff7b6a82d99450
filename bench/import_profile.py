"""Where an import's time goes: parse, normalise + dedupe (planning), write.

    .venv/bin/python bench/import_profile.py [--rows 20000] [--client-columns]

Runs Relata's import of the same generated file as bench/import_speed.py under cProfile and
prints the time per phase and the costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time

from common import configure, populate

PHASES = {
    "parse (read the sheet)": ("sources.py", "read_rows"),
    "plan (normalise + dedupe)": ("engine.py", "_plan_row"),
    "write (COPY / bulk)": ("engine.py", "_write"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--client-columns",
        action="store_true",
        help="map only django-import-export's columns (the same-work comparison)",
    )
    args = parser.parse_args()
    configure(fresh=False)
    from django.conf import settings
    from import_speed import clear_crm, client_only_mapping, generate

    from onboarding.services.imports import create_batch, run_batch
    from tenants.models import Company

    populate(1)
    company = Company.objects.exclude(schema_name="public").order_by("pk").first()
    assert company is not None
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="relata-bench-media-")
    data = generate(args.rows)
    with company:
        clear_crm()
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        mapping = client_only_mapping(data) if args.client_columns else None
        batch = create_batch(
            user_id=None, file=io.BytesIO(data), file_name="clients.xlsx", mapping=mapping
        )
        run_batch(batch, company=company)
        profile.disable()
        elapsed = time.perf_counter() - started
        clear_crm()
    stats = pstats.Stats(profile)
    print(f"{args.rows:,} rows in {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s)")
    entries = stats.stats  # type: ignore[attr-defined]
    for phase, (file_name, function) in PHASES.items():
        cumulative = sum(
            v[3]
            for (path, _line, name), v in entries.items()
            if path.endswith(file_name) and name == function
        )
        print(f"  {phase}: {cumulative:.1f} s cumulative")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
