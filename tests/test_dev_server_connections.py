"""The development server does not leak PostgreSQL connections (runserver: a thread a request)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.db import connection

from conftest import child_env
from tests.browser import start_web


def _connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_sixty_sequential_requests_leave_no_connections_open(
    committed_companies: Any, run_process: Any, tmp_path: Path
) -> None:
    made = committed_companies("Окна Кирилла")
    base = start_web(run_process, child_env(), tmp_path / "web.log")
    port = base.rsplit(":", 1)[1]
    before = _connections_to_this_database()
    for n in range(60):
        # The company's host: the tenant look-up and the session both reach the database.
        path = ("/", "/accounts/login/", "/deals/", "/healthz")[n % 4]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Host": f"{made.host}:{port}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError:
            pass  # redirects to log in, 404 of /healthz on a company host: still a request
    after = _connections_to_this_database()
    assert after - before <= 2, f"{after - before} connections left open by 60 requests"
