#!/usr/bin/env python3
"""Relata for developers: the two commands of README.md.

    python3 dev.py start   # install, migrate, run web + Celery worker + beat (Ctrl-C stops all)
    python3 dev.py test    # install, run the whole test suite (extra arguments go to pytest)

Needs only Python 3.11. Dependencies go into ./.venv (re-installed when pyproject.toml
changes). With DATABASE_URL / REDIS_URL unset, an embedded PostgreSQL and Redis are started
with their data in ./.relata (kept between runs).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".relata-installed"


def _say(message: str) -> None:
    print(f"[relata] {message}", flush=True)  # noqa: T201


def _installed_here() -> bool:
    """True inside a virtualenv that already has Relata installed (a developer's own)."""
    import importlib.util

    return sys.prefix != sys.base_prefix and importlib.util.find_spec("relata") is not None


def ensure_environment() -> None:
    """Create .venv and install the project into it; re-exec this script inside it."""
    if sys.version_info[:2] != (3, 11):
        sys.exit("Relata needs Python 3.11 (Django 5.2 LTS); run this script with python3.11.")
    if Path(sys.prefix).resolve() != VENV.resolve() and _installed_here():
        return
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not VENV_PYTHON.exists():
        _say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text() != wanted:
        _say("installing dependencies (first run takes a few minutes)")
        pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)  # noqa: S603
        subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)  # noqa: S603
        STAMP.write_text(wanted)
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])  # noqa: S606


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)  # noqa: S603


def start() -> int:
    os.environ.setdefault("RELATA_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relata.settings")
    port = os.environ.get("PORT", "8000")
    embedded_db = not os.environ.get("DATABASE_URL")
    embedded_redis = not os.environ.get("REDIS_URL")
    from relata import embedded

    if embedded_db:
        _say(f"embedded PostgreSQL, data in {embedded.data_dir() / 'postgres'}")
        embedded.start_postgres()
    if embedded_redis:
        _say(f"embedded Redis, data in {embedded.data_dir() / 'redis'}")
        embedded.start_redis()
    _say("applying migrations")
    manage("migrate_schemas", "--noinput", "-v", "0")
    manage("refill_schema_pool", "--size", "1")

    celery = [sys.executable, "-m", "celery", "-A", "relata"]
    # Beat keeps its schedule in the data folder, which only the embedded servers would have
    # made: with DATABASE_URL and REDIS_URL set, nothing else creates it.
    embedded.data_dir().mkdir(parents=True, exist_ok=True)
    beat_schedule = embedded.data_dir() / "celerybeat-schedule"
    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"0.0.0.0:{port}", "--noreload"],
        "worker": [*celery, "worker", "-l", "info", "--concurrency", "2", "-n", "relata@%h"],
        "beat": [*celery, "beat", "-l", "info", "-s", str(beat_schedule)],
    }
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, start_new_session=True)  # noqa: S603
        for name, command in commands.items()
    }
    _say(f"Relata is running: http://localhost:{port}/  (Ctrl-C stops everything)")

    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                _say(f"{name} exited with code {process.returncode}; stopping the rest")
                stopping, exit_code = True, 1
        time.sleep(0.5)

    _say("stopping web, worker and beat")
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    if embedded_redis:
        embedded.stop_redis()
    if embedded_db:
        embedded.stop_postgres()
    _say("stopped; data kept for the next run")
    return exit_code


def test(pytest_args: list[str]) -> int:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        # The test suite's embedded servers live apart from the ones `start` uses.
        os.environ.setdefault("RELATA_DATA_DIR", str(ROOT / ".relata" / "test"))
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)  # noqa: S603


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test"}:
        sys.exit(__doc__)
    ensure_environment()
    if sys.argv[1] == "start":
        return start()
    return test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
