"""From an uploaded file to a stream of source rows, whatever its format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from onboarding.archive import read_manifest
from onboarding.importing import (
    bounds,
    columns,
    commerceml,
    enterprisedata,
    tabular,
    values,
    vcard,
)
from onboarding.importing.detect import detect
from onboarding.importing.errors import UnreadableFile
from onboarding.importing.records import ClientIn, SourceRow

TABULAR = {"xlsx", "xls", "csv"}
PREVIEW_ROWS = 10


@dataclass
class Inspection:
    """What the wizard shows after the upload, and what a batch is run with."""

    format: str
    encoding: str = ""
    sheets: list[str] = field(default_factory=list)
    sheet: str = ""
    header_row: int = 0  # 1-based; 0 for XML
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    preview: list[list[str]] = field(default_factory=list)
    total_rows: int | None = None  # an estimate for the progress bar (exact for a small XML)
    # How the sheet's typed dates put day and month (values.DAY_FIRST / MONTH_FIRST), whether
    # it has typed dates at all, and whether its first rows leave the order open.
    date_order: str = values.DAY_FIRST
    typed_dates: bool = False
    date_order_open: bool = False
    date_example: str = ""  # one of its dates that reads both ways, to ask with
    # The text cells of the first rows, per header: the dates of whichever column is mapped
    # to the deal date are judged from them (a phone such as "2-25-30" looks like a date).
    texts: dict[str, list[str]] = field(default_factory=dict)
    # What the person chose beside the mapping (ImportBatch.options): deals or not, and
    # what to do with a row whose INN fails its checksum.
    options: dict[str, Any] = field(default_factory=dict)

    def ignored(self, mapping: dict[str, str]) -> list[str]:
        """The columns `mapping` leaves out (a column without a header only when its first
        rows hold something): named on the preview, the report and the command's output."""
        deals = tabular.wants_deals(mapping, self.options)
        return ignored_columns(
            self.headers,
            mapping,
            deals=deals,
            has_values={h for h, cells in self.texts.items() if any(cells)},
        )

    def dates(self, mapping: dict[str, str]) -> values.DateOrder:
        """How the typed dates of the column(s) `mapping` makes deal dates are written."""
        return values.date_order(
            cell
            for header, target in mapping.items()
            if target == "deal_date"
            for cell in self.texts.get(header, ())
        )


def inspect(
    stream: IO[bytes],
    *,
    size: int,
    limit_mb: int,
    sheet: str = "",
    header_row: int = 0,
    mapping: dict[str, str] | None = None,
    file_name: str = "",
) -> Inspection:
    """Detect the format and encoding; for sheets also the sheet, header row and mapping, and
    how the dates of the deal-date column in `mapping` (else in the suggested one) are
    written. `file_name` is the name it was uploaded with (see detect)."""
    detected = detect(stream, size=size, limit_mb=limit_mb, name=file_name)
    found = Inspection(format=detected.format, encoding=detected.encoding)
    if detected.format == "relata":
        entities = read_manifest(stream)["entities"]
        found.preview = [[f"{name}: {len(rows)}"] for name, rows in entities.items()]
        found.total_rows = sum(len(rows) for rows in entities.values())
        return found
    if detected.format not in TABULAR:
        first = _xml_head(stream, found, size=size)
        if not first:
            raise UnreadableFile("nothing_to_import")
        found.preview = [
            [_shown(f"{k}: {v}") for k, v in r.values.items()][: bounds.MAX_COLUMNS] for r in first
        ]
        return found
    found.sheets = tabular.sheet_names(stream, detected.format)
    if len(found.sheets) > bounds.MAX_SHEETS:
        raise UnreadableFile("too_many_sheets", count=len(found.sheets), limit=bounds.MAX_SHEETS)
    # The sheet asked for; otherwise the first one with anything on it (a workbook often
    # starts with an empty "Лист1" before the sheet that holds the list) among the first few:
    # each sheet looked at is loaded.
    candidates = [sheet] if sheet in found.sheets else found.sheets or [""]
    for name in candidates[: bounds.MAX_SHEETS_SEARCHED]:
        head, estimate = tabular.head_and_estimate(
            stream,
            detected.format,
            encoding=found.encoding,
            sheet=name,
            limit=tabular.HEADER_SEARCH_ROWS + PREVIEW_ROWS,
        )
        if head and not all(tabular.is_blank(r) for r in head):
            found.sheet = name
            break
    else:
        if len(candidates) > bounds.MAX_SHEETS_SEARCHED:
            raise UnreadableFile("empty_first_sheets", count=bounds.MAX_SHEETS_SEARCHED)
        raise UnreadableFile("empty")
    head = _within_width(head)
    if header_row > len(head):
        raise UnreadableFile("header_out_of_reach", rows=len(head))
    index = header_row - 1 if header_row > 0 else tabular.find_header(head)
    found.header_row = index + 1
    found.headers = _headers(head[index])
    found.mapping = columns.suggest_mapping(found.headers)
    found.preview = [
        [_shown(values.text(c)) for c in row]
        for row in head[index + 1 :]
        if not tabular.is_blank(row)
    ][:PREVIEW_ROWS]
    if not found.preview:
        raise UnreadableFile("no_data")
    found.texts = {
        header: [_shown(values.text(row[i])) for row in head[index + 1 :] if i < len(row)]
        for i, header in enumerate(found.headers)
    }
    chosen = {h: f for h, f in (mapping or {}).items() if h in found.texts} or found.mapping
    dates = found.dates(chosen)
    found.date_order, found.typed_dates, found.date_order_open, found.date_example = dates
    found.total_rows = max(estimate - found.header_row, 0)
    return found


