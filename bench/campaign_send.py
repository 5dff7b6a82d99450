"""An e-mail campaign to 50,000 contact persons: time to queue, the sending rate held to the
configured letters per minute, and the worker's peak memory — through a local SMTP sink.

    .venv/bin/python bench/campaign_send.py [--contacts 50000] [--rate 3000] [--seconds 60]
                                            [--runs 3] [--fresh]

One company with ``--contacts`` contact persons who agreed to mailings (and one in ten who did
not, so the consent check has work), a dynamic segment of the saved view "all contact
persons", and sending through a mailbox whose SMTP server is an aiosmtpd sink on 127.0.0.1
started by this script. Each run makes a campaign, queues it exactly as "Send now" does
(``campaigns.start``: the segment read through the list's filters, consent and suppression,
INSERT … SELECT), then sends in a fresh child process as the Celery task does (a batch of
rate/6 every ten seconds) for ``--seconds``; the sink counts what arrived. A last run sends
with the rate set above what one worker can send (30,000/min) to show one worker's ceiling.
Uses its own database (relata_bench_campaign).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import common
from common import ROOT, machine, write_section

common.BENCH_DB = "relata_bench_campaign"
os.environ["CACHE_KEY_PREFIX"] = "bench-campaign"
UNLIMITED = 30_000  # above what one worker sends, so the worker runs flat out


def child(schema: str, campaign_id: int, seconds: float) -> None:
    """The worker's part, alone in this process: the task's loop (a batch, then wait out the
    tick), for ``seconds``. Prints the letters sent, the elapsed time and peak memory."""
    common.configure(fresh=False)
    import resource

    from marketing.services.delivery import send_batch, tick_seconds
    from tenants.models import Company

    company = Company.objects.get(schema_name=schema)
    sent = 0
    started = time.perf_counter()
    with company:
        while time.perf_counter() - started < seconds:
            began = time.perf_counter()
            result = send_batch(company, campaign_id)
            sent += result.sent
            if not result.left:
                break
            time.sleep(max(0.0, tick_seconds() - (time.perf_counter() - began)))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{sent} {elapsed:.3f} {peak:.1f}")


class Sink:
    """An SMTP server that only counts (aiosmtpd, as the mail tests use)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                with sink.lock:
                    sink.count += 1
                return "250 OK"

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()


