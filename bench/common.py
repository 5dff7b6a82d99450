"""Shared set-up for benchmarks: a throwaway database with many companies, and reporting.

The database is `relata_bench` on the server of DATABASE_URL (the embedded PostgreSQL when
unset). Companies are made by building one schema with the real migrations and copying it
with pg_dump (the copy is only a fast way to populate the benchmark; sign-up never does it).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
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

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if fresh and exists:
            conn.execute(f"DROP DATABASE {BENCH_DB} WITH (FORCE)")
        if fresh or not exists:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
    parts = urlsplit(admin_url)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    import django

    django.setup()


def populate(companies: int) -> float:
    """Make sure the benchmark database holds ``companies`` companies; returns seconds spent."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from tenants.models import Company, Domain, Membership, User
    from tenants.services import schema_pool

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    have = Company.objects.count()
    if have >= companies:
        return 0.0
    template = schema_pool.create_spare()
    from tenants.models import SpareSchema

    SpareSchema.objects.filter(name=template).delete()  # the template is not for sign-ups
    from tenants.services import schema_copy

    dump = schema_copy.replayable_dump(template)
    if dump is None:
        raise SystemExit("pg_dump of the template schema failed (see the log)")
    owner = User.objects.filter(
        email="bench-owner@example.com"
    ).first() or User.objects.create_user(email="bench-owner@example.com", password=None)
    batch: list[tuple[str, str]] = []
    for number in range(have, companies):
        slug = f"bench-{number:05d}"
        batch.append((slug, f"c_{slug.replace('-', '_')}"))
    with connection.cursor() as cursor:
        for index, (_slug, schema) in enumerate(batch):
            with transaction.atomic():
                cursor.execute(f'CREATE SCHEMA "{schema}"')
                cursor.execute(schema_copy.renamed(dump, template, schema))
            if index % 100 == 99:
                print(f"  {have + index + 1} companies", flush=True)
        cursor.execute(f'DROP SCHEMA "{template}" CASCADE')
    made = Company.objects.bulk_create(
        [Company(name=f"Bench {slug}", slug=slug, schema_name=schema) for slug, schema in batch]
    )
    Domain.objects.bulk_create(
        [Domain(domain=f"{c.slug}.localhost", tenant=c, is_primary=True) for c in made]
    )
    Membership.objects.bulk_create([Membership(user=owner, company=c, role="owner") for c in made])
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
