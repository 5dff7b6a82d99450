"""E-mail sync on a local dovecot: the first sync of a 10,000-message mailbox and one poll.

    .venv/bin/python bench/mail_sync.py [--messages 10000] [--runs 1] [--fresh]

Starts its own dovecot (as the mail tests do), fills one mailbox by IMAP APPEND (2–6 KB
letters, one in five a reply in a thread, one in ten from a known contact person, one in
fifty with a 100 KB attachment), connects it to one company and runs the sync in a fresh child
process, as a Celery worker would: the figures are the child's wall time and peak resident
memory (``ru_maxrss``). Then 20 new letters arrive and one incremental poll is timed the same
way. Uses its own database (relata_bench_mail).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import common
from common import ROOT, machine, write_section

common.BENCH_DB = "relata_bench_mail"
os.environ["CACHE_KEY_PREFIX"] = "bench-mail"
# What the figures mean beyond the table (kept by the next run; update it with the figures).
NOTE = (
    "Measured 2026-12-06 on the shared machine: 783 s for 10,000 (13 messages/s; 24/s with 300 "
    "letters earlier that hour), a poll with nothing new 0.21 s, so two workers keep about 570 "
    "mailboxes within a minute on a local server, roughly 200–300 with a real provider's round "
    "trips. The cost per message is the database (about eight statements in its own "
    "transaction), not the IMAP fetch."
)


def letter(n: int, to: str, stamp: str) -> bytes:
    sender = f"client{n % 10}@known.example" if n % 10 == 0 else f"person{n}@stranger.example"
    thread = f"In-Reply-To: <{stamp}.{n - 1}@bench>\r\nReferences: <{stamp}.{n - 1}@bench>\r\n"
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Заказ {n}\r\nMessage-ID: <{stamp}.{n}@bench>\r\n"
        f"{thread if n % 5 == 0 and n else ''}MIME-Version: 1.0\r\n"
    )
    body = ("Здравствуйте! Нужны окна, " * (40 + n % 120)).encode()
    if n % 50:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode() + body
    attachment = base64.encodebytes(os.urandom(100_000))
    return (
        (head + 'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n').encode()
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
        + b'\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + attachment
        + b"\r\n--B--\r\n"
    )


def child(schema: str, mailbox_id: int) -> None:
    """The worker's part, alone in this process (so its peak memory is the sync's)."""
    common.configure(fresh=False)
    from communications.models import Mailbox
    from communications.services.sync import sync_mailbox
    from tenants.models import Company

    company = Company.objects.get(schema_name=schema)
    with company:
        mailbox = Mailbox.objects.get(pk=mailbox_id)
        started = time.perf_counter()
        result = sync_mailbox(company, mailbox)
    assert not result.error, result.error
    print(f"{time.perf_counter() - started:.3f} {result.stored}")


def _run(schema: str, mailbox_id: int) -> tuple[float, float, int]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", schema, str(mailbox_id)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATABASE_URL": os.environ["RELATA_BENCH_ADMIN_URL"]},
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    assert status == 0, out
    seconds, stored = out.split()[-2:]
    return float(seconds), usage.ru_maxrss / 1024, int(stored)


def _company() -> Any:
    from tenants.models import Company
    from tenants.services.provisioning import create_company

    company = Company.objects.filter(slug="bench-mail").first()
    if company is None:
        company = create_company(
            name="Bench mail",
            slug="bench-mail",
            owner_email="bench-mail-owner@example.com",
            owner_password="Bench-Only-Password-1",
        ).company
    return company


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    os.environ["RELATA_BENCH_ADMIN_URL"] = os.environ.get("DATABASE_URL", "")
    common.configure(fresh=args.fresh)
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from communications.models import Mailbox
    from communications.services.mailboxes import save_mailbox
    from communications.tests.servers import running_dovecot
    from crm_core.models import Client, Contact
    from tenants.models import Membership

    company = _company()
    first: list[tuple[float, float, int]] = []
    polls: list[tuple[float, float, int]] = []
    empty: list[tuple[float, float, int]] = []
    fill_seconds: list[float] = []
    with running_dovecot() as dovecot:
        for run in range(args.runs):
            address = dovecot.add_user()
            stamp = f"r{run}{int(time.time())}"
            started = time.perf_counter()
            with dovecot.client(address) as imap:
                for n in range(args.messages):
                    imap.append("INBOX", None, None, letter(n, address, stamp))
            fill_seconds.append(time.perf_counter() - started)
            with company:
                Mailbox.objects.all().delete()
                if not Contact.objects.exists():
                    client = Client.objects.create(name="Known client")
                    for k in range(10):
                        Contact.objects.create(client=client, emails=[f"client{k}@known.example"])
                owner = Membership.objects.get(company=company, role="owner")
                box = save_mailbox(
                    membership=owner,
                    mailbox=Mailbox(),
                    secret="mail-pass-1",
                    reader_ids=[],
                    check=False,
                    name="bench",
                    address=address,
                    imap_host=dovecot.host,
                    imap_port=dovecot.port,
                    imap_security="none",
                    smtp_host="127.0.0.1",
                    smtp_port=25,
                    smtp_security="none",
                    login=address,
                )
            first.append(_run(company.schema_name, box.pk))
            print("first sync", first[-1], flush=True)
            with dovecot.client(address) as imap:
                for n in range(args.messages, args.messages + 20):
                    imap.append("INBOX", None, None, letter(n, address, stamp))
            polls.append(_run(company.schema_name, box.pk))
            print("poll", polls[-1], flush=True)
            empty.append(_run(company.schema_name, box.pk))
            print("empty poll", empty[-1], flush=True)
    seconds = statistics.median(r[0] for r in first)
    memory = statistics.median(r[1] for r in first)
    stored = first[0][2]
    poll = statistics.median(r[0] for r in polls)
    poll_memory = statistics.median(r[1] for r in polls)
    lines = [
        "## E-mail: first sync of a mailbox and one poll (`bench/mail_sync.py`)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/mail_sync.py --messages "
        f"{args.messages} --runs {args.runs}`. A local dovecot (IMAP, no TLS) filled by APPEND "
        f"in {statistics.median(fill_seconds):.0f} s; 2–6 KB letters, one in five a reply, one "
        "in ten from a known contact person, one in fifty with a 100 KB attachment. The sync runs "
        "in a fresh process as a worker would (fetch in bulks of 20, one transaction per "
        "message). Medians of the runs.",
        "",
        "| step | messages stored | time, s | messages/s | peak RSS, MiB |",
        "|---|---|---|---|---|",
        f"| first sync | {stored:,} | {seconds:.1f} | {stored / seconds:,.0f} | {memory:.0f} |",
        f"| one poll, 20 new | {polls[0][2]} | {poll:.2f} | — | {poll_memory:.0f} |",
        f"| one poll, nothing new | 0 | {statistics.median(r[0] for r in empty):.2f} | — | "
        f"{statistics.median(r[1] for r in empty):.0f} |",
        "",
        "How many mailboxes two workers keep within a minute: a poll with nothing new (one "
        "IMAP login, one LIST, and one STATUS and one UID SEARCH per folder; the time is the "
        "sync call alone) bounds it at 2 × 60 s ÷ that time on a local server.",
        "",
        NOTE,
    ]
    print("\n".join(lines))
    if args.messages >= 10_000:
        write_section("mail_sync", "\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
