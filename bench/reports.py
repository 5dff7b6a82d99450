"""Each sales report against the 1,000,000-contact / 200,000-deal company of crm_scale.py.

    .venv/bin/python bench/reports.py [--samples 10]

Reads only: it uses the data set bench/crm_scale.py built in relata_bench (company "bigco")
and never generates, migrates or changes it; without that data set it says so and stops.
Times each report's query function (what the page and the Excel export both call) for the
owner (every record) and a manager (own records), over the year so far.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from typing import Any

from common import BENCH_DB, configure, machine, percentile, write_section


def _bench_exists() -> bool:
    import psycopg

    url = os.environ.get("DATABASE_URL")
    if not url:
        return False
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
    return row is not None


def timed(fn: Any, samples: int) -> list[float]:
    values = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        values.append(time.perf_counter() - started)
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    if not _bench_exists():
        print(f"{BENCH_DB} is not there: run bench/crm_scale.py first.")
        sys.exit(0)
    configure(fresh=False)
    from django.utils import translation

    translation.activate("en")  # the report names in docs/benchmarks.md, which is English

    from crm_core.models import Deal
    from crm_core.reports.queries import REPORTS, scope_for
    from tenants.models import Company, Membership

    company = Company.objects.filter(slug="bigco").first()
    if company is None:
        print("No company 'bigco' in the benchmark database: run bench/crm_scale.py first.")
        sys.exit(0)
    owner = Membership.objects.get(company=company, role="owner")
    manager = Membership.objects.filter(company=company, role="manager").order_by("pk").first()
    today = date.today()
    rows = []
    over: list[str] = []
    load = os.getloadavg()[0]
    with company:
        deals = Deal.objects.count()
        from crm_core.models import Pipeline

        pipeline = Pipeline.objects.get(is_default=True)
        for who, member in (("owner", owner), ("manager", manager)):
            if member is None:
                continue
            scope = scope_for(
                member,
                company,
                date_from=date(today.year, 1, 1),
                date_to=today,
                pipeline=pipeline,
            )
            for key, (title, report) in REPORTS.items():
                report(scope)  # warm the connection's caches once
                values = timed(lambda report=report, scope=scope: report(scope), args.samples)
                rows.append(
                    f"| {title} ({key}) | {who} | "
                    f"{sorted(values)[len(values) // 2] * 1000:.0f} ms | "
                    f"{percentile(values, 95) * 1000:.0f} ms |"
                )
                print(rows[-1], flush=True)
                if percentile(values, 95) > 0.5:
                    over.append(f"{key} ({who})")
    body = "\n".join(
        [
            "## Reports at 200,000 deals (bench/reports.py)",
            "",
            f"{machine()}; company `bigco` of bench/crm_scale.py ({deals:,} deals), period: the "
            f"year so far; {args.samples} samples per report after one warm-up. Target: p95 ≤ "
            "500 ms per report. The generated data set has deals but no stage history, "
            "activities, tasks or requests, so those reports measure the visibility-scoped "
            "scans over empty tables plus the deal-side work. "
            f"Load average when it started: {load:.1f} (the machine is shared).",
            "",
            "| report | member | median | p95 |",
            "|---|---|---|---|",
            *rows,
            "",
            "Over the target: " + (", ".join(over) if over else "none") + ".",
            "",
            "Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres "
            "python bench/reports.py --samples 10`",
        ]
    )
    write_section("reports", body)


if __name__ == "__main__":
    main()
