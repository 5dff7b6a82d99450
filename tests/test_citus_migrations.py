"""Every migration stays runnable on a Citus cluster (docs/scale.md; issue #24).

A company schema is a distributed schema on Citus, and its DDL has limits one PostgreSQL does not
have. Two checks keep every migration — those of today and every future one — inside them:
- the migrations as written: each RunSQL item holds one statement, and database triggers stay the
  few reviewed ones (their functions are written for Citus workers, docs/decisions.md);
- the SQL a company schema's migrations really send (recorded while building one): no added column
  carries a constraint, no command holds two statements, no identity is added to a column.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sqlparse
from django.core.management import call_command
from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from psycopg import sql

from relata.db import connection
from relata.db_backend.schema import inline_constraint_name

# Triggers reviewed for Citus (row-level, or statement-level with functions that never read a
# transition table and a table in one statement). A new one needs the same review first.
REVIEWED_TRIGGERS = {
    "crm_core_auditentry_append_only",
    "crm_core_deal_totals_insert",
    "crm_core_deal_totals_update",
    "crm_core_deal_totals_delete",
    "crm_core_contact_names_insert",
    "crm_core_contact_names_update",
    "crm_core_contact_names_delete",
    "reports_reach_deal_insert",
    "reports_reach_deal_update",
    "reports_reach_deal_delete",
    "reports_reach_history",
    "reports_reach_stages",
}
CREATE_TRIGGER = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(\w+)", re.IGNORECASE)
# ALTER TABLE … ADD [COLUMN] name type … CHECK/UNIQUE/PRIMARY KEY/REFERENCES
ADD_COLUMN_WITH_CONSTRAINT = re.compile(
    r"\bADD\s+COLUMN\b[^;]*?\b(CHECK|UNIQUE|PRIMARY\s+KEY|REFERENCES)\b", re.IGNORECASE | re.DOTALL
)
ADD_IDENTITY = re.compile(r"\bADD\s+GENERATED\b", re.IGNORECASE)


def _run_sql_items(operation: migrations.RunSQL) -> Iterator[str]:
    for sqls in (operation.sql, operation.reverse_sql):
        if sqls is None or sqls == migrations.RunSQL.noop:
            continue
        if isinstance(sqls, str):
            yield sqls
            continue
        for item in sqls:
            yield item[0] if isinstance(item, list | tuple) else item


def _all_run_sql() -> Iterator[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        for operation in migration.operations:
            if isinstance(operation, migrations.RunSQL):
                for item in _run_sql_items(operation):
                    yield f"{app}.{name}", item


def _statements(text: str) -> list[str]:
    return [s for s in sqlparse.split(text) if sqlparse.format(s, strip_comments=True).strip()]


def test_every_run_sql_item_is_one_statement() -> None:
    offenders = [where for where, item in _all_run_sql() if len(_statements(item)) != 1]
    assert offenders == [], "split these RunSQL strings into a list, one statement per item"


def test_no_trigger_beyond_the_reviewed_ones() -> None:
    found = {
        (where, name)
        for where, item in _all_run_sql()
        for name in CREATE_TRIGGER.findall(item)
        if name not in REVIEWED_TRIGGERS
    }
    assert found == set(), "a new trigger must first run on a Citus worker (docs/decisions.md)"


def test_the_rules_catch_what_citus_refuses() -> None:
    # The checks below must be able to fail.
    assert ADD_COLUMN_WITH_CONSTRAINT.search(
        'ALTER TABLE "t" ADD COLUMN "n" integer DEFAULT 0 NOT NULL CHECK ("n" >= 0)'
    )
    assert ADD_COLUMN_WITH_CONSTRAINT.search(
        'ALTER TABLE "t" ADD COLUMN "c_id" bigint NULL CONSTRAINT "x" REFERENCES "c"("id")'
    )
    assert not ADD_COLUMN_WITH_CONSTRAINT.search('ALTER TABLE "t" ADD COLUMN "n" integer NULL')
    assert (
        len(
            _statements(
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT f()"
            )
        )
        == 2
    )
    assert len(_statements("DO $$ BEGIN PERFORM 1; PERFORM 2; END $$")) == 1


@pytest.fixture
def company_schema_ddl(db: None) -> list[str]:
    """Every statement the tenant migrations send while building a new company schema."""
    sent: list[str] = []

    def record(execute: Any, sql_text: Any, params: Any, many: bool, context: Any) -> Any:
        sent.append(str(sql_text))
        return execute(sql_text, params, many, context)

    name = f"ddlcheck_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    with connection.execute_wrapper(record):
        call_command(
            "migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=0
        )
    connection.set_schema_to_public()
    return sent  # the test's transaction rollback removes the schema


def test_company_schema_migrations_send_only_what_citus_accepts(
    company_schema_ddl: list[str],
) -> None:
    ddl = company_schema_ddl
    assert any("CREATE TABLE" in s for s in ddl)  # the recording saw the migrations
    assert [s for s in ddl if ADD_COLUMN_WITH_CONSTRAINT.search(s)] == []
    assert [s for s in ddl if len(_statements(s)) > 1] == []
    assert [s for s in ddl if ADD_IDENTITY.search(s)] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "column"),
    [("crm_core_deal", "position"), ("t" * 60, "c" * 20), ("t" * 20, "c" * 60)],
)
def test_constraints_added_apart_get_the_names_postgresql_gives_inline_ones(
    table: str, column: str
) -> None:
    # The same names keep the schema identical on plain PostgreSQL (and later migrations that
    # drop a constraint by its introspected name working).
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {} ({} integer CHECK ({} >= 0) UNIQUE)").format(
                sql.Identifier(table), sql.Identifier(column), sql.Identifier(column)
            )
        )
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY contype",
            [f'pg_temp."{table[:63]}"'],
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == [
        inline_constraint_name(table[:63], column[:63], "check"),
        inline_constraint_name(table[:63], column[:63], "key"),
    ]
