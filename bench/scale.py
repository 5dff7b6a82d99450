"""What grows with the number of companies: measured at 1,000 / 2,000 / 5,000 schemas.

    .venv/bin/python bench/scale.py [--steps 1000,2000,5000] [--samples 15]
        [--label citus] [--reuse] [--populate-only] [--until HH:MM] [--jobs 2]

For each size: sign-up to usable workspace (pool path), release migration with nothing pending
and with one no-op migration, server time of a company's workspace page (home) and of its deal
board, and the memory one PostgreSQL connection holds after it has touched every company (the
catalog cache grows per schema, which is why connection lifetimes are capped).

DATABASE_URL may name a Citus coordinator (docs/scale.md): the companies are then distributed
schemas spread over its workers. ``--label`` keeps each server's figures in a section of their
own in docs/benchmarks.md; ``--reuse`` keeps the companies an earlier (``--populate-only``) run
built, since building a distributed schema takes seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from common import configure, machine, percentile, populate, write_section

NOOP_MODULES = {"crm_core": "bench.noop_migrations.crm_core"}


def _timestamp(hh_mm: str) -> float:
    hour, minute = (int(part) for part in hh_mm.split(":"))
    return datetime.now(UTC).replace(hour=hour, minute=minute, second=0).timestamp()


def _catalogue_size() -> str:
    """Relations in every node's catalogue: on Citus each worker also holds a shell of every
    other worker's tables (the metadata every node keeps), so it grows with all companies."""
    from django.db import connection

    with connection.cursor() as cursor:
        if getattr(connection, "is_citus", False):
            cursor.execute(
                "SELECT result FROM run_command_on_all_nodes("
                "'SELECT count(*) FROM pg_class') ORDER BY nodeid"
            )
        else:
            cursor.execute("SELECT count(*) FROM pg_class")
        return " / ".join(str(row[0]) for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="1000,2000,5000")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--label", default="")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--populate-only", action="store_true")
    parser.add_argument("--until", help="stop building companies at this UTC time (HH:MM)")
    parser.add_argument("--jobs", type=int, default=1, help="processes building companies")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    configure(fresh=not args.reuse)

    import psycopg
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment
    from psycopg import sql

    from tenants.models import Company
    from tenants.services import handoff, schema_pool
    from tenants.services.schema_migrations import _dsn, company_schemas, migrate_all

    setup_test_environment()
    rows: list[dict[str, Any]] = []
    until = _timestamp(args.until) if args.until else None
    for size in steps:
        populate(size, until, jobs=args.jobs)
        if args.populate_only:
            continue
        load = os.getloadavg()
        schema_pool.refill(1)  # the release's first spare may need the migrations
        started = time.perf_counter()
        built = schema_pool.refill(args.samples + 3)
        spare = (time.perf_counter() - started) / max(1, built)  # the pool's copies

        signups, boards = [], []
        for sample in range(args.samples + 1):
            slug = f"s-{uuid.uuid4().hex[:10]}"
            form = {
                "company_name": "Scale",
                "slug": slug,
                "email": f"{slug}@example.com",
                "password": "Correct-Horse-42",
                "signup_key": str(uuid.uuid4()),
            }
            public, company = HttpClient(), HttpClient()
            started = time.perf_counter()
            location = public.post("/signup/", form)["Location"]
            host = f"{slug}.localhost"
            company.get(location.split(host, 1)[1], HTTP_HOST=host)
            assert company.get("/", HTTP_HOST=host).status_code == 200
            if sample:  # the first one warms caches and imports up and is not counted
                signups.append(time.perf_counter() - started)
            # The deal board of a signed-up company (the bench's copied companies have no
            # pipeline: sign-up's starting data is not in a copy of an empty spare).
            started = time.perf_counter()
            assert company.get("/deals/", HTTP_HOST=host).status_code == 200
            if sample:
                boards.append(time.perf_counter() - started)

        started = time.perf_counter()
        migrate_all(progress=lambda _line: None)
        nothing = time.perf_counter() - started
        settings.MIGRATION_MODULES = NOOP_MODULES
        started = time.perf_counter()
        report = migrate_all(progress=lambda _line: None)
        noop = time.perf_counter() - started
        settings.MIGRATION_MODULES = {}
        with connection.cursor() as cursor:  # undo, so the next size starts alike
            for schema in company_schemas():
                cursor.execute(
                    sql.SQL(
                        "DELETE FROM {}.django_migrations WHERE name = '0901_release_noop'"
                    ).format(sql.Identifier(schema))
                )

        pages = []
        companies = list(
            Company.objects.filter(slug__startswith="bench-").order_by("?")[: args.samples]
        )
        owner = companies[0].memberships.get().user
        for target in companies:
            browser = HttpClient()
            host = f"{target.slug}.localhost"
            token = handoff.issue(user=owner, company=target)
            browser.get(f"/handoff/{token}/", HTTP_HOST=host)
            started = time.perf_counter()
            assert browser.get("/", HTTP_HOST=host).status_code == 200
            pages.append(time.perf_counter() - started)

        catalogue = _catalogue_size()

        schemas = [c for c in company_schemas() if c.startswith("c_")]
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            memory = "SELECT sum(total_bytes) FROM pg_backend_memory_contexts"
            before = (conn.execute(memory).fetchone() or [0])[0]
            for schema in schemas:
                for table in ("crm_core_client", "django_session", "django_content_type"):
                    conn.execute(
                        sql.SQL("SELECT 1 FROM {}.{} LIMIT 1").format(
                            sql.Identifier(schema), sql.Identifier(table)
                        )
                    )
            after = (conn.execute(memory).fetchone() or [0])[0]
        rows.append(
            {
                "size": len(schemas),
                "signup": (statistics.median(signups), percentile(signups, 95)),
                "nothing": nothing,
                "noop": (noop, report.replayed),
                "page": (statistics.median(pages), percentile(pages, 95)),
                "board": (statistics.median(boards), percentile(boards, 95)),
                "load": load,
                "spare": spare,
                "catalogue": catalogue,
                "memory": (before, after, (after - before) / len(schemas)),
            }
        )
        print(rows[-1], flush=True)
        _report(rows, args)  # after every size: a run stopped later keeps what it measured


