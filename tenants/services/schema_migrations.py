"""Migrating every company schema in a release: skip what is current, replay SQL for the rest.

django-tenants' ``migrate_schemas`` runs Django's ``migrate`` once per schema; each run loads
the migration graph and introspects the catalog, which costs 150-600 ms per schema even with
nothing to apply (about 10 minutes for 1,000 companies). Every company schema is built from
the same migrations, so this module:

1. reads which migrations each schema has applied, for all schemas in a few queries;
2. skips schemas with nothing pending, without loading them;
3. groups the rest by what they lack, and for each group asks Django once, on one schema of the
   group, for the SQL of the pending migrations (what ``sqlmigrate`` prints);
4. replays that SQL in each schema of the group, one short transaction per schema (with a
   lock timeout, so a release never queues behind a long lock), in parallel connections, and
   records the migrations in the schema's ``django_migrations``.

Migrations that cannot be expressed as SQL (RunPython, non-atomic ones such as concurrent index
builds) are applied the ordinary way, schema by schema, for the groups that need them.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import migrations as django_migrations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from psycopg import sql

from relata.db import connection
from tenants.models import Company, SpareSchema

logger = logging.getLogger(__name__)

Node = tuple[str, str]
_SQL_ONLY = (
    django_migrations.RunPython,
    django_migrations.SeparateDatabaseAndState,
)


@dataclass
class MigrationReport:
    schemas: int = 0
    up_to_date: int = 0
    replayed: int = 0
    migrated_one_by_one: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def company_schemas() -> list[str]:
    """Every schema built from tenant migrations: companies and the spare pool."""
    companies = Company.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    return [
        *companies.order_by("pk").values_list("schema_name", flat=True),
        *SpareSchema.objects.order_by("pk").values_list("name", flat=True),
    ]


def applied_by_schema(schemas: list[str], chunk: int = 200) -> dict[str, set[Node]]:
    applied: dict[str, set[Node]] = {name: set() for name in schemas}
    with connection.cursor() as cursor:
        for start in range(0, len(schemas), chunk):
            part = schemas[start : start + chunk]
            query = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {} AS s, app, name FROM {}.django_migrations").format(
                    sql.Literal(name), sql.Identifier(name)
                )
                for name in part
            )
            cursor.execute(query.as_string(cursor.connection))
            for schema, app, name in cursor.fetchall():
                applied[schema].add((app, name))
    return applied


def code_migrations() -> set[Node]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return set(loader.graph.nodes)


def _replayable(plan: list[tuple[Migration, bool]]) -> bool:
    for migration, backwards in plan:
        if backwards or not migration.atomic:
            return False
        if any(isinstance(op, _SQL_ONLY) for op in migration.operations):
            return False
    return True


def _plan_for(schema: str) -> tuple[list[tuple[Migration, bool]], MigrationExecutor]:
    connection.set_schema(schema, include_public=False)
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return executor.migration_plan(targets), executor


def _sql_for(
    plan: list[tuple[Migration, bool]], executor: MigrationExecutor, applied: set[Node]
) -> list[str]:
    """The SQL of ``plan`` for a schema that has ``applied``: what ``sqlmigrate`` prints, but
    starting from the state of everything applied (Django's ``collect_sql`` starts from the
    ancestors of the plan's first migration only, which misses other apps' models when a plan
    spans several apps)."""
    loader = executor.loader
    state = loader.project_state([n for n in applied if n in loader.graph.nodes], at_end=True)
    statements: list[str] = []
    for migration, _backwards in plan:
        with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
            state = migration.apply(state, editor, collect_sql=True)
        statements.extend(editor.collected_sql)
    # The schema editor wraps each migration in BEGIN/COMMIT; we run our own transaction.
    return [s for s in statements if s.strip().rstrip(";").upper() not in {"BEGIN", "COMMIT"}]


def _dsn() -> str:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.conninfo.make_conninfo(
        "", **{k: v for k, v in params.items() if isinstance(v, (str, int))}
    )


def _replay(  # noqa: PLR0917  (one call site, submitted to a thread pool)
    dsn: str,
    schemas: list[str],
    statements: list[str],
    nodes: list[Node],
    lock_timeout: str,
    progress: Callable[[str], None],
    citus: bool = False,
) -> tuple[int, dict[str, str]]:
    done, failed = 0, {}
    with psycopg.connect(dsn, autocommit=False) as conn:
        for schema in schemas:
            try:
                with conn.transaction(), conn.cursor() as cursor:
                    # public too: extensions (pg_trgm's operator classes) live there.
                    cursor.execute(
                        sql.SQL("SET LOCAL search_path TO {}, public").format(
                            sql.Identifier(schema)
                        )
                    )
                    cursor.execute(
                        sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock_timeout))
                    )
                    if citus:
                        # Some releases create triggers (docs/decisions.md); Citus asks for
                        # this to allow them on distributed tables.
                        cursor.execute("SET LOCAL citus.enable_unsafe_triggers = on")
                    for statement in statements:
                        cursor.execute(statement.encode())
                    cursor.executemany(
                        "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, now())",
                        nodes,
                    )
                done += 1
            except psycopg.Error as exc:
                failed[schema] = f"{type(exc).__name__}: {exc}".strip()
                progress(f"{schema}: FAILED {exc}")
    return done, failed


def migrate_all(
    *,
    schemas: Iterable[str] | None = None,
    parallel: int = 4,
    lock_timeout: str = "5s",
    progress: Callable[[str], None] = logger.info,
) -> MigrationReport:
    started = time.perf_counter()
    connection.set_schema_to_public()
    names = list(schemas) if schemas is not None else company_schemas()
    report = MigrationReport(schemas=len(names))
    wanted = code_migrations()
    applied = applied_by_schema(names)
    groups: dict[frozenset[Node], list[str]] = defaultdict(list)
    for name in names:
        pending = frozenset(wanted - applied[name])
        if pending:
            groups[pending].append(name)
        else:
            report.up_to_date += 1
    progress(
        f"{len(names)} schemas: {report.up_to_date} up to date, {len(groups)} group(s) to migrate"
    )

    dsn = _dsn()
    citus = bool(getattr(connection, "is_citus", False))
    for pending, members in groups.items():
        plan, executor = _plan_for(members[0])
        connection.set_schema_to_public()
        nodes = [(m.app_label, m.name) for m, _ in plan]
        if set(nodes) != pending or not _replayable(plan):
            progress(f"{len(members)} schema(s) need Python migrations: migrating one by one")
            for name in members:
                try:
                    call_command(
                        "migrate_schemas",
                        schema_name=name,
                        tenant=True,
                        interactive=False,
                        verbosity=0,
                    )
                    report.migrated_one_by_one += 1
                except Exception as exc:
                    report.failed[name] = f"{type(exc).__name__}: {exc}"
            connection.set_schema_to_public()
            continue
        connection.set_schema(members[0], include_public=False)
        statements = _sql_for(plan, executor, applied[members[0]])
        connection.set_schema_to_public()
        progress(
            f"{len(members)} schema(s): {len(plan)} migration(s), {len(statements)} statement(s)"
        )
        slices = [members[i::parallel] for i in range(max(1, min(parallel, len(members))))]
        with ThreadPoolExecutor(max_workers=len(slices)) as pool:
            futures = [
                pool.submit(_replay, dsn, part, statements, nodes, lock_timeout, progress, citus)
                for part in slices
            ]
            for future in futures:
                done, failed = future.result()
                report.replayed += done
                report.failed.update(failed)
    report.seconds = time.perf_counter() - started
    return report
