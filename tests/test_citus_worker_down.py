"""A Citus worker down: its companies are told to try again, the others keep working (#24).

Runs only against a local Citus cluster (tests/citus_subset.txt; the ``citus_cluster`` fixture
skips it on plain PostgreSQL). The worker holding company A is really stopped (``pg_ctl stop``
of that node, as in a crash or a maintenance restart) and started again at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.test import Client as HttpClient

from relata.db import connection
from tests.test_isolation import login_on_host


@dataclass
class Worker:
    host: str
    port: int
    data_directory: str
    bin_directory: Path

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.bin_directory / "pg_ctl"), "-D", self.data_directory, "-w", *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root; the nodes run as postgres
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self.pg_ctl("-l", f"{self.data_directory}/log", "start")

    def running(self) -> bool:
        try:
            psycopg.connect(
                host=self.host, port=self.port, user="postgres", dbname="postgres"
            ).close()
        except psycopg.OperationalError:
            return False
        return True


def _node_of(schema: str) -> tuple[str, int]:
    """The worker that holds ``schema`` (a distributed schema lives whole on one node)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT s.nodename, s.nodeport FROM citus_shards s "
            "JOIN pg_class c ON c.oid = s.table_name WHERE c.relnamespace = %s::regnamespace",
            [schema],
        )
        nodes = cursor.fetchall()
    assert len(nodes) == 1, nodes
    return str(nodes[0][0]), int(nodes[0][1])


def _worker(host: str, port: int) -> Worker:
    settings = connection.settings_dict
    with psycopg.connect(
        host=host, port=port, user=settings["USER"], dbname="postgres", autocommit=True
    ) as conn:
        data_directory = str(conn.execute("SHOW data_directory").fetchone()[0])  # type: ignore[index]
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000  # type: ignore[index]
    return Worker(host, port, data_directory, Path(f"/usr/lib/postgresql/{major}/bin"))


@pytest.fixture
def stop_worker() -> Iterator[Callable[[str, int], Worker]]:
    """Stops a worker node; one still stopped when the test ends is started again."""
    stopped: list[Worker] = []

    def stop(host: str, port: int) -> Worker:
        worker = _worker(host, port)
        worker.pg_ctl("-m", "fast", "stop")
        stopped.append(worker)
        return worker

    yield stop
    for worker in stopped:
        if not worker.running():
            worker.start()


def _companies_on_two_workers(make: Callable[..., Any]) -> tuple[Any, Any]:
    """Two companies whose schemas Citus placed on different workers."""
    made: dict[tuple[str, int], Any] = {}
    for number in range(8):
        company = make(f"Узел {number}")
        made.setdefault(_node_of(company.company.schema_name), company)
        if len(made) == 2:
            first, second = made.values()
            return first, second
    raise AssertionError(f"all companies landed on one worker: {list(made)}")


def _api_token(company: Any) -> str:
    from crm_core.api.services import issue_token
    from tenants.models import Membership

    membership = Membership.objects.get(user=company.owner, company=company.company)
    with company:
        return issue_token(membership=membership, name="t", access="write", resources=[]).secret


def test_a_company_on_a_stopped_worker_is_told_to_try_again_while_others_keep_working(
    citus_cluster: None,
    committed_companies: Callable[..., Any],
    stop_worker: Callable[[str, int], Worker],
) -> None:
    a, b = _companies_on_two_workers(committed_companies)
    a_token, b_token = _api_token(a), _api_token(b)
    a_browser = login_on_host(a.owner, a.company, a.host)
    b_browser = login_on_host(b.owner, b.company, b.host)
    a_browser.raise_request_exception = b_browser.raise_request_exception = False
    assert a_browser.get("/", HTTP_HOST=a.host).status_code == 200

    worker = stop_worker(*_node_of(a.company.schema_name))

    # A's pages and API: the same clear "try again" answer as a database restart.
    page = a_browser.get("/deals/", HTTP_HOST=a.host)
    assert page.status_code == 503
    assert page["Retry-After"] == "10"
    assert "Your data is safe" in page.content.decode()
    api = HttpClient(raise_request_exception=False).post(
        "/api/v1/deals/",
        json.dumps({"title": "Пока узел стоит"}),
        content_type="application/json",
        HTTP_HOST=a.host,
        HTTP_AUTHORIZATION=f"Bearer {a_token}",
    )
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "unavailable"

    # B, on the other worker, reads and writes as usual, and so does the public site.
    assert b_browser.get("/", HTTP_HOST=b.host).status_code == 200
    assert b_browser.get("/deals/", HTTP_HOST=b.host).status_code == 200
    created = HttpClient().post(
        "/api/v1/deals/",
        json.dumps({"title": "Сделка B во время сбоя"}),
        content_type="application/json",
        HTTP_HOST=b.host,
        HTTP_AUTHORIZATION=f"Bearer {b_token}",
    )
    assert created.status_code == 201, created.content
    assert HttpClient().get("/accounts/login/", HTTP_HOST="localhost").status_code == 200
    from crm_core.models import Deal

    with b:
        assert Deal.objects.filter(title="Сделка B во время сбоя").exists()

    # A sign-up while a worker is away: renaming a spare (or creating a schema) is DDL that
    # Citus sends to every node holding the cluster's metadata, so it cannot finish; the form
    # answers "try again" and leaves nothing half-made.
    slug = f"down-{uuid.uuid4().hex[:10]}"
    committed_companies.adopt(slug)  # type: ignore[attr-defined]
    signup = HttpClient(raise_request_exception=False).post(
        "/signup/",
        {
            "company_name": "Во время сбоя",
            "slug": slug,
            "email": f"{slug}@example.com",
            "password": "Correct-Horse-42",
            "signup_key": str(uuid.uuid4()),
        },
    )
    from tenants.models import Company

    assert signup.status_code == 503
    assert not Company.objects.filter(slug=slug).exists()

    # The worker back: A works again without restarting the application, and its refused
    # write did not happen.
    worker.start()
    assert a_browser.get("/deals/", HTTP_HOST=a.host).status_code == 200
    with a:
        assert not Deal.objects.filter(title="Пока узел стоит").exists()
