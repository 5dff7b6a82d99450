"""Every connection the product opens runs with PostgreSQL's JIT off.

The visibility filters' subqueries over a large company estimate costs far above
jit_above_cost even when the rows they guard are none; with JIT on, a manager's deal card at
1,000,000 contacts spent 85 ms of its 110 compiling code for a query that read nothing
(docs/decisions.md). The web processes, the Celery workers and the commands share these
settings; a company's schema on the connection changes nothing."""

from __future__ import annotations

from typing import Any

from django.db import connection

from crm_core.models import Client


def test_the_connection_runs_without_jit(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_a_costly_plan_is_not_compiled(crm: Any) -> None:
    with crm.a, connection.cursor() as cursor:
        # Force a plan whose cost passes the JIT threshold: with JIT on, EXPLAIN names it.
        cursor.execute("SET LOCAL jit_above_cost = 0")
        sql, params = Client.objects.filter(name__icontains="окна").query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "JIT" not in plan
