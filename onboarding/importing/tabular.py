"""Sheets: xlsx (openpyxl, read-only, formulas by their value), xls (xlrd) and csv.

Every reader yields rows as lists of cell values, streamed; the header row is found among
the first rows (hand-made sheets put a title above it), and each data row becomes a
SourceRow through the column mapping.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from itertools import islice
from typing import IO, Any

from django.utils.translation import gettext

from onboarding.importing import bounds, columns, switchrows, values
from onboarding.importing.errors import UnreadableFile
from onboarding.importing.kinds import client_kind
from onboarding.importing.records import ClientIn, DealIn, PersonIn, SourceRow

HEADER_SEARCH_ROWS = 30
# Above this size an xlsx is streamed with openpyxl's read-only mode instead of calamine.
# calamine holds the whole sheet in memory (~770 MB for a million rows of ten columns, over the
# 1 GiB an import may use); openpyxl parses the XML as it goes, in constant memory, about ten
# times slower — which a file this size spends anyway on everything else per row. 16 MB is
# ~200,000 rows of a typical client list.
LARGE_XLSX_BYTES = 16 * 1024 * 1024
CSV_ESTIMATE_BYTES = 8 * 1024 * 1024
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_INN_SLASH_KPP = re.compile(r"(\d{9,12})\s*[/\\]\s*(\d{8,9})")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# A totals row's first cell is the word alone ("Итого", "Итого по отделу:", "Total: 1 234"),
# never the start of a name: "Итог-Сервис ООО", "Всего понемногу", "Total Systems LLC" are
# clients.
_TOTALS = re.compile(
    r"^(?:итого|всего|итог|total|totals|grand total)(?:\s+по\s+[^\d:]+)?\s*:?[\s\d.,]*$",
    re.IGNORECASE,
)


def sheet_names(stream: IO[bytes], file_format: str) -> list[str]:
    stream.seek(0)
    if file_format == "xlsx":
        return list(_open_xlsx(stream).sheet_names)
    if file_format == "xls":
        return list(_open_xls(stream).sheet_names())
    return []


def raw_rows(
    stream: IO[bytes], file_format: str, *, encoding: str = "", sheet: str = ""
) -> Iterator[list[Any]]:
    stream.seek(0)
    if file_format == "xlsx":
        yield from _xlsx_rows(stream, sheet)
    elif file_format == "xls":
        yield from _xls_rows(stream, sheet)
    elif file_format == "csv":
        yield from _csv_rows(stream, encoding)
    else:
        raise UnreadableFile("wrong_format")


def head_and_estimate(
    stream: IO[bytes], file_format: str, *, encoding: str, sheet: str, limit: int
) -> tuple[list[list[Any]], int]:
    """The first `limit` rows and the estimated row count. An xlsx sheet is loaded once for
    both (loading it is the costly part of inspecting a large upload)."""
    if file_format == "xlsx" and (_large(stream) or _large_sheets(stream)):
        book = _open_streamed(stream)
        try:
            worksheet = _streamed_sheet(book, sheet)
            rows = worksheet.iter_rows(values_only=True)
            head = [[_as_calamine(cell) for cell in row] for row in islice(rows, limit)]
            return head, _streamed_estimate(stream, worksheet)
        finally:
            book.close()
            stream.seek(0)
    if file_format != "xlsx":
        head = list(islice(raw_rows(stream, file_format, encoding=encoding, sheet=sheet), limit))
        return head, row_estimate(stream, file_format, sheet)
    stream.seek(0)
    try:
        worksheet = _xlsx_sheet(_open_xlsx(stream), sheet)
        head = list(islice(_padded(worksheet), limit))
        return head, int(worksheet.total_height)
    finally:
        stream.seek(0)


def row_estimate(stream: IO[bytes], file_format: str, sheet: str) -> int:
    """Rows in the sheet, cheaply (the sheet's declared size; line count for csv)."""
    stream.seek(0)
    try:
        if file_format == "xlsx" and _large(stream):
            book = _open_streamed(stream)
            try:
                return _streamed_estimate(stream, _streamed_sheet(book, sheet))
            finally:
                book.close()
        if file_format == "xlsx":
            return int(_xlsx_sheet(_open_xlsx(stream), sheet).total_height)
        if file_format == "xls":
            book = _open_xls(stream)
            names = book.sheet_names()
            return int(book.sheet_by_name(sheet if sheet in names else names[0]).nrows)
        # Lines of the first CSV_ESTIMATE_BYTES, scaled to the file's size: the estimate reads
        # a bounded part of the file, whatever its size.
        sample = stream.read(CSV_ESTIMATE_BYTES)
        lines = sample.count(b"\n")
        size = stream.seek(0, io.SEEK_END)
        return lines if size <= len(sample) else round(lines * size / max(len(sample), 1))
    finally:
        stream.seek(0)


def _open_xlsx(stream: IO[bytes]) -> Any:
    """The workbook through calamine (Rust): cell values — a formula's value as Excel last
    computed it — about ten times faster than openpyxl's read-only mode."""
    import python_calamine as calamine

    try:
        return calamine.CalamineWorkbook.from_filelike(stream)
    except calamine.PasswordError as exc:
        raise UnreadableFile("encrypted") from exc
    except (
        calamine.CalamineError,
        calamine.XmlError,
        calamine.ZipError,
        OSError,
        ValueError,
    ) as exc:
        raise UnreadableFile("corrupt", detail=str(exc)) from exc


def _xlsx_sheet(book: Any, sheet: str) -> Any:
    names = book.sheet_names
    try:
        return book.get_sheet_by_name(sheet if sheet in names else names[0])
    except Exception as exc:  # calamine raises its own kinds for a damaged sheet
        raise UnreadableFile("corrupt", detail=str(exc)) from exc


def _xlsx_rows(stream: IO[bytes], sheet: str) -> Iterator[list[Any]]:
    if _large(stream):
        yield from _streamed_rows(stream, sheet)
        return
    yield from _padded(_xlsx_sheet(_open_xlsx(stream), sheet))


def _large(stream: IO[bytes]) -> bool:
    position = stream.tell()
    size = stream.seek(0, io.SEEK_END)
    stream.seek(position)
    return size > LARGE_XLSX_BYTES


def _large_sheets(stream: IO[bytes]) -> bool:
    """Whether a sheet of the workbook unpacks to more than bounds.MAX_SHEET_XML_LOADED (from
    the zip's directory): calamine would load all of it to show the first rows."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            return any(
                info.file_size > bounds.MAX_SHEET_XML_LOADED
                for info in archive.infolist()
                if info.filename.startswith("xl/worksheets/")
            )
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("corrupt", detail=str(exc)) from exc
    finally:
        stream.seek(0)


def _size_from_head(worksheet: Any) -> None:
    """A read-only sheet's declared size, read from the XML before the rows.

    openpyxl's own version of this (run for every sheet when a workbook opens) waits for the
    end of <sheetData> to conclude that no <dimension> came before it: a file without one —
    streaming writers and 1C's exports leave it out — is parsed whole just to open it (55 s
    for a million rows, twice: at the upload and in the run). The size, when a file has it,
    comes before the rows, so reading up to their start is enough; without it the size stays
    unknown, as openpyxl would leave it."""
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    with worksheet._get_source() as source:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                bounds = SheetDimension.from_tree(element).boundaries
                if bounds is not None:
                    (
                        worksheet._min_column,
                        worksheet._min_row,
                        worksheet._max_column,
                        worksheet._max_row,
                    ) = bounds
                return
            if element.tag == DATA_TAG:
                return


def _open_streamed(stream: IO[bytes]) -> Any:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    # openpyxl has no switch for this; the method is replaced by one that reads the same
    # attribute from the head of the sheet (see _size_from_head).
    ReadOnlyWorksheet._get_size = _size_from_head

    stream.seek(0)
    if stream.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
        # A password-protected xlsx is an OLE container around the encrypted package.
        raise UnreadableFile("encrypted")
    stream.seek(0)
    try:
        # data_only: a formula's value as Excel last computed it, as calamine gives.
        return openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile("corrupt", detail=str(exc)) from exc


def _streamed_sheet(book: Any, sheet: str) -> Any:
    return book[sheet if sheet in book.sheetnames else book.sheetnames[0]]


def _streamed_estimate(stream: IO[bytes], worksheet: Any) -> int:
    """Rows in a streamed sheet without reading it: its declared size when the file has one,
    else the sheet XML's size times the rows per byte of its first 256 KB (files written by
    streaming writers, 1C's among them, often declare no size)."""
    if worksheet.max_row:
        return int(worksheet.max_row)
    stream.seek(0)
    with zipfile.ZipFile(stream) as archive:
        # openpyxl names the sheet's part only in a private attribute.
        info = archive.getinfo(worksheet._worksheet_path)
        with archive.open(info) as xml:
            sample = xml.read(256 * 1024)
    rows = sample.count(b"<row ") + sample.count(b"<row>")
    return round(info.file_size * rows / len(sample)) if sample else 0


