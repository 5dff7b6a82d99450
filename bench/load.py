"""Load test: 20 people working at once in the 1,000,000-contact company, against gunicorn.

    .venv/bin/python bench/load.py [--users 20] [--seconds 60] [--workers 3] [--threads 4]
                                   [--mix daily|setup]

Needs the data set of bench/crm_scale.py (run that first). Starts gunicorn with the
production web settings (infra/gunicorn.conf.py, connections kept as in production) on 127.0.0.1, signs every simulated person
in through the real handoff, then each one keeps opening pages — the board, the deal list,
the client and contact lists, the search box, a client card — for ``--seconds``. Two runs:
people who pause about a second between clicks (faster than anyone really works), and no
pause at all (the saturation point). Server time is the app's own ``Server-Timing``; the
wall time adds gunicorn's queue and the loopback. ``--mix setup`` measures instead the pages
of tasks, reports and the company's set-up (teams, pipelines, targets, catalogue, currencies)
with three administrators among the people; the set-up pages only for those allowed them.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from common import ROOT, configure, machine, percentile, write_section

PAGES = [
    ("deal board", 25),
    ("deal list", 8),
    ("client list", 10),
    ("contact list", 7),
    ("search", 20),
    ("client card", 8),
    ("deal card", 10),
    ("home page", 8),
    ("calendar", 4),
]
SETUP_PAGES = [
    ("task list", 20),
    ("my day", 12),
    ("calendar month", 8),
    ("forecast report", 10),
    ("managers report", 6),
    ("products", 8),
    ("teams", 8),
    ("pipelines", 8),
    ("sales targets", 8),
    ("price lists", 6),
    ("currencies", 6),
]
# What only an owner or an administrator opens.
ADMIN_PAGES = {"teams", "pipelines", "sales targets", "price lists", "currencies"}
SETUP_PATHS = {
    "my day": "/tasks/",
    "calendar month": "/tasks/calendar/?view=month",
    "forecast report": "/reports/forecast/",
    "managers report": "/reports/results/",
    "products": "/products/",
    "teams": "/settings/teams/",
    "pipelines": "/settings/pipelines/",
    "sales targets": "/settings/targets/",
    "price lists": "/settings/price-lists/",
    "currencies": "/settings/currencies/",
}
SEARCHES = ["Иванов", "Петрова", "Варобьёв", "c12345@example.ru", "0710", "Строй-Окна", "Заказ 777"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Person(threading.Thread):
    def __init__(
        self,
        port: int,
        host: str,
        token: str,
        clients: list[int],
        deals: list[int],
        mix: list[tuple[str, int]],
        **run: float,
    ) -> None:
        super().__init__(daemon=True)
        self.mix = mix
        self.port, self.host, self.token, self.clients = port, host, token, clients
        self.deals = deals
        self.until, self.think, self.warmup = run["until"], run["think"], run["warmup"]
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors = 0
        self.rng = random.Random(token)

    def path(self, page: str) -> str:  # noqa: PLR0911  (one answer per page of the mix)
        match page:
            case "deal board":
                return "/deals/"
            case "deal list":
                return f"/deals/list/?page={self.rng.randint(1, 5)}"
            case "client list":
                return f"/clients/?page={self.rng.randint(1, 5)}"
            case "contact list":
                return f"/contacts/?page={self.rng.randint(1, 5)}"
            case "search":
                return "/search/?q=" + quote(self.rng.choice(SEARCHES))
            case "deal card":
                return f"/deals/{self.rng.choice(self.deals)}/"
            case "home page":
                return "/"
            case "calendar":
                return "/tasks/calendar/"
            case "task list":
                return f"/tasks/list/?page={self.rng.randint(1, 5)}"
            case _ if page in SETUP_PATHS:
                return SETUP_PATHS[page]
            case _:
                return f"/clients/{self.rng.choice(self.clients)}/"

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", f"/handoff/{self.token}/", headers={"Host": self.host})
        response = conn.getresponse()
        response.read()
        cookie = "; ".join(
            c.split(";")[0] for k, c in response.getheaders() if k.lower() == "set-cookie"
        )
        names, weights = zip(*self.mix, strict=True)
        while time.monotonic() < self.until:
            page = self.rng.choices(names, weights)[0]
            started = time.perf_counter()
            try:
                conn.request("GET", self.path(page), headers={"Host": self.host, "Cookie": cookie})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            wall = time.perf_counter() - started
            if response.status != 200:
                self.errors += 1
            elif time.monotonic() > self.warmup:
                timing = re.search(r"dur=([\d.]+)", response.getheader("Server-Timing") or "")
                server = float(timing.group(1)) / 1000 if timing else wall
                self.samples[page].append((server, wall))
            if self.think:
                time.sleep(self.think * self.rng.uniform(0.5, 1.5))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--mix", choices=["daily", "setup"], default="daily")
    args = parser.parse_args()
    pages = PAGES if args.mix == "daily" else SETUP_PAGES
    configure(fresh=False)

    from crm_core.access import visible
    from crm_core.models import Client
    from crm_core.queries.deals import visible_deals
    from tenants.models import Company, Membership
    from tenants.services import handoff

    company = Company.objects.filter(slug="bigco").first()
    if company is None:
        sys.exit("Run bench/crm_scale.py first: it builds the 1,000,000-contact company.")
    # The daily mix: the owner and the managers; the set-up mix: the administrators too.
    roles = ["owner", "manager"] + (["admin"] if args.mix == "setup" else [])
    members = list(
        Membership.objects.filter(company=company, role__in=roles).order_by("role", "id")
    )
    host = "bigco.localhost"
    server, port = _serve(args)
    try:
        rows = []
        for label, think in (("pausing ~1 s between clicks", 1.0), ("no pause (saturation)", 0.0)):
            people = []
            for n in range(args.users):
                member = members[n % len(members)]
                with company:
                    clients = list(
                        visible(Client.objects.all(), member).values_list("id", flat=True)[:200]
                    )
                    deals = list(visible_deals(member).values_list("id", flat=True)[:200])
                token = handoff.issue(user=member.user, company=company)
                admin = member.role in ("owner", "admin")
                mix = [(p, w) for p, w in pages if admin or p not in ADMIN_PAGES]
                start = time.monotonic()
                people.append(
                    Person(
                        port,
                        host,
                        token,
                        clients,
                        deals,
                        mix,
                        until=start + args.seconds,
                        think=think,
                        warmup=start + 5,
                    )
                )
            stolen = _cpu_times()
            for person in people:
                person.start()
            for person in people:
                person.join()
            steal = _steal_share(stolen, _cpu_times())
            merged: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for person in people:
                for page, values in person.samples.items():
                    merged[page].extend(values)
            total = sum(len(v) for v in merged.values())
            errors = sum(p.errors for p in people)
            every = [s for values in merged.values() for s in values]
            rows.append(
                f"| **{label}**: all pages | {_fmt([s for s, _ in every])} | "
                f"{_fmt([w for _, w in every])} | {total / (args.seconds - 5):.0f}/s, {errors} errors"
                f"{steal} |"
            )
            for page, _weight in pages:
                values = merged.get(page, [])
                if values:
                    rows.append(
                        f"| {label}: {page} | {_fmt([s for s, _ in values])} | "
                        f"{_fmt([w for _, w in values])} | {len(values)} |"
                    )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    body = f"""
