"""Gunicorn settings for Relata's web process (``infra/bin/web``), all from the environment.

Sizing: each gthread worker is a process with ``GUNICORN_THREADS`` threads, and each thread
keeps its own PostgreSQL connection (``CONN_MAX_AGE``), so one web process holds up to
``WEB_CONCURRENCY * GUNICORN_THREADS`` connections: count them against ``max_connections``
(with the worker's concurrency and ``migrate_companies --parallel``).

A connection caches catalog metadata for every company schema it has touched; recycling a
worker after ``GUNICORN_MAX_REQUESTS`` requests (with jitter, so that workers do not restart
together) bounds that growth on top of ``CONN_MAX_AGE``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = [os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"]
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request still running after this many seconds gets its worker killed (nginx waits longer).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy), requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx's upstream keep-alive (60 s): nginx closes idle connections first.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)

# Addresses allowed to set X-Forwarded-Proto for gunicorn's own url_scheme (Django reads the
# header itself, see SECURE_PROXY_SSL_HEADER). "*" only where nothing but the proxy can reach
# gunicorn's port, as on compose's internal network.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%({x-real-ip}i)s "%({host}i)s" "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}i)s'
)

# Workers touch a heartbeat file every second: keep it in memory, not on the container's disk.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
proc_name = "relata-web"
# No control socket (gunicorn >= 25 puts one in $HOME, which the image's user does not have).
control_socket_disable = True

# Prometheus (relata.metrics): every worker writes its samples to files in one directory that
# /metrics reads across workers. The directory is this master's own, emptied at start and
# removed at exit, unless PROMETHEUS_MULTIPROC_DIR names one (then it is emptied at start).
_own_metrics_dir = Path(worker_tmp_dir or os.environ.get("TMPDIR") or "/tmp") / (  # noqa: S108
    f"relata-metrics-{os.getpid()}"
)
_metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or _own_metrics_dir)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)


def on_starting(server: Any) -> None:
    if _metrics_dir.exists():
        for leftover in _metrics_dir.glob("*.db"):
            leftover.unlink()
    _metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    try:
        from prometheus_client import multiprocess
    except ImportError:  # metrics not installed: nothing to clean up
        return
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _metrics_dir == _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
