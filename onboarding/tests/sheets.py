"""Messy sheets as people and 1C really save them, generated for the tests."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import openpyxl

TITLE = "Клиенты на 01.03.2026"
HEADER = [
    " Наименование: ",
    "ИНН",
    "КПП",
    "Телефон(ы)",
    "E-mail",
    "Контактное лицо",
    "Сумма сделки",
    "Дата",
]
ROWS: list[list[Any]] = [
    [
        'ООО "Ромашка"  ',
        7707083893,  # stored as a number
        "773601001",
        "8 (495) 123-45-67 доб. 12, +7 916 111-22-33",
        " Info@Romashka.RU ",
        "Иванов Иван Иванович",
        "1 234,56",
        "05.03.2026",
    ],
    # Excel dropped the leading zero of INN 0235792851.
    ["Башкирская сталь", 235792851, "", "89161234567", "", "", None, None],
    # A Kazakh mobile number and a 12-digit Kazakh BIN (not a Russian INN).
    ["ТОО Алатау", "181620360057", "", "+7 701 234 56 78", "", "", None, None],
    [None, None, None, None, None, None, None, None],  # a blank row in the middle
    # The same company again, another contact person: merged, not duplicated.
    ['ООО "Ромашка"', "7707083893", "773601001", "", "", "Петров Пётр", None, None],
    ["", "", "", "+7 999 000-00-00", "", "", None, None],  # no name: rejected
    ["ИП Сидоров", "", "", "not a phone", "sidorov@", "", None, None],
]


def messy_xlsx() -> bytes:
    """A title row, a blank row, the header, data, a formula and a totals row."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Клиенты"
    sheet.append([TITLE])
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    # A formula whose cached value Excel stored (openpyxl writes none: patched below).
    formula_row = sheet.max_row + 1
    sheet.append(["Формула и Ко", "", "", "", "", "", "=G4*2", ""])
    sheet.append(["Итого", "", "", "", "", "", f"=SUM(G4:G{formula_row})", ""])
    out = io.BytesIO()
    book.save(out)
    return with_cached_values(
        out.getvalue(), {f"G{formula_row}": "2469.12", f"G{formula_row + 1}": "3703.68"}
    )


def with_cached_values(xlsx: bytes, cached: dict[str, str]) -> bytes:
    """Add the cached results Excel writes next to formulas (openpyxl cannot compute)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                for ref, value in cached.items():
                    text = re.sub(
                        rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?',
                        rf"\1\2<v>{value}</v>",
                        text,
                    )
                data = text.encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], *, encoding: str, delimiter: str) -> bytes:
    import csv

    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode("utf-8" if encoding == "utf-8-sig" else encoding)
    return (b"\xef\xbb\xbf" + data) if encoding == "utf-8-sig" else data


def excel_csv(rows: list[list[str]]) -> bytes:
    """A csv as Russian Excel saves it: UTF-8, semicolons."""
    return csv_bytes(rows, encoding="utf-8", delimiter=";")


def xls_bytes(rows: list[list[Any]]) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Лист1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
