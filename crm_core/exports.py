"""A list as the person sees it — same filters, same visibility — saved as an Excel file.

Built in the request with openpyxl's write-only mode (rows streamed to a temporary file, not
held as cell objects), and capped: a list export is for working with a selection in Excel;
the whole base goes out through the background full export (onboarding).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

MAX_ROWS = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(value: Any) -> Any:
    """Excel has no time zones and no Decimal: local naive times, numbers as numbers."""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None or isinstance(value, str | int | float | date):
        return value
    return str(value)


def _cell(sheet: Any, value: Any) -> Any:
    """A string is always text, never a formula.

    openpyxl stores a string that starts with "=" as a formula, and names, titles and a request's
    UTM source come from outside (the public form): "=HYPERLINK(...)" must reach Excel as the
    characters the visitor typed, not as something Excel runs.
    """
    plain = _plain(value)
    if not isinstance(plain, str):
        return plain
    cell = WriteOnlyCell(sheet, value=plain)
    cell.data_type = "s"
    return cell


def xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> FileResponse:
    output = xlsx_file(title, headers, rows)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX)


def xlsx_file(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], limit: int = MAX_ROWS
) -> IO[bytes]:
    """The workbook in a temporary file, rewound (the caller closes it)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for written, row in enumerate(rows):
        if written == limit:
            sheet.append(
                [
                    _(
                        "Only the first %(n)s rows are here; narrow the filters or use the "
                        "full export."
                    )
                    % {"n": limit}
                ]
            )
            break
        sheet.append([_cell(sheet, value) for value in row])
    output = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when sent)
    workbook.save(output)
    output.seek(0)
    return output
