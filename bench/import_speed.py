"""Import of a messy 100,000-row Russian client list: Relata vs django-import-export (bulk).

    .venv/bin/python bench/import_speed.py [--rows 100000] [--samples 3]

One generated xlsx (title row, header with colons, INN stored as numbers with lost leading
zeros, phones in every Russian spelling and two to a cell, mixed-case e-mails, duplicates,
blank and totals rows) is imported end to end into the same empty company, alternately:
- Relata: `create_batch` + `run_batch` (detect, read, normalise phones and INN, dedupe against
  the file and the base, bulk writes of clients, contact persons and phones, undo records);
- django-import-export 4 in bulk mode (`use_bulk`, `batch_size=1000`) on the same file and the
  same Client model, with the INN checked by the same `clean_inn` (it writes clients only: no
  contact persons, no phones, no dedupe — less work than Relata does);
- Relata again with only django-import-export's columns mapped (the same work: clients);
- PostgreSQL COPY of the clean client rows (the limit for django-import-export's one table);
- the write floor of Relata's output: the rows its import wrote, dumped and copied back in
  binary (server time only), with and without the batch's undo and report rows.
Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import common
from common import configure, machine, populate, write_section

# A database of its own: the benchmark empties its company's client tables between samples
# (RELATA_BENCH_DB names another, for a second checkout running it at the same time).
common.BENCH_DB = os.environ.get("RELATA_BENCH_DB", "relata_bench_import")

FIRST = ["Иван", "Пётр", "Анна", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей"]
LAST = ["Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Соколов", "Лебедев"]
LATIN = ["Ivanov", "Petrov", "Sidorov", "Kuznetsov", "Smirnov", "Popov", "Sokolov", "Lebedev"]
KINDS = ["ООО", "АО", "ИП", "ЗАО", "ПАО"]
WORDS = ["Ромашка", "Вектор", "Стройснаб", "Техно", "Альфа", "Север", "Гранит", "Меридиан"]


def _inn(rng: random.Random) -> str:
    from stdnum.ru import inn

    digits = [rng.randint(0, 9) for _ in range(9)]
    if rng.random() < 0.1:
        digits[0] = 0  # Excel will drop this zero
    body = "".join(map(str, digits))
    return body + inn.calc_company_check_digit(body)


def _phone(rng: random.Random, n: int) -> str:
    number = f"9{n % 100:02d}{n // 100 % 1000:03d}{n % 10000:04d}"
    style = n % 4
    if style == 0:
        return f"8 ({number[:3]}) {number[3:6]}-{number[6:8]}-{number[8:]}"
    if style == 1:
        return f"+7 {number[:3]} {number[3:6]} {number[6:8]} {number[8:]}"
    if style == 2:
        return f"8{number}"
    return f"{number}, 8 (495) {n % 1000:03d}-{n % 100:02d}-{n % 97:02d} доб. {n % 50}"


def generate(rows: int, seed: int = 7) -> bytes:
    import openpyxl

    rng = random.Random(seed)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Клиенты")
    sheet.append(["Выгрузка клиентов из 1С на 01.03.2026"])
    sheet.append([])
    sheet.append(
        ["Наименование:", " ИНН ", "КПП", "Телефон(ы)", "E-mail", "Контактное лицо", "Адрес"]
    )
    for n in range(rows):
        if n % 1000 == 999:
            sheet.append([])
        source = n if rng.random() > 0.03 else rng.randrange(max(n, 1))  # 3% duplicates
        inn = _inn(random.Random(source))
        name = f'{KINDS[source % 5]} "{WORDS[source % 8]}-{source}"  '
        person = f"{LAST[source % 8]} {FIRST[source % 9]} {LAST[(source // 8) % 8][:-2]}ич"
        sheet.append(
            [
                name,
                int(inn) if source % 2 else inn,
                f"77{source % 100:02d}01001",
                _phone(rng, source),
                f" {LATIN[source % 8]}.{source}@Example.RU ",
                person,
                f"г. Москва, ул. {WORDS[source % 8]}, д. {source % 200}",
            ]
        )
    sheet.append(["Итого", rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def clear_crm() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_core_phone, crm_core_contact, crm_core_client, "
            "onboarding_importedrecord, onboarding_importrownote, onboarding_importbatch CASCADE"
        )


# The columns django-import-export is given (its model is the client alone).
CLIENT_COLUMNS = {"name", "inn", "kpp", "legal_address"}


def client_only_mapping(data: bytes) -> dict[str, str]:
    """Relata's suggested mapping of the file, narrowed to django-import-export's columns."""
    from onboarding.importing.sources import inspect

    found = inspect(io.BytesIO(data), size=len(data), limit_mb=512)
    return {header: f for header, f in found.mapping.items() if f in CLIENT_COLUMNS}


def run_relata(company: Any, data: bytes, mapping: dict[str, str] | None = None) -> float:
    from onboarding.services.imports import create_batch, run_batch

    clear_crm()
    started = time.perf_counter()
    batch = create_batch(
        user_id=None, file=io.BytesIO(data), file_name="clients.xlsx", mapping=mapping
    )
    report = run_batch(batch, company=company)
    elapsed = time.perf_counter() - started
    assert report.batch.status == "done", report.batch.error
    return elapsed


def run_import_export(data: bytes) -> float:
    import tablib
    from django.core.exceptions import ValidationError
    from import_export import resources

    from crm_core.models import Client
    from crm_core.normalise import clean_inn

    class ClientResource(resources.ModelResource):
        class Meta:
            model = Client
            fields = ("name", "inn", "inn_status", "kpp", "legal_address")
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            force_init_instance = True

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            row["name"] = str(row.get("name") or "").strip()
            try:
                row["inn"], row["inn_status"] = clean_inn(str(row.get("inn") or ""))
            except ValidationError:
                row["inn"], row["inn_status"] = str(row.get("inn") or ""), "foreign"

    clear_crm()
    started = time.perf_counter()
    # django-import-export reads the first row as the header: it gets the sheet from the
    # header row on, with its headers named as the fields (its own mapping step).
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = list(book.active.iter_rows(min_row=4, values_only=True))
    dataset = tablib.Dataset(
        headers=["name", "inn", "kpp", "phone", "email", "person", "legal_address"]
    )
    for row in rows:
        if row and row[0] and row[0] != "Итого":
            dataset.append(list(row[:7]) + [None] * (7 - len(row[:7])))
    result = ClientResource().import_data(dataset, dry_run=False, raise_errors=True)
    elapsed = time.perf_counter() - started
    assert not result.has_errors()
    return elapsed


def run_copy(rows: int) -> float:
    from django.db import connection

    clear_crm()
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY crm_core_client (kind, name, full_name, inn, inn_status, kpp, legal_address, "
            "postal_address, bank_name, bik, bank_account, correspondent_account, website, "
            "industry, tags, source, custom, created_at, updated_at, version) FROM STDIN"
        ) as copy,
    ):
        for n in range(rows):
            copy.write_row(
                (
                    "legal",
                    f'ООО "Ромашка-{n}"',
                    "",
                    f"77070{n:05d}",
                    "valid",
                    "770701001",
                    "г. Москва",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "{}",
                    "Import",
                    "{}",
                    "2026-03-01",
                    "2026-03-01",
                    1,
                )
            )
    return time.perf_counter() - started


# What an import of the file writes: the CRM's tables, then the batch's undo and report rows.
OUTPUT = ("crm_core_client", "crm_core_contact", "crm_core_phone")
BOOKKEEPING = ("onboarding_importedrecord", "onboarding_importrownote")


def run_write_floor() -> tuple[float, float]:
    """The server's time to take exactly the rows Relata's import just wrote, already encoded
    (binary COPY of a dump of them): what no importer writing this output can go below.
    Returns (CRM tables alone, CRM tables + bookkeeping)."""
    from django.db import connection, transaction

    dumps: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        for table in OUTPUT + BOOKKEEPING:
            data = bytearray()
            with cursor.cursor.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                for block in copy:
                    data += block
            dumps[table] = bytes(data)
        cursor.execute(f"TRUNCATE {', '.join(OUTPUT + BOOKKEEPING)} CASCADE")
    took: dict[str, float] = {}
    for table in OUTPUT + BOOKKEEPING:
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                copy.write(dumps[table])
            took[table] = time.perf_counter() - started
    crm = sum(took[t] for t in OUTPUT)
    return crm, crm + sum(took[t] for t in BOOKKEEPING)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    configure(fresh=False)
    from django.conf import settings

    from tenants.models import Company

    populate(1)
    company = Company.objects.exclude(schema_name="public").order_by("pk").first()
    assert company is not None
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="relata-bench-media-")
    print("generating the file…", flush=True)
    data = generate(args.rows)
    Path(settings.MEDIA_ROOT, "clients.xlsx").write_bytes(data)
    relata: list[float] = []
    same_work: list[float] = []
    theirs: list[float] = []
    copies: list[float] = []
    with company:
        narrowed = client_only_mapping(data)
        assert set(narrowed.values()) == CLIENT_COLUMNS, narrowed
        for sample in range(args.samples):
            relata.append(run_relata(company, data))
            print(f"  relata #{sample + 1}: {relata[-1]:.1f} s", flush=True)
            same_work.append(run_relata(company, data, narrowed))
            print(f"  relata, client columns only #{sample + 1}: {same_work[-1]:.1f} s", flush=True)
            theirs.append(run_import_export(data))
            print(f"  django-import-export #{sample + 1}: {theirs[-1]:.1f} s", flush=True)
            copies.append(run_copy(args.rows))
        from crm_core.models import Client, Contact, Phone

        floors: list[tuple[float, float]] = []
        for _sample in range(args.samples):
            run_relata(company, data)
            made = (Client.objects.count(), Contact.objects.count(), Phone.objects.count())
            floors.append(run_write_floor())
        clear_crm()
    ours, narrow, other, copy = (statistics.median(v) for v in (relata, same_work, theirs, copies))
    floor_crm = statistics.median(f[0] for f in floors)
    floor_all = statistics.median(f[1] for f in floors)
    body = f"""## Import of a messy {args.rows:,}-row Excel client list

