"""DDL that a Citus worker accepts and that builds the same schema on plain PostgreSQL.

Citus refuses two things Django's PostgreSQL schema editor does:
- ``ALTER TABLE … ADD COLUMN`` carrying a constraint (an inline CHECK of a PositiveIntegerField,
  UNIQUE, PRIMARY KEY or a REFERENCES clause). Here the column is added bare and each
  constraint follows as its own ``ADD CONSTRAINT`` under the name PostgreSQL would have given
  the inline one, so plain PostgreSQL ends with an identical catalog.
- one command string holding several statements (Django's inline foreign key appends
  ``; SET CONSTRAINTS … IMMEDIATE``, dropping a foreign key prepends one). Every command is sent
  one statement at a time.
"""

from __future__ import annotations

from typing import Any

import sqlparse
from django.db.backends.postgresql import schema
from django.db.models import Field, Model

# PostgreSQL's NAMEDATALEN - 1: the longest identifier it keeps.
_MAX_NAME = 63


def inline_constraint_name(table: str, column: str | None, label: str) -> str:
    """The name PostgreSQL gives a column constraint (``makeObjectName`` in its source):
    ``<table>_<column>_<label>``, the longer of table and column shortened until it fits."""
    overhead = len(label) + 1 + (1 if column is not None else 0)
    table_chars, column_chars = len(table), len(column or "")
    while table_chars + column_chars > _MAX_NAME - overhead:
        if table_chars > column_chars:
            table_chars -= 1
        else:
            column_chars -= 1
    if column is None:
        return f"{table[:table_chars]}_{label}"
    return f"{table[:table_chars]}_{column[:column_chars]}_{label}"


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    _bare_column = False

    def __enter__(self) -> DatabaseSchemaEditor:
        editor = super().__enter__()
        if not self.collect_sql and getattr(self.connection, "is_citus", False):
            # Citus creates triggers on distributed tables only when told it is wanted; the
            # trigger functions Relata uses are written for the workers (docs/decisions.md).
            with self.connection.cursor() as cursor:
                cursor.execute("SET citus.enable_unsafe_triggers = on")
        return editor

    def execute(self, sql: Any, params: Any = ()) -> None:
        if params:
            sql, params = self.connection.ops.compose_sql(str(sql), params), None
        text = str(sql)
        statements = sqlparse.split(text) if ";" in text.rstrip().rstrip(";") else [text]
        for statement in statements:
            if statement.strip():
                super().execute(statement, None)

    def _iter_column_sql(self, *args: Any, **kwargs: Any) -> Any:
        for part in super()._iter_column_sql(*args, **kwargs):  # type: ignore[misc]
            if self._bare_column and part in {"PRIMARY KEY", "UNIQUE"}:
                continue
            yield part

    def add_field(self, model: type[Model], field: Field[Any, Any]) -> None:
        if field.many_to_many:
            super().add_field(model, field)
            return
        self._bare_column = True
        self.sql_check_constraint = ""
        self.sql_create_column_inline_fk = None  # type: ignore[assignment]
        queued = len(self.deferred_sql)
        try:
            super().add_field(model, field)
        finally:
            self._bare_column = False
            del self.sql_check_constraint
            del self.sql_create_column_inline_fk
        if field.column is None:
            return
        self._add_column_constraints(model, field, queued)

    def _add_column_constraints(
        self, model: type[Model], field: Field[Any, Any], queued: int
    ) -> None:
        table, column = model._meta.db_table, str(field.column)
        quoted = self.quote_name(column)
        alter = f"ALTER TABLE {self.quote_name(table)} ADD CONSTRAINT %s"
        if field.primary_key:
            name = self.quote_name(inline_constraint_name(table, None, "pkey"))
            self.execute(alter % f"{name} PRIMARY KEY ({quoted})")
        elif field.unique:
            name = self.quote_name(inline_constraint_name(table, column, "key"))
            self.execute(alter % f"{name} UNIQUE ({quoted})")
        check = field.db_parameters(connection=self.connection)["check"]
        if check:
            name = self.quote_name(inline_constraint_name(table, column, "check"))
            self.execute(alter % f"{name} CHECK ({check})")
        # Django queued the foreign key for the end of the migration (what it does for backends
        # without inline foreign keys); run it now, like the inline one, and make it immediate
        # for the rest of the transaction as Django's inline form does.
        for position in range(len(self.deferred_sql) - 1, queued - 1, -1):
            statement = self.deferred_sql[position]
            if getattr(statement, "template", None) == self.sql_create_fk:
                del self.deferred_sql[position]
                self.execute(statement)
                name = statement.parts["name"]
                self.execute(f"SET CONSTRAINTS {name} IMMEDIATE")