def _within_width(head: list[list[Any]]) -> list[list[Any]]:
    """The first rows, refused when wider than bounds.MAX_COLUMNS. Empty cells past the last
    filled one are dropped first when a row is that wide: a sheet that declares (or pads to)
    thousands of columns with a few filled is not refused for it."""
    if all(len(row) <= bounds.MAX_COLUMNS for row in head):
        return head
    width = max(
        (
            max((i + 1 for i, cell in enumerate(row) if values.text(cell)), default=0)
            for row in head
        ),
        default=0,
    )
    if width > bounds.MAX_COLUMNS:
        raise UnreadableFile("too_many_columns", limit=bounds.MAX_COLUMNS)
    return [row[:width] for row in head]


def _shown(text: str) -> str:
    """A cell's text as the mapping page shows it: cut at bounds.MAX_PREVIEW_CELL_CHARS."""
    limit = bounds.MAX_PREVIEW_CELL_CHARS
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ignored_columns(
    headers: list[str], mapping: dict[str, str], *, deals: bool, has_values: set[str]
) -> list[str]:
    deal_fields = {"deal_title", "deal_amount", "deal_date"} | columns.SWITCH_DEAL_FIELDS
    return [
        header
        for header in headers
        if (not mapping.get(header) or (not deals and mapping[header] in deal_fields))
        and (not header.startswith("#") or header in has_values)
    ]


def _xml_head(stream: IO[bytes], found: Inspection, *, size: int) -> list[SourceRow]:
    """The first records of an XML file, read from at most bounds.MAX_XML_INSPECTED_BYTES of
    it; `found.total_rows` becomes their count, scaled to the file's size when it is longer.
    The whole file is read by the preview in the background, which refuses a damaged one as a
    whole and counts its rows exactly."""
    head = _Head(stream, bounds.MAX_XML_INSPECTED_BYTES)
    first: list[SourceRow] = []
    count = 0
    try:
        for row in read_rows(head, found):  # type: ignore[arg-type]
            count += 1
            if len(first) < PREVIEW_ROWS:
                first.append(row)
    except UnreadableFile:
        # The file cut at the bound does not parse to its end: what came before it is shown.
        if not (first and head.cut):
            raise
    finally:
        stream.seek(0)
    if not first and head.cut:
        raise UnreadableFile("nothing_in_head", mb=bounds.MAX_XML_INSPECTED_BYTES // 2**20)
    found.total_rows = round(count * size / head.read_bytes) if head.cut else count
    return first


class _Head:
    """A read-only view of a stream's first `limit` bytes (what lxml reads the XML from)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.left, self.cut = stream, limit, False
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            self.cut = bool(self.stream.read(1))
            return b""
        block = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(block)
        self.read_bytes += len(block)
        return block

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)


def _headers(row: list[Any]) -> list[str]:
    """Normalised header texts, cut at bounds.MAX_HEADER_CHARS; empty or repeated headers get
    their column's position."""
    seen: set[str] = set()
    headers = []
    for position, cell in enumerate(row, start=1):
        key = columns.normalise_header(cell)[: bounds.MAX_HEADER_CHARS] or f"#{position}"
        if key in seen:
            key = f"{key} #{position}"
        seen.add(key)
        headers.append(key)
    return headers


def read_rows(stream: IO[bytes], found: Inspection) -> Iterator[SourceRow]:
    """Every source row of the file, numbered as the user sees them (sheet row numbers)."""
    if found.format == "commerceml":
        yield from commerceml.read(stream, found.encoding)
        return
    if found.format == "enterprisedata":
        yield from enterprisedata.read(stream, found.encoding)
        return
    if found.format == "vcard":
        yield from vcard.read(stream, found.encoding)
        return
    rows = tabular.raw_rows(stream, found.format, encoding=found.encoding, sheet=found.sheet)
    headers: list[str] = []
    above: tuple[int, ClientIn] | None = None
    deals = tabular.wants_deals(found.mapping, found.options)
    extras = tabular.extra_fields(found.mapping)
    person_emails = "contact_email" in found.mapping.values()
    kind = tabular.row_kind(found.mapping)
    prefix = str(found.options.get("id_prefix", ""))
    for number, row in enumerate(rows, start=1):
        if number < found.header_row:
            continue
        if number == found.header_row:
            headers = _headers(row)
            continue
        texts = list(map(values.text, row))
        if not any(texts) or tabular.is_totals_row(texts):
            above = None  # a blank row ends a company's block of people
            continue
        source = tabular.row_to_source(
            number,
            headers,
            row,
            found.mapping,
            above=above,
            date_order=found.date_order,
            texts=texts,
            deals=deals,
            extras=extras,
            person_emails=person_emails,
            kind=kind,
            prefix=prefix,
        )
        client = source.client
        if client is not None and (client.name or client.full_name) and not client.continues:
            # (Another CRM's export is one record per row: no row continues the one above.)
            above = None if prefix else (number, client)
        yield source