def _report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    from django.db import connection

    table = "\n".join(
        f"| {r['size']} | {r['spare']:.1f} s | {r['signup'][0] * 1000:.0f} / {r['signup'][1] * 1000:.0f} ms "
        f"| {r['nothing']:.2f} s | {r['noop'][0]:.2f} s | "
        f"{r['page'][0] * 1000:.1f} / {r['page'][1] * 1000:.1f} ms | "
        f"{r['board'][0] * 1000:.1f} / {r['board'][1] * 1000:.1f} ms | "
        f"{r['memory'][1] / 2**20:.0f} MB ({r['memory'][2] / 1024:.0f} KB per schema) | "
        f"{r['catalogue']} | {' / '.join(f'{v:.2f}' for v in r['load'])} |"
        for r in rows
    )
    server = "a Citus coordinator" if getattr(connection, "is_citus", False) else "PostgreSQL"
    body = f"""
## What grows with the number of companies{f" ({args.label})" if args.label else ""}

Command: `.venv/bin/python bench/scale.py {" ".join(sys.argv[1:])}` on {server}.
Machine: {machine()}.

| company schemas | building a spare (copy of a ready one) | sign-up to workspace (median / p95) | release, nothing pending | release, one no-op migration | workspace page server time (median / p95) | deal board server time, a signed-up company (median / p95) | one connection after touching every company (3 tables each) | relations in the catalogue (per node) | load average (1/5/15 min) at the start |
|---|---|---|---|---|---|---|---|---|---|
{table}
"""
    print(body)
    write_section(f"scale-{args.label}" if args.label else "scale", body)


if __name__ == "__main__":
    main()
