"""Shared set-up for benchmarks: a throwaway database with many companies, and reporting.

The database is `relata_bench` on the server of DATABASE_URL (the embedded PostgreSQL when
unset), or a Citus coordinator's (the database is then made on every node). Companies are made
by building one schema with the real migrations and copying it with pg_dump, the way the spare
pool builds spares after the first (on Citus each copy is then distributed to a worker).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# Another name keeps parallel checkouts from dropping each other's benchmark database.
BENCH_DB = os.environ.get("RELATA_BENCH_DB", "relata_bench")
sys.path.insert(0, str(ROOT))


def configure(fresh: bool) -> None:
    """Point Django at the benchmark database (created or dropped first when ``fresh``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relata.settings")
    os.environ.setdefault("RELATA_ENV", "development")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL"):
        from relata import embedded

        db = embedded.start_postgres()
        os.environ["DATABASE_URL"] = (
            f"postgres://postgres@{db['HOST'].replace('/', '%2F')}/postgres"
        )
    admin_url = os.environ["DATABASE_URL"]
    import psycopg

    from relata.db_backend.creation import cluster_nodes, join_cluster

    with psycopg.connect(admin_url, autocommit=True) as conn, conn.cursor() as cursor:
        # On a Citus coordinator the database is made on every node and joined to the cluster
        # the maintenance database lists, as the test databases are.
        nodes = cluster_nodes(cursor)
        if nodes is not None:
            conn.execute("SET citus.enable_create_database_propagation = on")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if fresh and exists:
            conn.execute(f"DROP DATABASE {BENCH_DB} WITH (FORCE)")
        if fresh or not exists:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
    parts = urlsplit(admin_url)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    if nodes:
        join_cluster({"conninfo": os.environ["DATABASE_URL"]}, nodes)
    import django

    django.setup()


def populate(
    companies: int, until: float | None = None, jobs: int = 1, part: int | None = None
) -> float:
    """Make sure the benchmark database holds ``companies`` companies; returns seconds spent.

    With ``until`` (a time.time()), stops after the batch that passes it: the companies built
    so far stay registered, and a later run goes on from there. ``jobs`` builds in that many
    processes at once, each the numbers ``n % jobs == part`` (on Citus one build keeps about
    one of the two cores busy, spread over the coordinator and a worker)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from tenants.models import Company, Domain, Membership, User
    from tenants.services import schema_pool

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    if Company.objects.count() >= companies:
        return 0.0
    owner = User.objects.filter(
        email="bench-owner@example.com"
    ).first() or User.objects.create_user(email="bench-owner@example.com", password=None)
    if jobs > 1 and part is None:
        children = [
            subprocess.Popen(
                [sys.executable, __file__, str(companies), f"{k}/{jobs}", str(until or "")],
                cwd=ROOT,
            )
            for k in range(jobs)
        ]
        if any(child.wait() for child in children):
            raise SystemExit("a population process failed (see its output above)")
        return time.perf_counter() - started
    registered = set(
        Company.objects.filter(slug__startswith="bench-").values_list("slug", flat=True)
    )
    missing = [
        n
        for n in range(companies)
        if f"bench-{n:05d}" not in registered and (part is None or n % jobs == part)
    ][: companies - Company.objects.count()]
    if not missing:
        return 0.0
    template = schema_pool.create_spare()
    from tenants.models import SpareSchema

    SpareSchema.objects.filter(name=template).delete()  # the template is not for sign-ups
    from tenants.services import schema_copy

    dump = schema_copy.replayable_dump(template)
    if dump is None:
        raise SystemExit("pg_dump of the template schema failed (see the log)")
    citus = bool(getattr(connection, "is_citus", False))
    every = 10 if citus else 100
    for first in range(0, len(missing), every):
        if until is not None and time.time() > until:
            print(f"  stopped with {Company.objects.count()} companies (--until)", flush=True)
            break
        batch = [(f"bench-{n:05d}", f"c_bench_{n:05d}") for n in missing[first : first + every]]
        for _slug, schema in batch:
            # The product's path: a plain schema (on Citus: on the coordinator), the copy
            # replayed into it, then — on Citus — distributed to a worker.
            schema_pool.drop_schema(schema)  # half-built by an interrupted run
            schema_pool.create_schema(schema)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(schema_copy.renamed(dump, template, schema))
            schema_pool.distribute(schema)
            if citus:
                # A fresh session per company: one that has distributed dozens of schemas
                # spends 6-8 s on the next (its Citus metadata cache is rebuilt after every
                # distribution and holds every schema it touched), a new one ~2.6 s.
                connection.close()
        # Registered a batch at a time, so an interrupted run keeps what it built.
        made = Company.objects.bulk_create(
            [Company(name=f"Bench {slug}", slug=slug, schema_name=schema) for slug, schema in batch]
        )
        Domain.objects.bulk_create(
            [Domain(domain=f"{c.slug}.localhost", tenant=c, is_primary=True) for c in made]
        )
        Membership.objects.bulk_create(
            [Membership(user=owner, company=c, role="owner") for c in made]
        )
        print(f"  {Company.objects.count()} companies", flush=True)
    schema_pool.drop_schema(template)
    return time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {percentile(values, 95) * 1000:.1f} ms, n={len(values)}"
    )


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, PostgreSQL {pg}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )


def write_section(name: str, body: str) -> None:
    """Replace the section between this benchmark's markers in docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        text = re.sub(
            re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S
        )
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    # One of populate()'s processes: COMPANIES PART/JOBS [UNTIL]
    configure(fresh=False)
    _part, _jobs = (int(x) for x in sys.argv[2].split("/"))
    populate(
        int(sys.argv[1]),
        float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None,
        jobs=_jobs,
        part=_part,
    )