def _fill(contacts: int, owner_id: int) -> None:
    from django.db import connection

    from crm_core.models import Contact
    from marketing.models import Consent

    have = Contact.objects.count()
    batch = 10_000
    for start in range(have, contacts, batch):
        made = Contact.objects.bulk_create(
            Contact(
                first_name=("Анна", "Иван", "Мария", "Пётр")[n % 4],
                middle_name=("Петровна", "Сергеевич", "Ивановна", "Олегович")[n % 4],
                last_name=f"Фамилия{n}",
                emails=[f"person{n}@bench.test"],
                responsible_id=owner_id,
            )
            for n in range(start, min(contacts, start + batch))
        )
        Consent.objects.bulk_create(
            Consent(
                contact=c,
                email=c.emails[0],
                source="import",
                text="Согласен получать новости",
            )
            for i, c in enumerate(made)
            if (start + i) % 10
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _run(
    company: Any, membership: Any, segment: Any, rate: int, seconds: float, sink: Sink
) -> dict[str, float]:
    from marketing.models import Campaign, SendingSettings
    from marketing.services import campaigns

    with company:
        SendingSettings.objects.update(rate_per_minute=rate)
        campaign = campaigns.save_campaign(
            membership=membership,
            campaign=None,
            name=f"Bench {time.time():.0f}",
            subject="{first_name}, новости",
            blocks=[
                {"kind": "heading", "text": "{dear} {name_and_patronymic}!"},
                {"kind": "text", "text": "Скидка {first_name_dative} — 10 %."},
                {"kind": "button", "text": "Смотреть", "url": "https://okna.example/sale"},
            ],
            segment=segment,
        )
        started = time.perf_counter()
        queued = campaigns.start(
            membership=membership, campaign=campaign, base_url="https://bench.example"
        )
        queue_seconds = time.perf_counter() - started
    before = sink.count
    done = subprocess.run(
        [sys.executable, __file__, "--child", company.schema_name, str(campaign.pk), str(seconds)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    if done.returncode:
        raise SystemExit(f"the sending process failed:\n{done.stderr[-3000:]}")
    out = done.stdout.split()
    sent, elapsed, peak = int(out[-3]), float(out[-2]), float(out[-1])
    arrived = sink.count - before
    with company:
        Campaign.objects.filter(pk=campaign.pk).update(status="cancelled")
    return {
        "queued": queued,
        "queue_s": queue_seconds,
        "sent": sent,
        "arrived": arrived,
        "elapsed": elapsed,
        "per_minute": sent / elapsed * 60,
        "peak": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), float(args.child[2]))
        return
    common.configure(fresh=args.fresh)
    from django.core.management import call_command

    from communications.models import Mailbox
    from crm_core.models import SavedView
    from marketing.models import Segment, SendingSettings
    from tenants.models import Company, Membership
    from tenants.services.provisioning import create_company

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    company = Company.objects.filter(slug="bench-campaign").first()
    if company is None:
        company = create_company(
            name="Bench campaign",
            slug="bench-campaign",
            owner_email="bench-campaign@example.com",
            owner_password="Bench-Only-Password-1",
        ).company
    membership = Membership.objects.select_related("user", "company").get(
        company=company, role="owner"
    )
    sink = Sink()
    with company:
        started = time.perf_counter()
        _fill(args.contacts, membership.user_id)
        print(f"filled in {time.perf_counter() - started:.1f} s", flush=True)
        Mailbox.objects.all().delete()
        box = Mailbox.objects.create(
            name="Новости",
            address="news@bench.test",
            imap_host="127.0.0.1",
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
            login="",
        )
        SendingSettings.objects.all().delete()
        SendingSettings.objects.create(channel="mailbox", mailbox=box, rate_per_minute=args.rate)
        view, _ = SavedView.objects.get_or_create(
            entity="contacts", name="Все", owner=membership.user, defaults={"query": ""}
        )
        segment, _ = Segment.objects.get_or_create(name="Все", kind="dynamic", view=view)
    runs = [
        _run(company, membership, segment, args.rate, args.seconds, sink) for _ in range(args.runs)
    ]
    for run in runs:
        print(run, flush=True)
    ceiling = _run(company, membership, segment, UNLIMITED, args.seconds, sink)
    print("ceiling", ceiling, flush=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    lines = [
        "## E-mail campaign to 50,000 contact persons (`bench/campaign_send.py`)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/campaign_send.py --contacts "
        f"{args.contacts} --rate {args.rate} --seconds {args.seconds:.0f} --runs {args.runs}`. "
        f"One company, {args.contacts:,} contact persons (nine in ten agreed to mailings), a "
        "dynamic segment of the saved view “all contact persons”; sending through a mailbox "
        "whose SMTP server is a local aiosmtpd sink. Queueing is what “Send now” does (the "
        "list's filters, consent and suppression, one INSERT … SELECT); sending runs in a fresh "
        "process as the Celery task does (a batch of rate ÷ 6 every ten seconds, one SMTP "
        f"session per batch) for {args.seconds:.0f} s. Medians of {args.runs} runs.",
        "",
        "| step | figure |",
        "|---|---|",
        f"| recipients queued | {med('queued'):,.0f} |",
        f"| time to queue, s | {med('queue_s'):.2f} |",
        f"| configured rate, letters/min | {args.rate:,} |",
        f"| achieved rate, letters/min | {med('per_minute'):,.0f} |",
        f"| letters sent in {args.seconds:.0f} s / arrived at the sink | "
        f"{med('sent'):,.0f} / {med('arrived'):,.0f} |",
        f"| worker peak RSS, MiB | {med('peak'):.0f} |",
        f"| one worker's ceiling (rate set to 30,000), letters/min | {ceiling['per_minute']:,.0f} |",
        f"| worker peak RSS at the ceiling, MiB | {ceiling['peak']:.0f} |",
        "",
        "The rate is held by the batch size per tick, so it never exceeds the configured one "
        "however many workers take the campaign's tasks (rows are claimed with SKIP LOCKED). "
        "Each letter is rendered for its person (placeholders, declined names, its own signed "
        "links), which is most of the ceiling's cost; memory is flat in the number of "
        "recipients (one batch at a time).",
    ]
    print("\n".join(lines))
    if args.contacts >= 50_000:
        write_section("campaign_send", "\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