def _streamed_rows(stream: IO[bytes], sheet: str) -> Iterator[list[Any]]:
    book = _open_streamed(stream)
    try:
        # Rows come in sheet coordinates from A1, like calamine's after _padded.
        for row in _streamed_sheet(book, sheet).iter_rows(values_only=True):
            yield [_as_calamine(cell) for cell in row]
    finally:
        book.close()


def _as_calamine(cell: Any) -> Any:
    """A cell as calamine gives it: numbers as floats (Excel stores no integers), a date
    without a time of day as a date, an empty string as nothing."""
    if cell == "":
        return None
    if isinstance(cell, int) and not isinstance(cell, bool):
        return float(cell)
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        return cell.date()
    return cell


def _padded(worksheet: Any) -> Iterator[list[Any]]:
    # calamine's range starts at the first used cell: pad back to sheet coordinates.
    top, left = worksheet.start or (0, 0)
    for _ in range(top):
        yield []
    for row in worksheet.iter_rows():
        yield [None] * left + [None if cell == "" else cell for cell in row]


def _open_xls(stream: IO[bytes]) -> Any:
    import xlrd

    contents = stream.read()
    if _ENCRYPTED_PACKAGE in contents:
        # A password-protected xlsx (or xls saved with a password by newer Excel) is an OLE
        # container holding an "EncryptedPackage" stream; xlrd would only call it damaged.
        raise UnreadableFile("encrypted")
    try:
        # xls files are at most 65,536 rows: reading the whole book is bounded.
        return xlrd.open_workbook(file_contents=contents, on_demand=True)
    except Exception as exc:  # xlrd.XLRDError and struct errors on damaged files
        message = str(exc)
        if "encrypt" in message.lower():
            raise UnreadableFile("encrypted") from exc
        raise UnreadableFile("corrupt", detail=message) from exc


