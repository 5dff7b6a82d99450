"""What each page of bench/load.py costs, counted so that machine load does not move the figures.

    .venv/bin/python bench/page_profile.py [--samples 5] [--member owner|manager] [--sql]

Needs the data set of bench/crm_scale.py. For every page of the load test's mix, in-process
through Django's full stack (the test client, a signed-in session on the company's host):
the number of SQL queries, their summed database time, the number of Python function calls
(cProfile) and the CPU time of the process (median of ``--samples`` runs, no profiler). Query
and call counts are the same on any machine and under any load; the times are there to tell
where the rest goes. ``--sql`` prints each page's queries with their times.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from typing import Any

from common import configure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--member", choices=["owner", "manager"], default="owner")
    parser.add_argument("--sql", action="store_true")
    parser.add_argument("--top", type=int, default=0, help="print the costliest functions")
    parser.add_argument("--only", default="", help="one page of the mix, by its label")
    parser.add_argument("--dump", default="", help="save each page's profile as DUMP-<page>.prof")
    args = parser.parse_args()
    configure(fresh=False)

    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment

    from crm_core.access import visible
    from crm_core.models import Client
    from crm_core.queries.deals import visible_deals
    from tenants.models import Company, Membership
    from tenants.services import handoff

    setup_test_environment()
    company = Company.objects.filter(slug="bigco").first()
    if company is None:
        raise SystemExit("Run bench/crm_scale.py first: it builds the 1,000,000-contact company.")
    member = Membership.objects.filter(company=company, role=args.member).order_by("id").first()
    assert member is not None
    with company:
        client_id = visible(Client.objects.all(), member).values_list("id", flat=True).first()
        deal_id = visible_deals(member).values_list("id", flat=True).first()
    host = "bigco.localhost"
    browser = HttpClient()
    browser.get(f"/handoff/{handoff.issue(user=member.user, company=company)}/", HTTP_HOST=host)
    pages = {
        "deal board": "/deals/",
        "deal list": "/deals/list/?page=2",
        "client list": "/clients/?page=2",
        "contact list": "/contacts/?page=2",
        "search": "/search/?q=Петрова",
        "client card": f"/clients/{client_id}/",
        "deal card": f"/deals/{deal_id}/",
        "home page": "/",
        "calendar": "/tasks/calendar/",
    }
    if args.only:
        pages = {args.only: pages[args.only]}

    def get(path: str) -> Any:
        response = browser.get(path, HTTP_HOST=host)
        assert response.status_code == 200, (path, response.status_code)
        return response

    print("| page | queries | SQL time | Python calls | CPU (median) | wall (median) |")
    print("|---|---|---|---|---|---|")
    for label, path in pages.items():
        get(path)  # warm: caches, templates, the first request of a session
        captured: list[tuple[str, float]] = []

        def record(
            execute: Any,
            sql: str,
            params: Any,
            many: bool,
            context: Any,
            into: list[tuple[str, float]] = captured,
        ) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                into.append((sql, time.perf_counter() - started))

        # (Django's query log is reset by every request the test client makes: a wrapper
        # sees each query of this one request.)
        with connection.execute_wrapper(record):
            get(path)
        sql_ms = sum(seconds for _sql, seconds in captured) * 1000
        profile = cProfile.Profile()
        profile.enable()
        get(path)
        profile.disable()
        stats = pstats.Stats(profile)
        if args.dump:
            stats.dump_stats(f"{args.dump}-{label.replace(' ', '_')}.prof")
        calls = stats.total_calls  # type: ignore[attr-defined]
        cpu, wall = [], []
        for _ in range(args.samples):
            started_cpu, started = time.process_time(), time.perf_counter()
            get(path)
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
        print(
            f"| {label} | {len(captured)} | {sql_ms:.1f} ms | {calls:,} | "
            f"{statistics.median(cpu) * 1000:.1f} ms | {statistics.median(wall) * 1000:.1f} ms |",
            flush=True,
        )
        if args.sql:
            for sql, seconds in captured:
                print(f"    {seconds * 1000:6.1f} ms  {str(sql)[:300]}")
        if args.top:
            stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
