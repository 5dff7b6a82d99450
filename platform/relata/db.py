"""The default connection, typed as django-tenants' wrapper (schema_name, set_tenant, …).

``django.db.connection`` is a proxy to the current thread's connection; this is the same proxy
with the type checkers told what it really is.
"""

from typing import cast

from django.db import connection as _connection
from django_tenants.postgresql_backend.base import DatabaseWrapper
from psycopg import sql

connection = cast(DatabaseWrapper, _connection)


def set_local(setting: str, value: str) -> None:
    """``SET LOCAL setting = value`` for the current transaction, on the Citus workers too.

    On a Citus coordinator a setting changed in the session stays there; the queries the
    workers run for a company schema would use their defaults. Citus forwards SET LOCAL to them
    when asked to (``citus.propagate_set_commands``), for this transaction only.
    """
    with connection.cursor() as cursor:
        if getattr(connection, "is_citus", False):
            cursor.execute("SET LOCAL citus.propagate_set_commands = 'local'")
        cursor.execute(
            sql.SQL("SET LOCAL {} = {}").format(
                sql.Identifier(*setting.split(".")), sql.Literal(value)
            )
        )