## {args.users} people at once against gunicorn, 1,000,000 contacts{"" if args.mix == "daily" else ": tasks, reports and set-up"}

Command: `.venv/bin/python bench/load.py --users {args.users} --seconds {args.seconds} --workers {args.workers} --threads {args.threads}{"" if args.mix == "daily" else " --mix setup"}`
Machine: {machine()}. gunicorn {args.workers} gthread workers × {args.threads} threads on 127.0.0.1,
DEBUG off, database connections kept between requests as in production (`CONN_MAX_AGE=60`),
the company of bench/crm_scale.py; every person signed in through the handoff and
opens a weighted mix of pages ({", ".join(f"{p} {w}%" for p, w in pages)}) for {args.seconds} s
(first 5 s not counted). Server time is the app's `Server-Timing`; wall time adds gunicorn's
queue and the loopback. Median / p95. "Stolen" is the share of the machine's CPU time that the
virtual machine's host gave to others during the run (/proc/stat): the same code measures
slower when it is high.

| run: page | server time | wall time | requests |
|---|---|---|---|
{chr(10).join(rows)}
"""
    print(body)
    write_section("load" if args.mix == "daily" else "load-setup", body)


def _cpu_times() -> list[int]:
    """The machine's CPU time counters (Linux /proc/stat; empty elsewhere)."""
    try:
        with Path("/proc/stat").open(encoding="ascii") as stat:
            return [int(n) for n in stat.readline().split()[1:]]
    except OSError:
        return []


def _steal_share(before: list[int], after: list[int]) -> str:
    # Columns: user nice system idle iowait irq softirq steal ...
    if len(before) < 8 or len(after) < 8:
        return ""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return f", {100 * spent[7] / max(1, sum(spent[:8])):.0f} % stolen"


def _serve(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn with the production web settings, answering /healthz."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        # Production's value (settings.py, terraform's conn_max_age): each gunicorn thread keeps
        # its connection. Development's 0 opens one per request — a PostgreSQL backend forked
        # and its catalogue caches filled again — which cost every page 15-30 ms here.
        "CONN_MAX_AGE": "60",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "infra/gunicorn.conf.py"),
            "relata.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz", headers={"Host": "localhost"})
            if probe.getresponse().status in (200, 503):
                return server, port
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def _fmt(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values) * 1000:.0f} / {percentile(values, 95) * 1000:.0f} ms"


if __name__ == "__main__":
    main()
