"""Bulk actions on 100,000 deals: a reassign and a stage change, time and worker memory.

    .venv/bin/python bench/bulk.py [--deals 100000] [--runs 3] [--fresh]

One company with ``--deals`` deals of its owner. Each run starts a bulk job exactly as the
list's "select all N matching" does (``start_bulk_job`` over the whole list) and runs it in a
fresh child process, as a Celery worker would (``run_bulk_job``): the figure is the child's
wall time and its peak resident memory (``ru_maxrss``). Runs alternate the target (two
managers, two stages), so every run changes every deal. Uses its own database
(relata_bench_bulk).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import common
from common import ROOT, machine, write_section

common.BENCH_DB = "relata_bench_bulk"
# What the figures mean beyond the table (kept by the next run; update it with the figures).
NOTE = (
    "Context: the machine was shared with six other sessions' test runs, so the runs vary "
    "(reassign 80–183 s, stage 111–203 s). The first version called `move_deal` and sent "
    "`deal_changed` per deal: measured on 3,000 deals the same day it did 16 stage changes/s "
    "and 80 reassigns/s (about 1.7 h and 21 min for 100,000), which is why both are set-based "
    'now (docs/decisions.md, "Bulk actions"). Peak memory is flat in the number of deals '
    "(145 MiB at 3,000, 255 MiB at 100,000: the chunk of 1,000 deals with its rows, plus Django)."
)
os.environ["CACHE_KEY_PREFIX"] = "bench-bulk"


def child(schema: str, job_id: int) -> None:
    """The worker's part, alone in this process (so its peak memory is the job's)."""
    common.configure(fresh=False)
    from crm_core.services.bulk import run_bulk_job
    from tenants.models import Company

    company = Company.objects.get(schema_name=schema)
    started = time.perf_counter()
    with company:
        job = run_bulk_job(job_id, company=company)
    assert job is not None
    assert job.status == "done", job.error
    print(f"{time.perf_counter() - started:.3f} {job.done}")


def _fill(deals: int) -> None:
    from crm_core.models import Deal, Pipeline
    from tenants.models import User

    owner = User.objects.get(email="bench-owner@example.com")
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.order_by("position").first()
    have = Deal.objects.count()
    batch = 10_000
    for start in range(have, deals, batch):
        Deal.objects.bulk_create(
            Deal(
                title=f"Сделка {n}",
                pipeline=pipeline,
                stage=stage,
                responsible=owner,
                created_by=owner,
                amount=1000 + n % 5000,
            )
            for n in range(start, min(deals, start + batch))
        )


def _run(
    company: Any, schema: str, action: str, params: dict[str, object]
) -> tuple[float, float, int]:
    from crm_core.services.bulk import start_bulk_job
    from tenants.models import Membership

    with company:
        owner = Membership.objects.get(company=company, role="owner")
        job = start_bulk_job(
            membership=owner,
            entity="deals",
            action=action,
            query="",
            ids=[],
            all_matching=True,
            params=params,
        )
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", schema, str(job.pk)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATABASE_URL": os.environ["RELATA_BENCH_ADMIN_URL"]},
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    assert status == 0, out
    seconds, done = out.split()[-2:]
    return float(seconds), usage.ru_maxrss / 1024, int(done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--only", choices=["reassign", "stage"])
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    os.environ["RELATA_BENCH_ADMIN_URL"] = os.environ.get("DATABASE_URL", "")
    common.configure(fresh=args.fresh)
    from django.core.management import call_command

    from crm_core.models import Pipeline
    from tenants.models import Company, Membership, User
    from tenants.services.provisioning import create_company

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    company = Company.objects.filter(slug="bench-bulk").first()
    if company is None:
        # One company through the real sign-up path (common.populate's pg_dump copy is for
        # thousands of companies and trips over PostgreSQL 18's \restrict lines).
        company = create_company(
            name="Bench bulk",
            slug="bench-bulk",
            owner_email="bench-owner@example.com",
            owner_password="Bench-Only-Password-1",
        ).company
    schema = company.schema_name
    second = User.objects.filter(email="bench-manager@example.com").first()
    if second is None:
        second = User.objects.create_user(email="bench-manager@example.com", password=None)
        Membership.objects.create(user=second, company=company, role="manager")
    with company:
        _fill(args.deals)
        stages = list(
            Pipeline.objects.get(is_default=True).stages.filter(outcome="open").order_by("position")
        )
        owner = Membership.objects.get(company=company, role="owner").user
    results: dict[str, list[tuple[float, float, int]]] = {"reassign": [], "stage": []}
    for run in range(args.runs):
        if args.only != "stage":
            target = second if run % 2 == 0 else owner
            results["reassign"].append(
                _run(company, schema, "reassign", {"responsible": target.pk})
            )
            print("reassign", results["reassign"][-1], flush=True)
        if args.only != "reassign":
            stage = stages[1 + run % 2]
            results["stage"].append(_run(company, schema, "stage", {"stage": stage}))
            print("stage", results["stage"][-1], flush=True)
    lines = [
        "## Bulk actions on a list's selection (`bench/bulk.py`)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/bulk.py --deals {args.deals} "
        f'--runs {args.runs}`. One company, {args.deals:,} deals selected with "all matching"; '
        "each run is one bulk job in a fresh worker process (chunks of 1,000, one transaction "
        "each). Medians of the runs.",
        "",
        "| action | deals changed | time, s (median) | deals/s | worker peak RSS, MiB (median) |",
        "|---|---|---|---|---|",
    ]
    for action, rows in results.items():
        if not rows:
            continue
        seconds = statistics.median(r[0] for r in rows)
        memory = statistics.median(r[1] for r in rows)
        done = rows[0][2]
        lines.append(
            f"| {action} | {done:,} | {seconds:.1f} | {done / seconds:,.0f} | {memory:.0f} |"
        )
    lines += ["", NOTE]
    print("\n".join(lines))
    if args.deals >= 100_000:
        write_section("bulk", "\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