Command: `.venv/bin/python bench/import_speed.py --rows {args.rows} --samples {args.samples}`
Machine: {machine()}. File: {len(data) / 1e6:.1f} MB xlsx, a title row above the header, INN
as numbers (10% with a lost leading zero), phones in four Russian spellings (a quarter with two
numbers and an extension in one cell), mixed-case e-mails, 3% duplicate companies, a blank row
every 1,000 rows and a totals row. Relata made {made[0]:,} clients, {made[1]:,} contact persons
and {made[2]:,} phones from it. Medians of {args.samples} alternating samples.

| path | time | rows/s |
|---|---|---|
| Relata (detect, read, normalise, dedupe, write clients + contact persons + phones) | {ours:.1f} s | {args.rows / ours:,.0f} |
| Relata on django-import-export's columns only (name, INN, KPP, address: clients, deduped by INN) | {narrow:.1f} s | {args.rows / narrow:,.0f} |
| django-import-export 4, bulk mode (clients only, INN checked) | {other:.1f} s | {args.rows / other:,.0f} |
| PostgreSQL COPY of clean client rows (one table: the limit for django-import-export's work) | {copy:.1f} s | {args.rows / copy:,.0f} |
| write floor: server time of a binary COPY of exactly the rows Relata wrote, clients + contact persons + phones | {floor_crm:.1f} s | {args.rows / floor_crm:,.0f} |
| the same with the batch's undo and report rows | {floor_all:.1f} s | {args.rows / floor_all:,.0f} |

Relata / django-import-export: **{other / ours:.1f}×** faster; on the same columns, the same
work, **{other / narrow:.1f}×**. Ten times django-import-export
would be {other / 10:.1f} s; the write floor of this file's output alone is {floor_crm:.1f} s.
"""
    write_section("import_speed", body)
    print(body)


if __name__ == "__main__":
    main()
