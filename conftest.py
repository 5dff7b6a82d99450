"""Fixtures shared by every test: the schema pool, companies, and real processes.

Most tests run inside pytest-django's per-test transaction: a company is made by claiming a
spare schema (a rename), and the rollback at the end of the test returns the spare, so each
test gets fresh companies in milliseconds. Tests that need other processes (a Celery worker,
a web server driven by a browser) commit their companies and purge them afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from relata.db import connection

ROOT = Path(__file__).resolve().parent
SPARES_FOR_TESTS = 6
PASSWORD = "Correct-Horse-42"  # noqa: S105  (test accounts only)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """RELATA_SHARD="k/n" keeps every n-th test marked `browser` or `once`, from the k-th.

    CI runs the suite twice side by side, on the embedded servers and on the machine's. What
    differs between the two is the database and Redis the tests use; the browser tests drive
    the same product whichever PostgreSQL serves it, and the `once` tests start servers of
    their own or hold the running server to its API contract (minutes each), yet together they
    are half of a run's time on a 2-core machine. CI gives each run half of them ("1/2",
    "2/2"): each of those runs once, every other test twice (docs/decisions.md). Unset, as in
    README's command, every test runs.
    """
    from tests import sharding

    shard = os.environ.get("RELATA_SHARD", "")
    if not shard:
        return
    try:
        index, count = sharding.parse(shard)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from error
    browser = [i.nodeid for i in items if i.get_closest_marker("browser")]
    once = [
        i.nodeid
        for i in items
        if i.get_closest_marker("once") and not i.get_closest_marker("browser")
    ]
    left_out = sharding.left_out([browser, once], index, count)
    if left_out:
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid in left_out])
        items[:] = [item for item in items if item.nodeid not in left_out]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Stop the embedded servers this run used (the test data dir is apart from `dev.py start`).
    from relata import embedded

    if not os.environ.get("DATABASE_URL") and os.environ.get("RELATA_DATA_DIR"):
        embedded.stop_postgres()
    if not os.environ.get("REDIS_URL") and os.environ.get("RELATA_DATA_DIR"):
        embedded.stop_redis()


@pytest.fixture(scope="session")
def django_db_setup(  # noqa: PLR0917  (pytest passes fixtures by name)
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's set-up, for every test that may touch the database.

    pytest-django creates the test database only when a collected test uses its `db`
    fixtures; tests that use only `committed_companies` need it too. Then the spare pool.
    """
    from django.test.utils import setup_databases, teardown_databases

    from tenants.services import schema_pool

    keep = bool(django_db_keepdb and not django_db_createdb)
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=verbosity,
            interactive=False,
            keepdb=keep,
            aliases={"default": {}},  # only the keys are read
            serialized_aliases=set(),
        )
        schema_pool.refill(SPARES_FOR_TESTS)
    yield
    if not keep:
        with django_db_blocker.unblock():
            connection.set_schema_to_public()
            teardown_databases(config, verbosity=verbosity)


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings: Any) -> None:
    """Each test sees an empty cache (rate limits, cached pages) under a prefix of its own."""
    default = settings.CACHES["default"]
    settings.CACHES = {"default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """MEDIA_ROOT and BACKUP_ROOT of this test's own, under tmp_path."""
    from django.core.files.storage import storages

    def forget() -> None:
        # django-tenants' storage caches the root and does not clear it when MEDIA_ROOT
        # changes (a test-only situation: production never changes MEDIA_ROOT at run time).
        storages["default"].__dict__.pop("relative_media_root", None)

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.BACKUP_ROOT = tmp_path / "backups"
    forget()
    yield tmp_path / "media"
    forget()


@pytest.fixture(autouse=True)
def _public_schema_between_tests() -> Iterator[None]:
    yield
    if hasattr(connection, "set_schema_to_public"):
        connection.set_schema_to_public()


@dataclass
class CompanyWithOwner:
    company: Any
    owner: Any
    host: str

    def __enter__(self) -> Any:
        return self.company.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.company.__exit__(*exc)


def unique_slug(prefix: str = "co") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _make_company(name: str, slug: str | None = None, email: str | None = None) -> CompanyWithOwner:
    from tenants.services.provisioning import create_company

    slug = slug or unique_slug()
    email = email or f"owner-{slug}@example.com"
    result = create_company(name=name, slug=slug, owner_email=email, owner_password=PASSWORD)
    return CompanyWithOwner(
        company=result.company, owner=result.owner, host=f"{slug}.{settings.BASE_DOMAIN}"
    )


@pytest.fixture
def make_company(db: None) -> Callable[..., CompanyWithOwner]:
    return _make_company


@pytest.fixture
def two_companies(make_company: Callable[..., CompanyWithOwner]) -> tuple[CompanyWithOwner, ...]:
    """Company A and company B, each with an owner and a client of its own."""
    from crm_core.models import Client

    a = make_company("Okna Kirilla")
    b = make_company("Bystrye Dveri")
    with a:
        Client.objects.create(name="Client of A")
    with b:
        Client.objects.create(name="Client of B")
        Client.objects.create(name="Second client of B")
    return a, b


@pytest.fixture
def committed_companies(
    django_db_blocker: Any, django_db_setup: None
) -> Iterator[Callable[..., CompanyWithOwner]]:
    """Companies committed to the database, for tests with other processes; purged after."""
    from tenants.models import Company
    from tenants.services.deletion import purge_company

    made: list[str] = []

    def make(name: str, **kwargs: Any) -> CompanyWithOwner:
        result = _make_company(name, **kwargs)
        made.append(result.company.slug)
        return result

    # Companies a child process made (a browser sign-up) are purged too.
    make.adopt = made.append  # type: ignore[attr-defined]
    # The whole test may use the database outside a transaction: its writes are committed.
    with django_db_blocker.unblock():
        yield make
        connection.set_schema_to_public()
        for company in Company.objects.filter(slug__in=made):
            purge_company(company)


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must use this test run's database."""
    db = settings.DATABASES["default"]
    host = str(db["HOST"] or "127.0.0.1")
    from urllib.parse import quote

    url = f"postgres://{db['USER']}:{quote(db.get('PASSWORD') or '')}@{quote(host, safe='')}"
    if db.get("PORT"):
        url += f":{db['PORT']}"
    url += f"/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture
def run_process() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a child process (worker, web server); all are stopped at the end of the test."""
    children: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        handle = log.open("wb")
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, *args], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
        children.append(process)
        return process

    yield start
    for process in children:
        process.terminate()
    for process in children:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(predicate: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def citus_cluster(django_db_setup: None, django_db_blocker: Any) -> None:
    """For tests of a Citus cluster's own behaviour (a worker down): they run only when the
    test database is on a coordinator (the Citus job of .ci/run), and are skipped on plain
    PostgreSQL — unless RELATA_REQUIRE_CITUS=1, which makes the skip a failure."""
    with django_db_blocker.unblock():
        on_citus = bool(getattr(connection, "is_citus", False))
    if not on_citus:
        if os.environ.get("RELATA_REQUIRE_CITUS") == "1":
            pytest.fail("RELATA_REQUIRE_CITUS=1 but the test database is not on a Citus cluster")
        pytest.skip("needs a Citus cluster (tests/citus_subset.txt, docs/scale.md)")
