"""A 1,000,000-row Excel client list imported end to end: it completes, peak memory, progress.

    .venv/bin/python bench/import_million.py [--rows 1000000]

The file is the messy generated list of bench/import_speed.py, at a million rows. The import
runs in a fresh interpreter (so the generator's memory is not counted) the way the Celery task
runs it: `create_batch` on the uploaded file, then `run_batch` with a progress callback. The
child reports its peak resident memory (getrusage), how many progress updates it made and the
longest time between two of them. Target (issue #5): completes, peak memory under 1 GiB,
progress updating throughout. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RELATA_BENCH_DB", "relata_bench_million")

from common import ROOT, configure, machine, populate, write_section

CHILD = """
import io, json, os, resource, sys, time
sys.path.insert(0, {bench!r})
from common import configure
configure(fresh=False)
from django.conf import settings
settings.MEDIA_ROOT = {media!r}
from tenants.models import Company
from onboarding.services.imports import create_batch, run_batch
from import_speed import clear_crm
company = Company.objects.exclude(schema_name="public").order_by("pk").first()
updates = []
def progress(row):
    updates.append((time.perf_counter(), row))
with company:
    clear_crm()
    started = time.perf_counter()
    with open({path!r}, "rb") as upload:
        batch = create_batch(user_id=None, file=upload, file_name="clients.xlsx")
    report = run_batch(batch, company=company, on_progress=progress)
    elapsed = time.perf_counter() - started
    from crm_core.models import Client, Contact, Phone
    made = [Client.objects.count(), Contact.objects.count(), Phone.objects.count()]
    clear_crm()
stamps = [started] + [t for t, _row in updates]
print(json.dumps({{
    "status": report.batch.status,
    "error": report.batch.error,
    "elapsed": elapsed,
    "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "updates": len(updates),
    "first_update": updates[0][0] - started if updates else None,
    "longest_gap": max(b - a for a, b in zip(stamps, stamps[1:])) if updates else None,
    "last_row": updates[-1][1] if updates else None,
    "made": made,
}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    configure(fresh=False)
    populate(1)
    from import_speed import generate

    work = Path(tempfile.mkdtemp(prefix="relata-bench-million-"))
    print(f"generating {args.rows:,} rows…", flush=True)
    started = time.perf_counter()
    path = work / "clients.xlsx"
    path.write_bytes(generate(args.rows))
    size_mb = path.stat().st_size / 1e6
    print(f"generated {size_mb:.0f} MB in {time.perf_counter() - started:.0f} s", flush=True)
    media = work / "media"
    media.mkdir()
    child = CHILD.format(bench=str(ROOT / "bench"), media=str(media), path=str(path))
    result = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
        cwd=ROOT / "bench",
    )
    if result.returncode != 0:
        print(result.stderr[-4000:])
        raise SystemExit(result.returncode)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(figures)
    peak_mib = figures["peak_kib"] / 1024
    body = f"""## Import of a 1,000,000-row Excel client list: completes, memory, progress

Command: `.venv/bin/python bench/import_million.py --rows {args.rows}`
Machine: {machine()}. File: the generated messy list of bench/import_speed.py at
{args.rows:,} rows ({size_mb:.0f} MB xlsx). The import runs in its own interpreter as the
Celery task runs it (`create_batch`, then `run_batch` with a progress callback).

| measure | value |
|---|---|
| outcome | {figures["status"]}{(" — " + figures["error"]) if figures["error"] else ""} |
| time, upload to done | {figures["elapsed"]:.0f} s ({args.rows / figures["elapsed"]:,.0f} rows/s) |
| made | {figures["made"][0]:,} clients, {figures["made"][1]:,} contact persons, {figures["made"][2]:,} phones |
| peak resident memory of the importing process | {peak_mib:,.0f} MiB (target < 1,024 MiB) |
| progress updates | {figures["updates"]:,}, the first after {figures["first_update"]:.1f} s, longest gap {figures["longest_gap"]:.1f} s |
"""
    write_section("import_million", body)


if __name__ == "__main__":
    main()
