"""SLA timers across 1,000 companies: time from each deadline to its action.

    .venv/bin/python bench/timers.py [--companies 1000] [--fresh] [--workers 2]

Every company gets one overdue-call task with an SLA timer, all due at the same moment (the
worst case: a burst). A real Celery worker (prefork, ``--workers`` processes) serves the
per-company tasks; this script plays Celery beat, sending the beat task
``fire_due_timers`` every ``AUTOMATION_TIMER_SCAN_SECONDS`` (10 s) exactly as beat does. For
each timer the lag is ``fired_at - due_at``; target: every timer acted on within 60 s.
Uses its own database (relata_bench_timers) and a cache prefix of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import common
from common import ROOT, machine, percentile, populate, write_section

common.BENCH_DB = "relata_bench_timers"
os.environ["CACHE_KEY_PREFIX"] = "bench-timers"
BEAT_SECONDS = 10


def _lags(schemas: list[str]) -> list[float | None]:
    from django.db import connection

    sql = " UNION ALL ".join(
        f'SELECT EXTRACT(EPOCH FROM fired_at - due_at) FROM "{s}".automation_timer '
        "WHERE kind = 'sla_overdue'"
        for s in schemas
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [None if row[0] is None else float(row[0]) for row in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lead-seconds", type=int, default=60)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    common.configure(fresh=args.fresh)

    from django.utils import timezone

    from crm_core.automation.models import Timer
    from crm_core.automation.services import timers
    from crm_core.automation.tasks import fire_due_timers
    from crm_core.models import Task
    from relata.db import connection
    from tenants.models import Company, User

    spent = populate(args.companies)
    companies = list(Company.objects.order_by("slug")[: args.companies])
    schemas = [c.schema_name for c in companies]
    print(f"{len(companies)} companies (set-up {spent:.0f} s)", flush=True)
    owner = User.objects.get(email="bench-owner@example.com")
    timers._redis().delete(timers.index_key())
    due = timezone.now() + timedelta(seconds=args.lead_seconds)
    started = time.perf_counter()
    for company in companies:
        with company:
            Timer.objects.all().delete()
            Task.objects.all().delete()
            task = Task.objects.create(title="Call the client back", assignee=owner, deadline=due)
            timers.start_sla(company, task)
    connection.set_schema_to_public()
    print(f"timers written in {time.perf_counter() - started:.1f} s", flush=True)
    if timezone.now() >= due:
        sys.exit("writing the timers took longer than --lead-seconds; raise it")

    load_before = os.getloadavg()[0]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = Path("/tmp") / "bench-timers-worker.log"  # noqa: S108
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "relata",
            "worker",
            "--concurrency",
            str(args.workers),
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        # Beat's phase is arbitrary with respect to the deadline: start ticking now.
        while True:
            fire_due_timers()
            now = timezone.now()
            lags = _lags(schemas)
            pending = sum(1 for lag in lags if lag is None)
            print(f"{now:%H:%M:%S} pending {pending}", flush=True)
            if pending == 0:
                break
            if now > due + timedelta(seconds=300):
                break
            time.sleep(BEAT_SECONDS)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    lags = _lags(schemas)
    done = [lag for lag in lags if lag is not None]
    missing = len(lags) - len(done)
    if not done:
        sys.exit("no timer was acted on; see /tmp/bench-timers-worker.log")
    body = f"""## SLA timers: deadline to action across {len(companies)} companies

{machine()}. Command: `python bench/timers.py --companies {args.companies} --workers {args.workers}`.

One overdue-call SLA timer per company, all due at the same second (a burst). A real Celery
worker (prefork, {args.workers} processes) runs the per-company tasks; the script sends the
beat task `fire_due_timers` every {BEAT_SECONDS} s as Celery beat does. Beat reads only the
Redis index of companies with something due, so idle companies cost nothing.

| measure | value |
|---|---|
| timers | {len(lags)} |
| acted on | {len(done)} (not acted on: {missing}) |
| lag deadline → action, median | {percentile(done, 50):.1f} s |
| lag, p95 | {percentile(done, 95):.1f} s |
| lag, max | {max(done):.1f} s |
| machine load (1-min average) at the start | {load_before:.1f} |
| target | every timer within 60 s: {"met" if done and not missing and max(done) <= 60 else "NOT met"} |

The lag includes up to {BEAT_SECONDS} s waiting for the next beat tick; the rest is the
worker getting through a thousand companies' tasks (each claims its timers with
`FOR UPDATE SKIP LOCKED`, notifies the manager, schedules the escalation).
"""
    print(body)
    write_section("automation_timers", body)


if __name__ == "__main__":
    main()
