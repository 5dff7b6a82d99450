"""Test databases on a Citus cluster: made on every node and joined to the cluster.

On a Citus coordinator a new database knows no workers (node metadata is per database), and
the workers lack it. The test database is created with Citus' database propagation (so each
worker gets one too, with the extension from its template1) and the coordinator's nodes, as
the maintenance database lists them, are registered in it. Plain PostgreSQL: Django's path.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.db.backends.postgresql import creation

_STOP_TEMPLATE_DAEMON = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'template1' "
    "AND backend_type LIKE 'Citus Maintenance Daemon%%'"
)


def cluster_nodes(cursor: Any) -> list[tuple[str, int, int]] | None:
    """(host, port, group) of the active primaries, or None when this server is not Citus."""
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
    if cursor.fetchone() is None:
        return None
    cursor.execute(
        "SELECT nodename, nodeport, groupid FROM pg_dist_node "
        "WHERE noderole = 'primary' AND isactive ORDER BY groupid"
    )
    return [(str(host), int(port), int(group)) for host, port, group in cursor.fetchall()]


def join_cluster(params: dict[str, Any], nodes: list[tuple[str, int, int]]) -> None:
    """Register the cluster's ``nodes`` in the new database ``params`` names (once)."""
    with psycopg.connect(**params, autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM pg_dist_node").fetchone() != (0,):
            return  # a kept database joined on an earlier run
        for host, port, group in nodes:
            if group == 0:
                conn.execute("SELECT citus_set_coordinator_host(%s, %s)", [host, port])
            else:
                conn.execute("SELECT citus_add_node(%s, %s)", [host, port])


class DatabaseCreation(creation.DatabaseCreation):
    def _execute_create_test_db(self, cursor: Any, parameters: Any, keepdb: bool = False) -> None:
        self._citus_nodes = cluster_nodes(cursor)
        if self._citus_nodes is not None:
            cursor.execute("SET citus.enable_create_database_propagation = on")
            # Citus runs a maintenance daemon in every database with the extension, template1
            # included (the test database's template): CREATE DATABASE refuses a template in
            # use. It comes back on its own when someone next connects to template1.
            cursor.execute(_STOP_TEMPLATE_DAEMON)
            cursor.execute(
                "SELECT run_command_on_workers(%s)", [_STOP_TEMPLATE_DAEMON.replace("%%", "%")]
            )
            if not keepdb and self._database_exists(cursor, parameters["dbname"]):  # type: ignore[attr-defined]
                # Citus' own daemons keep connections to it, so Django's plain DROP would fail.
                cursor.execute(f"DROP DATABASE {parameters['dbname']} WITH (FORCE)")
        super()._execute_create_test_db(cursor, parameters, keepdb)  # type: ignore[misc]

    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        name = super()._create_test_db(verbosity, autoclobber, keepdb)  # type: ignore[misc]
        nodes = getattr(self, "_citus_nodes", None)
        if nodes:
            self._join_cluster(name, nodes)
        return name

    def _join_cluster(self, name: str, nodes: list[tuple[str, int, int]]) -> None:
        settings = self.connection.settings_dict
        join_cluster(
            {
                "host": settings["HOST"] or None,
                "port": settings["PORT"] or None,
                "user": settings["USER"] or None,
                "password": settings["PASSWORD"] or None,
                "dbname": name,
            },
            nodes,
        )

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        with self._nodb_cursor() as cursor:  # type: ignore[attr-defined]
            name = self._quote_name(test_database_name)  # type: ignore[attr-defined]
            if cluster_nodes(cursor) is None:
                cursor.execute(f"DROP DATABASE {name}")
                return
            # Citus' maintenance daemon stays connected to every database with the extension,
            # and a worker may still hold a metadata-sync session for a moment: force, retry.
            cursor.execute("SET citus.enable_create_database_propagation = on")
            for attempt in range(5):
                try:
                    cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    return
                except Exception:
                    if attempt == 4:
                        raise
                    time.sleep(1)
