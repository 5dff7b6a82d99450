"""Exports of other CRMs for the switching tests: the sample files in fixtures/switch/ (written
from the public descriptions of amoCRM's, Bitrix24's and HubSpot's list exports), and the same
files re-saved the ways people pass them on (xlsx, other encodings and separators, columns
shuffled, extra columns, headers in other case and spacing)."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path
from typing import Any

import openpyxl

FIXTURES = Path(__file__).parent / "fixtures" / "switch"
ENCODINGS = {"cp1251": "cp1251", "utf-8-sig": "utf-8-sig"}


def rows_of(name: str) -> list[list[str]]:
    raw = (FIXTURES / name).read_bytes()
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        dialect = csv.Sniffer().sniff(text[:2000], delimiters=";,")
        return [row for row in csv.reader(io.StringIO(text), dialect) if row]
    raise AssertionError(f"{name}: not utf-8 or cp1251")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def as_csv(rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ";") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows: list[list[Any]], sheet: str = "Сделки") -> bytes:
    book = openpyxl.Workbook()
    page = book.active
    assert page is not None
    page.title = sheet
    for row in rows:
        page.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reshaped(rows: list[list[str]], *, seed: int = 7) -> list[list[str]]:
    """The columns in another order, two columns the presets do not know, and the headers in
    other case and spacing — what a held-out export of the same system may look like."""
    header, *data = rows
    order = list(range(len(header)))
    random.Random(seed).shuffle(order)  # noqa: S311 - a test's shuffle, not a secret
    new_header = [_respelled(header[i], n) for n, i in enumerate(order)]
    new_header += ["Utm_source", "Доп. поле 1"]
    return [new_header] + [[row[i] for i in order] + ["yandex", "x"] for row in data]


def _respelled(header: str, n: int) -> str:
    return ("  " + header.upper() + " ") if n % 2 else header.lower().replace(" ", "  ")
