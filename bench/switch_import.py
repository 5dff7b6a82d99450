"""Switching from amoCRM end to end: a generated 100,000-contact / 20,000-deal / 50,000-task
export imported through the one import (create_batch + run_batch), file after file.

    .venv/bin/python bench/switch_import.py [--contacts 100000] [--deals 20000]
        [--tasks 50000] [--runs 1]

The files have the shape of amoCRM's exports (Russian headers, «Компания контакта», the
person's «Рабочий телефон»/«Мобильный телефон»/«Рабочий email»/«Должность»/Telegram, deals
with «Этап сделки», «Воронка» (two pipelines), «Ответственный» (five names: three members,
two not), won and lost deals with «Причина отказа»; tasks linked by «ID сущности» to the deals
and contacts). Each file is imported in a fresh process, as a worker runs it: wall time and
the process's peak RSS. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common
from common import configure, machine, write_section

common.BENCH_DB = os.environ.get("RELATA_BENCH_DB", "relata_bench_switch")

FIRST = ["Иван", "Пётр", "Анна", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей"]
LAST = ["Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Соколов", "Лебедев"]
WORDS = ["Ромашка", "Вектор", "Стройснаб", "Техно", "Альфа", "Север", "Гранит", "Меридиан"]
OWNERS = ["Анна Смирнова", "Борис Орлов", "vera@bench.example", "Григорий Уволенный", "Дина Новая"]
MEMBERS = [
    ("anna@bench.example", "Анна Смирнова"),
    ("boris@bench.example", "Борис Орлов"),
    ("vera@bench.example", "Вера Котова"),
]
STAGES = [
    "Первичный контакт",
    "Переговоры",
    "Принимают решение",
    "Согласование договора",
    "Успешно реализовано",
    "Закрыто и не реализовано",
]
PIPELINES = ["Основная воронка", "Повторные продажи"]
STEPS = ("contacts", "deals", "tasks")


def _csv(rows: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def contacts_file(count: int, companies: int) -> bytes:
    def rows() -> Any:
        yield [
            "ID",
            "Имя",
            "Фамилия",
            "Компания контакта",
            "Ответственный",
            "Должность",
            "Рабочий телефон",
            "Мобильный телефон",
            "Рабочий email",
            "Telegram",
            "Дата создания",
            "Теги",
        ]
        for n in range(count):
            company = n % companies
            yield [
                str(100000 + n),
                FIRST[n % 9],
                f"{LAST[n % 8]}-{n}",
                f'ООО "{WORDS[company % 8]}-{company}"',
                OWNERS[n % 5],
                "Менеджер по закупкам" if n % 3 else "Директор",
                f"+7 495 {n % 1000:03d}-{n // 1000 % 100:02d}-{n % 97:02d} доб. {n % 90 + 10}",
                f"8 9{n % 100:02d} {n // 100 % 1000:03d}-{n % 100:02d}-{n // 7 % 100:02d}",
                f"person{n}@{WORDS[company % 8].lower()}-{company}.example",
                f"@person{n}" if n % 4 == 0 else "",
                f"{1 + n % 28:02d}.{1 + n % 12:02d}.2024 10:{n % 60:02d}:00",
                "импорт",
            ]

    return _csv(rows())


def deals_file(count: int, contacts: int, companies: int) -> bytes:
    def rows() -> Any:
        yield [
            "ID",
            "Название сделки",
            "Бюджет",
            "Ответственный",
            "Дата создания",
            "Этап сделки",
            "Воронка",
            "Основной контакт",
            "Компания",
            "Дата закрытия",
            "Причина отказа",
            "Теги",
        ]
        rng = random.Random(11)
        for n in range(count):
            person = rng.randrange(contacts)
            company = person % companies
            stage = STAGES[n % 6]
            closed = stage.startswith(("Успешно", "Закрыто"))
            yield [
                str(500000 + n),
                f"Сделка №{n}",
                f"{rng.randrange(1, 5000) * 100:,}".replace(",", " "),
                OWNERS[n % 5],
                f"{1 + n % 28:02d}.{1 + n % 12:02d}.2025 09:00:00",
                stage,
                PIPELINES[n % 7 == 0],
                f"{FIRST[person % 9]} {LAST[person % 8]}-{person}",
                f'ООО "{WORDS[company % 8]}-{company}"',
                f"{1 + n % 28:02d}.{1 + n % 12:02d}.2025 18:00:00" if closed else "",
                "Дорого" if stage.startswith("Закрыто") else "",
                "",
            ]

    return _csv(rows())


def tasks_file(count: int, deals: int, contacts: int) -> bytes:
    def rows() -> Any:
        yield [
            "ID",
            "Дата создания",
            "Срок выполнения",
            "Ответственный",
            "Автор",
            "Тип задачи",
            "Текст задачи",
            "Статус",
            "Сущность",
            "ID сущности",
        ]
        for n in range(count):
            on_deal = n % 5 != 0
            yield [
                str(900000 + n),
                f"{1 + n % 28:02d}.{1 + n % 12:02d}.2025 09:00:00",
                f"{1 + n % 28:02d}.{1 + n % 12:02d}.2025 {9 + n % 9}:30:00",
                OWNERS[n % 5],
                OWNERS[(n + 1) % 5],
                ["Звонок", "Встреча", "Письмо", "Связаться"][n % 4],
                f"Задача {n}: перезвонить и уточнить детали",
                "Выполнена" if n % 3 == 0 else "Не выполнена",
                "Сделка" if on_deal else "Контакт",
                str(500000 + n % deals) if on_deal else str(100000 + n % contacts),
            ]

    return _csv(rows())


def clear_crm() -> None:
    """Empty the company's CRM records and what the imports made (stages, pipelines)."""
    from django.db import connection

    from crm_core.models import Pipeline, Stage
    from onboarding.models import ImportedRecord

    made = ImportedRecord.objects.filter(entity__in=["stage", "pipeline"])
    stage_ids = list(made.filter(entity="stage").values_list("record_id", flat=True))
    pipeline_ids = list(made.filter(entity="pipeline").values_list("record_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_core_task, crm_core_activity, crm_core_dealitem, "
            "crm_core_deal_contacts, crm_core_deal, crm_core_phone, crm_core_contact, "
            "crm_core_client, onboarding_importedrecord, onboarding_importrownote, "
            "onboarding_importbatch CASCADE"
        )
    Stage.objects.filter(pk__in=stage_ids).delete()
    Pipeline.objects.filter(pk__in=pipeline_ids).delete()


SLUG = "switch-bench"


def bench_company() -> Any:
    """The benchmark's company, signed up as any company is (its schema from the migrations)."""
    from django.core.management import call_command

    from tenants.models import Company
    from tenants.services.provisioning import create_company

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    found = Company.objects.filter(slug=SLUG).first()
    if found is not None:
        return found
    return create_company(
        name="Switch bench",
        slug=SLUG,
        owner_email="owner@bench.example",
        owner_password="bench-password-1",
    ).company


def ensure_members(company: Any) -> int:
    from tenants.models import Membership, User

    owner = Membership.objects.filter(company=company).order_by("pk").first()
    assert owner is not None
    for email, name in MEMBERS:
        user, _made = User.objects.get_or_create(email=email, defaults={"full_name": name})
        Membership.objects.get_or_create(user=user, company=company)
    return owner.user_id


def child(step: str, path: str, user_id: int) -> None:
    """One file's import in this (fresh) process; prints its figures as JSON."""
    configure(fresh=False)
    from django.conf import settings

    from onboarding.services.imports import create_batch, run_batch
    from tenants.models import Company

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="relata-bench-media-")
    company = Company.objects.get(slug=SLUG)
    data = Path(path).read_bytes()
    with company:
        options = {"pipelines": {PIPELINES[0]: "default"}} if step == "deals" else None
        started = time.perf_counter()
        batch = create_batch(
            user_id=user_id, file=io.BytesIO(data), file_name=f"{step}.csv", options=options
        )
        report = run_batch(batch, company=company)
        elapsed = time.perf_counter() - started
        assert report.batch.status == "done", report.batch.error
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_mib": peak,
                "counts": report.counts,
                "preset": report.batch.options.get("preset"),
                "unmatched": {k: len(v) for k, v in report.batch.unmatched.items()},
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "FILE", "USER"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    configure(fresh=False)
    company = bench_company()
    user_id = ensure_members(company)
    companies = max(args.contacts // 4, 1)
    folder = Path(tempfile.mkdtemp(prefix="relata-bench-switch-"))
    print("generating the files…", flush=True)
    files = {
        "contacts": contacts_file(args.contacts, companies),
        "deals": deals_file(args.deals, args.contacts, companies),
        "tasks": tasks_file(args.tasks, args.deals, args.contacts),
    }
    for step, data in files.items():
        (folder / f"{step}.csv").write_bytes(data)
    results: dict[str, list[dict[str, Any]]] = {step: [] for step in STEPS}
    for run in range(args.runs):
        with company:
            clear_crm()
        for step in STEPS:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    step,
                    str(folder / f"{step}.csv"),
                    str(user_id),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=common.ROOT,
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            results[step].append(figures)
            print(f"  run {run + 1} {step}: {figures}", flush=True)
    with company:
        from crm_core.models import Activity, Client, Contact, Deal, Stage, Task

        made = {
            "clients": Client.objects.count(),
            "contacts": Contact.objects.count(),
            "deals": Deal.objects.count(),
            "tasks": Task.objects.count(),
            "won": Deal.objects.filter(stage__outcome=Stage.Outcome.WON).count(),
            "activities": Activity.objects.count(),
        }
        owners = Deal.objects.values("responsible_id").distinct().count()
        stages = Deal.objects.values("stage_id").distinct().count()
    rows = {"contacts": args.contacts, "deals": args.deals, "tasks": args.tasks}
    table = []
    total = 0.0
    for step in STEPS:
        seconds = statistics.median(r["seconds"] for r in results[step])
        peak = statistics.median(r["peak_mib"] for r in results[step])
        total += seconds
        counts = results[step][-1]["counts"]
        table.append(
            f"| {step} ({results[step][-1]['preset']}) | {rows[step]:,} | {seconds:.1f} | "
            f"{rows[step] / seconds:,.0f} | {peak:.0f} | {counts.get('rejected', 0):,} |"
        )
    body = f"""## Switching from amoCRM: contacts, deals and tasks (`bench/switch_import.py`)

Machine: {machine()} — a shared 2-core AMD EPYC, other sessions' tests running at the same
time. Command: `.venv/bin/python bench/switch_import.py --contacts {args.contacts} --deals
{args.deals} --tasks {args.tasks} --runs {args.runs}`. Three amoCRM-shaped CSV exports
(utf-8 with a BOM, `;`): {args.contacts:,} contacts of {companies:,} companies (the person's
work phone with an extension, mobile, e-mail, position, Telegram on the person), {args.deals:,}
deals in two pipelines and six stages (won and lost among them, with the reason), five
owners (three members, two not), and {args.tasks:,} tasks linked to the deals and contacts by
their amoCRM ids. Each file is recognised (the preset) and imported end to end (create_batch +
run_batch) in a fresh process, as a worker runs it; time is wall time, memory the process's
peak RSS. Medians of {args.runs} run(s).

| file | rows | time, s | rows/s | peak RSS, MiB | rejected |
|---|---|---|---|---|---|
{chr(10).join(table)}
| all three | {sum(rows.values()):,} | {total:.1f} | {sum(rows.values()) / total:,.0f} | — | — |

Made: {made["clients"]:,} clients, {made["contacts"]:,} contact persons, {made["deals"]:,}
deals ({made["won"]:,} won) on {stages} stages with {owners} different responsible people,
{made["tasks"]:,} tasks.
"""
    write_section("switch_import", body)
    print(body)


if __name__ == "__main__":
    main()