def _xls_rows(stream: IO[bytes], sheet: str) -> Iterator[list[Any]]:
    import xlrd

    book = _open_xls(stream)
    worksheet = book.sheet_by_name(sheet) if sheet in book.sheet_names() else book.sheet_by_index(0)
    for index in range(worksheet.nrows):
        row: list[Any] = []
        for cell in worksheet.row(index):
            if cell.ctype == xlrd.XL_CELL_DATE:
                row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
            elif cell.ctype in {xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK}:
                row.append(None)
            else:
                row.append(cell.value)
        yield row


def _csv_rows(stream: IO[bytes], encoding: str) -> Iterator[list[Any]]:
    text = io.TextIOWrapper(stream, encoding=encoding or "utf-8", errors="replace", newline="")
    try:
        sample = text.read(64 * 1024)
        text.seek(0)
        delimiter = _delimiter(sample)
        reader = csv.reader(_bounded_lines(text, delimiter), delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:  # a NUL byte, an unclosed quote at the end, a cell too long
            raise UnreadableFile("corrupt", detail=f"line {reader.line_num}: {exc}") from exc
    finally:
        # Hand the caller's stream back open. After a failed run the caller has closed it
        # before this generator is collected: nothing left to hand back.
        with contextlib.suppress(ValueError):
            text.detach()


# The csv module's own limit is process-wide; ours is never lower than its default.
csv.field_size_limit(max(csv.field_size_limit(), bounds.MAX_CELL_CHARS))


def _bounded_lines(text: IO[str], delimiter: str) -> Iterator[str]:
    """The file's lines, none read past bounds.MAX_LINE_CHARS: a line that long is refused
    before it is held whole (a million-column header, one 9 MB cell, a binary file)."""
    number = 0
    while line := text.readline(bounds.MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > bounds.MAX_LINE_CHARS:
            if line.count(delimiter) >= bounds.MAX_COLUMNS:
                raise UnreadableFile("too_many_columns", limit=bounds.MAX_COLUMNS)
            raise UnreadableFile("line_too_long", line=number, limit=bounds.MAX_LINE_CHARS)
        # PostgreSQL's text and jsonb take no NUL character: one in a cell (a damaged or
        # binary line) would fail the preview's notes or the batch's columns as they are saved.
        yield line.replace("\x00", "") if "\x00" in line else line


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        # Count separators in the first lines; Russian Excel writes ";".
        lines = sample.splitlines()[:20]
        counts = {d: sum(line.count(d) for line in lines) for d in ";,\t"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def find_header(rows: list[list[Any]]) -> int:
    """0-based index of the header among the first rows: the row naming most known fields;
    failing that, the first row with two or more text cells."""
    best, best_score = -1, 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        row_score = columns.score(row)
        if row_score > best_score:
            best, best_score = index, row_score
    if best >= 0:
        return best
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row if isinstance(cell, str) and cell.strip()) >= 2:
            return index
    raise UnreadableFile("no_header")


def is_blank(row: list[Any]) -> bool:
    return not any(map(values.text, row))


def is_totals_row(texts: list[str]) -> bool:
    """A totals row ("Итого", "Всего"), judged by its first non-empty cell's text."""
    return bool(_TOTALS.match(next(filter(None, texts), "")))


def row_to_source(
    number: int,
    headers: list[str],
    row: list[Any],
    mapping: dict[str, str],
    *,
    above: tuple[int, ClientIn] | None = None,
    date_order: str = values.DAY_FIRST,
    texts: list[str],
    deals: bool = True,
    extras: tuple[str, ...] = (),
    person_emails: bool = False,
    kind: str = "",
    prefix: str = "",
) -> SourceRow:
    """One data row → the client (+ contact person, + deal) it describes. `above` is the
    nearest row above with a client name (and its number); `date_order` says how the file
    writes its typed dates (values.DAY_FIRST or values.MONTH_FIRST); `texts` are the row's
    cells as values.text gives them (each cell is turned into text once per row, for the blank
    and totals checks and here: at 100,000 rows, doing it again per field cost seconds).
    `deals`: whether the person asked for deals from this file; `extras`: the mapped fields
    beyond the client's own columns (notes, address parts, custom fields, a balance), found
    once per file by `extra_fields` so that a file without them costs nothing more per row;
    `person_emails`: whether the file has a column of the contact person's own e-mail;
    `kind`: what every row of the file is (`row_kind`); `prefix`: put before the source
    system's record ids ("amocrm:"), so that two systems' ids never meet."""
    fields, said, shown = _cells(headers, row, mapping, texts)
    source = SourceRow(number=number, values=shown)
    if kind in {TASKS, TIMELINE, ASSOCIATIONS}:
        return _not_a_client(
            source, kind, said=said, fields=fields, date_order=date_order, prefix=prefix
        )

    def text(field_name: str) -> str:
        return said.get(field_name, "")

    def name(field_name: str) -> str:  # as values.name: trailing ";" and spaces dropped
        return text(field_name).strip(" ;")

    client = ClientIn(
        external_id=f"{prefix}{said['external_id']}" if "external_id" in said else "",
        responsible=text("responsible"),
        name=name("name"),
        full_name=name("full_name"),
        kind=_kind(text("kind")),
        # Its own column, or the kind column of a sheet that says "Поставщик" there.
        relationship=_relationship(text("relationship"))
        or _relationship(text("kind"))
        or "customer",
        inn=text("inn"),
        kpp=text("kpp"),
        phones=values.phones(fields.get("phone")),
        emails=values.emails(text("email")),
        legal_address=text("legal_address"),
        postal_address=text("postal_address"),
        website=text("website"),
        industry=text("industry"),
        source=text("source"),
        bank_name=text("bank_name"),
        bik=text("bik"),
        bank_account=text("bank_account"),
    )
    if extras:
        _add_extras(client, said, extras)
    if (together := _INN_SLASH_KPP.fullmatch(client.inn)) and not client.kpp:
        # 1C's reports print one "ИНН/КПП" column: "7707083893/773601001".
        client.inn, client.kpp = together.groups()
    if not fields.get("kind"):
        # No kind column: the markers every format has (ИП in the name, a personal INN).
        client.kind = client_kind(
            name=client.name, full_name=client.full_name, inn=client.inn, default=client.kind
        )
    person = _person(said, fields, prefix)
    person = _with_consent(said, client, person, source)
    if person is not None:
        named = bool(person.last_name or person.first_name)
        person.of_deal = kind == DEALS and bool(prefix) and named
        client.persons.append(person)
        if client.emails and not person_emails and (person.last_name or person.first_name):
            # One e-mail column beside a named contact person, and none of the person's own:
            # the person's, as the CRM's client form files an e-mail given with a name. (With
            # a column of the person's own, this one is the company's: see the engine.)
            person.emails, client.emails = client.emails, []
    if prefix and not (client.name or client.full_name or client.external_id):
        company_ref = switchrows.first_id(said.get("company_ref", ""), prefix)
        client.external_id, client.by_ref = company_ref, bool(company_ref)
    if (
        not client.name
        and not client.full_name
        and person is not None
        and not client.by_ref
        and not person.of_deal  # found by name in the CRM first (the engine's _plan_nameless)
    ):
        without_company(client, person, mapping, above)
    elif prefix and not (client.external_id or client.inn or client.phones or client.emails):
        # Another CRM's contact or deal names its company only («Компания контакта»): the
        # company of that name (brought by the companies' export), whatever the person's
        # own phones and e-mails.
        client.known_by_name = True
    source.client = client
    if deals and ("deal_title" in fields or "deal_amount" in fields):
        amount = values.number(fields.get("deal_amount"))
        date = values.date(fields.get("deal_date"), date_order)
        source.deal = DealIn(
            title=name("deal_title"),
            amount=amount,
            date=date,
            unread_amount="" if amount is not None else text("deal_amount"),
            unread_date="" if date else text("deal_date"),
        )
        if kind == DEALS:
            switchrows.fill_deal(source.deal, said, fields, date_order, prefix)
    return source


DEALS, TASKS, TIMELINE, ASSOCIATIONS = "deals", "tasks", "timeline", "associations"
_REFS = frozenset({"deal_ref", "contact_ref", "company_ref"})
# Fields of a record of its own: a file with one of them is not only links between records.
_OWN_RECORD = frozenset(
    {"name", "full_name", "deal_title", "deal_amount", "contact_name", "contact_last_name"}
)
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def row_kind(mapping: dict[str, str]) -> str:
    """What every row of a file mapped so is: a task ("tasks": a task text column), an entry
    of a timeline ("timeline": a note or call text column), a client whose deal says more
    than its title and amount ("deals": a stage, a pipeline, an owner… column), or "" (a
    client, with a deal when asked), or links between records imported before
    ("associations": two or more record id columns and nothing else of a record)."""
    chosen = set(mapping.values())
    if "task_text" in chosen:
        return TASKS
    if "timeline_text" in chosen:
        return TIMELINE
    if len(chosen & _REFS) >= 2 and not chosen & _OWN_RECORD:
        return ASSOCIATIONS
    if chosen & (columns.SWITCH_DEAL_FIELDS | {"responsible", "company_ref", "contact_ref"}):
        return DEALS
    return ""


def _cells(
    headers: list[str], row: list[Any], mapping: dict[str, str], texts: list[str]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(mapped field → the cell as read, mapped field → its text, header → text shown)."""
    fields: dict[str, Any] = {}
    said: dict[str, str] = {}
    shown: dict[str, str] = {}
    for header, cell, cell_text in zip(headers, row, texts, strict=False):
        if cell_text:
            shown[header] = cell_text
            field_name = mapping.get(header)
            if field_name:
                if field_name in said:
                    # Two columns of one field that holds several values (the mapping step
                    # refuses two columns for any other field): both kept, a line apart.
                    said[field_name] = fields[field_name] = f"{said[field_name]}\n{cell_text}"
                else:
                    fields[field_name] = cell
                    said[field_name] = cell_text
    return fields, said, shown


def without_company(
    client: ClientIn,
    person: PersonIn,
    mapping: dict[str, str],
    above: tuple[int, ClientIn] | None,
) -> None:
    """A row naming a person but no company: one more contact person of the client above, or
    a private client of its own."""
    names_mapped = not {"name", "full_name"}.isdisjoint(mapping.values())
    if above is not None and names_mapped and not (client.inn or client.external_id):
        # The company's name cell is empty (or merged down over its people in Excel):
        # one more contact person of the client above.
        number_above, parent = above
        client.name, client.full_name, client.kind = parent.name, parent.full_name, parent.kind
        client.inn, client.kpp, client.external_id = parent.inn, parent.kpp, parent.external_id
        client.continues = number_above
    else:
        # A list of people without a company column: each row is a private client.
        client.name = " ".join(p for p in (person.last_name, person.first_name) if p)
        client.kind = "person"
    # Either way the row has no company of its own: its phones and e-mails are the person's
    # (on a company's row they stay the company's).
    person.phones = client.phones + person.phones
    person.emails = client.emails + person.emails
    client.phones, client.emails = [], []


def _not_a_client(
    source: SourceRow,
    kind: str,
    *,
    said: dict[str, str],
    fields: dict[str, Any],
    date_order: str,
    prefix: str,
) -> SourceRow:
    """A row of a tasks, notes or associations export (see row_kind)."""
    if kind == TASKS:
        source.task = switchrows.task_of(said, fields, date_order, prefix)
    elif kind == TIMELINE:
        source.timeline = switchrows.timeline_of(said, fields, date_order, prefix)
    else:
        source.association = switchrows.association_of(said, prefix)
    return source


def extra_fields(mapping: dict[str, str]) -> tuple[str, ...]:
    """The mapped fields `_add_extras` reads (none: the row costs what it did before)."""
    extra = {"note", "balance", *columns.ADDRESS_PARTS}
    return tuple(sorted({f for f in mapping.values() if f in extra or columns.is_custom(f)}))


def wants_deals(mapping: dict[str, str], options: dict[str, Any]) -> bool:
    """Deals come from a sheet only when the person asks (`options["deals"]`). Not asked (a
    script, an old batch), a column mapped to the deal's title asks for them, and so does an
    amount column whose header names a deal or an order («Сумма сделки», "Order amount"); a
    bare «Сумма» does not — nor does a debt or a balance, which is never a deal amount."""
    chosen = options.get("deals")
    if chosen is not None:
        return bool(chosen)
    return any(
        field_name == "deal_title"
        or (field_name == "deal_amount" and _DEAL_WORD.search(header) is not None)
        for header, field_name in mapping.items()
    )


_DEAL_WORD = re.compile(r"сделк|заказ|\bdeal|\border|opportunit")


def _add_extras(client: ClientIn, said: dict[str, str], extras: tuple[str, ...]) -> None:
    """Notes, address parts, a balance and custom fields: nothing of a mapped column is lost."""
    for field_name in extras:
        value = said.get(field_name)
        if not value:
            continue
        if field_name == "note":
            client.notes.append(value)
        elif field_name == "balance":
            client.custom[columns.BALANCE_KEY] = value
        elif columns.is_custom(field_name):
            client.custom[field_name.removeprefix(columns.CUSTOM_PREFIX)] = value
    parts = [said.get(p, "") for p in columns.ADDRESS_PARTS if p in extras]
    if any(parts):
        # «Индекс», «Регион», «Город», «Улица» in columns of their own: one address, in the
        # Russian order, without repeating what the address column already says.
        address = client.legal_address or client.postal_address
        known = address.lower()
        added = ", ".join(p for p in parts if p and p.lower() not in known)
        composed = f"{added}, {address}" if added and address else added or address
        if client.legal_address or not client.postal_address:
            client.legal_address = composed
        else:
            client.postal_address = composed


def _person(said: dict[str, str], fields: dict[str, Any], prefix: str = "") -> PersonIn | None:
    """The row's contact person, from the mapped fields' texts (`fields`: the cells)."""

    def name(field_name: str) -> str:
        return said.get(field_name, "").strip(" ;")

    last, first, middle = (
        name("contact_last_name"),
        name("contact_first_name"),
        name("contact_middle_name"),
    )
    if not (last or first) and fields.get("contact_name"):
        named = said["contact_name"]
        if prefix:
            # HubSpot's "Associated Contact": "John Smith (john@acme.com); Jane Doe (…)".
            named = _TRAILING_NOTE.sub("", named.split(";", 1)[0])
        last, first, middle = values.person_name(named)
    phones = values.phones(fields["contact_phone"]) if "contact_phone" in fields else []
    emails = values.emails(said["contact_email"]) if "contact_email" in said else []
    if not (last or first or phones or emails):
        return None
    messengers = {
        key: said[f"contact_{key}"] for key in ("telegram", "whatsapp") if f"contact_{key}" in said
    }
    own_id = said.get("contact_external_id", "")
    return PersonIn(
        external_id=f"{prefix}{own_id}" if own_id else "",
        responsible=said.get("responsible", ""),
        last_name=last,
        first_name=first,
        middle_name=middle,
        position=name("contact_position"),
        phones=phones,
        emails=emails,
        messengers=messengers,
    )


CONSENT_YES = frozenset({"да", "yes", "true", "1", "+", "y", "д"})
CONSENT_NO = frozenset({"нет", "no", "false", "0", "-", "n", "н", ""})


def _with_consent(
    said: dict[str, str], client: ClientIn, person: PersonIn | None, source: SourceRow
) -> PersonIn | None:
    """The row's person, marked as agreeing when a consent column says yes."""
    if "marketing_consent" not in said:
        return person
    agreed = _consent(said["marketing_consent"], source)
    if person is None and agreed and client.emails and (client.name or client.full_name):
        # No contact person on the row: the company's e-mail agreed; it goes to the
        # company's nameless contact person, as the engine files such an e-mail anyway.
        person, client.emails = PersonIn(emails=client.emails), []
    if person is not None:
        person.consent = agreed
    return person


def _consent(raw: str, source: SourceRow) -> bool:
    """Whether the row's consent cell says yes; a cell that is neither yes nor no is said in
    the row's report (the row is still imported, with no consent recorded)."""
    word = raw.strip().lower().replace("ё", "е").rstrip(".")
    if word in CONSENT_YES:
        return True
    if word not in CONSENT_NO:
        source.notes.append(
            gettext("«%(value)s» is not a yes or a no: no consent to mailings recorded.")
            % {"value": raw.strip()[:50]}
        )
    return False


def _relationship(raw: str) -> str:
    """Client.Relationship's value a cell names, or "" for none (a kind, a blank)."""
    word = raw.strip().lower().replace("ё", "е")
    if word.startswith(("партнер", "partner")):
        return "partner"
    if word.startswith(("поставщик", "supplier", "vendor")):
        return "supplier"
    if word.startswith(("клиент", "покупатель", "customer", "client")):
        return "customer"
    return ""


def _kind(raw: str) -> str:
    word = raw.lower()
    if word.startswith(("физ", "person", "individual", "частн")):
        return "person"
    if word.startswith(("ип", "индивидуальный", "sole")):
        return "sole_trader"
    return "legal"
