"""Release migration over N companies: `migrate_companies` vs django-tenants' `migrate_schemas`.

    .venv/bin/python bench/migrate.py [--companies 1000] [--baseline-sample 100]

Rebuilds the benchmark database of bench/signup.py (about 10 s), then measures, in one run:
1. `migrate_companies` with nothing pending;
2. `migrate_companies` with one new no-op migration in crm_core (a release);
3. `migrate_companies` with two more migrations, one adding a column and an index (DDL);
4. django-tenants' `migrate_schemas` (standard executor) with nothing pending, on a sample of
   schemas (the whole set would take ~10 minutes), reported per schema and projected to N.
"""

from __future__ import annotations

import argparse
import io
import time

from common import configure, machine, populate, write_section

NOOP_MODULES = {"crm_core": "bench.noop_migrations.crm_core"}
# 0002 adds a column and an index (DDL in every schema), 0003 is a no-op: shared with the tests.
DDL_MODULES = {"crm_core": "tests.fake_migrations.crm_core"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--baseline-sample", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    configure(fresh=True)

    from django.conf import settings
    from django.core.management import call_command

    from tenants.models import Company
    from tenants.services.schema_migrations import MigrationReport, company_schemas, migrate_all

    populate(args.companies)
    schemas = company_schemas()
    print(f"{len(schemas)} company and spare schemas")

    def timed() -> tuple[float, MigrationReport]:
        started = time.perf_counter()
        report = migrate_all(parallel=args.parallel, progress=lambda _line: None)
        return time.perf_counter() - started, report

    nothing_seconds, nothing = timed()
    settings.MIGRATION_MODULES = NOOP_MODULES
    release_seconds, release = timed()
    again_seconds, _ = timed()
    settings.MIGRATION_MODULES = DDL_MODULES
    ddl_seconds, ddl = timed()

    sample = list(
        Company.objects.order_by("?").values_list("schema_name", flat=True)[: args.baseline_sample]
    )
    started = time.perf_counter()
    for schema in sample:
        call_command(
            "migrate_schemas",
            schema_name=schema,
            tenant=True,
            interactive=False,
            verbosity=0,
            stdout=io.StringIO(),
        )
    per_schema = (time.perf_counter() - started) / len(sample)
    settings.MIGRATION_MODULES = {}

    body = f"""
## Release migration over every company

Command: `.venv/bin/python bench/migrate.py --companies {args.companies} --baseline-sample {args.baseline_sample}`
Machine: {machine()}. {len(schemas)} schemas (companies and spares), `--parallel {args.parallel}`.

| run | time |
|---|---|
| `migrate_companies`, nothing pending | {nothing_seconds:.2f} s ({nothing.up_to_date} up to date) |
| `migrate_companies`, one new no-op migration | {release_seconds:.2f} s ({release.replayed} replayed, {len(release.failed)} failed) |
| `migrate_companies` again right after (nothing pending) | {again_seconds:.2f} s |
| `migrate_companies`, a column and an index added in every schema (+ a no-op) | {ddl_seconds:.2f} s ({ddl.replayed} replayed, {len(ddl.failed)} failed) |
| django-tenants `migrate_schemas`, nothing pending, {len(sample)} sampled schemas | {per_schema * 1000:.0f} ms per schema → {per_schema * len(schemas):.0f} s projected for {len(schemas)} |

The release (one new migration) over {len(schemas)} schemas is
**{per_schema * len(schemas) / release_seconds:.0f}×** faster than django-tenants' stock command
doing nothing over the same schemas (projection from the sample measured in the same run).
"""
    print(body)
    write_section("migrate", body)


if __name__ == "__main__":
    main()
