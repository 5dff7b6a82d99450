"""The database wrapper: schema editor, test-database creation and commit errors for Citus."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base
from django.utils.functional import cached_property

from relata.db_backend.citus import as_integrity_error
from relata.db_backend.creation import DatabaseCreation
from relata.db_backend.schema import DatabaseSchemaEditor


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
    creation_class = DatabaseCreation

    @cached_property
    def is_citus(self) -> bool:
        """True when this database has the Citus extension (a coordinator of a cluster)."""
        with self.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
            return cursor.fetchone() is not None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self._notices: list[tuple[str, str]] = []
        connection.add_notice_handler(self._remember_notice)
        return connection

    def _remember_notice(self, diagnostic: Any) -> None:
        if diagnostic.severity_nonlocalized == "WARNING" and diagnostic.sqlstate:
            self._notices.append((diagnostic.sqlstate, diagnostic.message_primary or ""))
            del self._notices[:-10]  # only the last few matter: those of the failed commit

    def _commit(self) -> Any:
        # On Citus a deferred foreign key is checked on the worker at commit, and the
        # coordinator reports "could not commit transaction for shard …" instead of the
        # IntegrityError one server gives: callers see the same error either way.
        self._notices = []
        try:
            return super()._commit()  # type: ignore[misc]
        except Exception as exc:
            replacement = as_integrity_error(exc, self._notices)
            if replacement is None:
                raise
            raise replacement from exc
