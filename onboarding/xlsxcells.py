"""Cells for the xlsx files onboarding writes (the export archive, the import report)."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell


def text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    """A string written as text, never as a formula.

    openpyxl stores a string that starts with "=" as a formula. Names, notes and the rows of an
    imported file come from outside: "=HYPERLINK(...)" must open in Excel as the characters
    that were typed, not as something Excel runs.
    """
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell
