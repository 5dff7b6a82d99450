"""`manage.py import_data`: the same import without a browser, with a printed and JSON report."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from crm_core.models import Client
from onboarding.models import ImportBatch, ImportTemplate
from onboarding.tests.helpers import fixture_1c
from onboarding.tests.sheets import csv_bytes, messy_xlsx

pytestmark = pytest.mark.usefixtures("media_root")


def test_dry_run_then_import_with_a_json_report(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    sheet = tmp_path / "clients.xlsx"
    sheet.write_bytes(messy_xlsx())
    out = StringIO()
    call_command("import_data", a.company.slug, str(sheet), "--dry-run", stdout=out)
    assert "created: 5" in out.getvalue()
    assert "row 9: rejected — The row has no client name." in out.getvalue()
    with a:
        assert Client.objects.count() == 0
    report = tmp_path / "report.json"
    call_command("import_data", a.company.slug, str(sheet), "--json", str(report), stdout=out)
    data = json.loads(report.read_text())
    assert data["counts"]["created"] == 5
    assert data["counts"]["rejected"] == 1
    assert {r["row"]: r["outcome"] for r in data["rows"]}[8] == "merged"
    with a:
        assert Client.objects.count() == 5
        assert ImportBatch.objects.filter(dry_run=False, status="done").count() == 1


def test_a_saved_mapping_template_by_name(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    with a:
        ImportTemplate.objects.create(name="Наш 1С", mapping={"кто": "name", "инн клиента": "inn"})
    data = tmp_path / "odd.csv"
    data.write_bytes(
        csv_bytes(
            [["Кто", "ИНН клиента"], ["ООО Ромашка", "7707083893"]], encoding="utf-8", delimiter=";"
        )
    )
    call_command("import_data", a.company.slug, str(data), "--mapping", "Наш 1С", stdout=StringIO())
    with a:
        assert list(Client.objects.values_list("name", "inn")) == [("ООО Ромашка", "7707083893")]


def test_a_mapping_from_a_json_file_with_headers_as_the_file_has_them(
    make_company: Any, tmp_path: Path
) -> None:
    a = make_company("Alpha")
    data = tmp_path / "odd.csv"
    data.write_bytes(
        csv_bytes(
            [["Кто:", "ИНН клиента"], ["ООО Ромашка", "7707083893"]],
            encoding="utf-8",
            delimiter=";",
        )
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Кто:": "name", "ИНН клиента": "inn"}, ensure_ascii=False))
    call_command(
        "import_data", a.company.slug, str(data), "--mapping", str(mapping), stdout=StringIO()
    )
    with a:
        assert list(Client.objects.values_list("name", "inn")) == [("ООО Ромашка", "7707083893")]
    mapping.write_text(json.dumps({"Кто:": "name", "ИНН клиента": "innn"}))
    with pytest.raises(CommandError, match=r"Unknown fields in .*: innn"):
        call_command("import_data", a.company.slug, str(data), "--mapping", str(mapping))


def test_a_1c_file_and_clear_errors(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    out = StringIO()
    call_command(
        "import_data",
        a.company.slug,
        str(fixture_1c("ArgentCrusade-commerceml/contractors-example.xml")),
        stdout=out,
    )
    assert "created: 4" in out.getvalue()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_data", a.company.slug, str(empty), stdout=StringIO())
    with pytest.raises(CommandError, match="No company"):
        call_command("import_data", "no-such-company", str(empty), stdout=StringIO())


def test_the_date_order_can_be_given(make_company: Any, tmp_path: Path) -> None:
    from crm_core.models import Deal

    a = make_company("Alpha")
    data = tmp_path / "deals.csv"
    data.write_text("Клиент;Сумма сделки;Дата сделки\r\nООО Север;1000;03.04.2026\r\n")
    out = StringIO()
    call_command("import_data", a.company.slug, str(data), "--dry-run", stdout=out)
    assert "dates dmy" in out.getvalue()
    assert "warning: Dates such as 03.04.2026 can be read two ways" in out.getvalue()
    out = StringIO()
    call_command("import_data", a.company.slug, str(data), "--date-order", "mdy", stdout=out)
    assert "dates mdy" in out.getvalue()
    assert "warning" not in out.getvalue()
    with a:
        assert Deal.objects.get().created_at.date().isoformat() == "2026-03-04"
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_data", a.company.slug, str(data), "--date-order", "ymd")


def test_a_saved_template_brings_its_date_order(make_company: Any, tmp_path: Path) -> None:
    from crm_core.models import Deal

    a = make_company("Alpha")
    with a:
        ImportTemplate.objects.create(
            name="US",
            mapping={"клиент": "name", "сумма сделки": "deal_amount", "дата сделки": "deal_date"},
            date_order="mdy",
        )
    data = tmp_path / "deals.csv"
    data.write_text("Клиент;Сумма сделки;Дата сделки\r\nООО Север;1000;03.04.2026\r\n")
    out = StringIO()
    call_command("import_data", a.company.slug, str(data), "--mapping", "US", stdout=out)
    # The file leaves the order open; the template answers it, so nothing is assumed.
    assert "dates mdy" in out.getvalue()
    assert "warning" not in out.getvalue()
    with a:
        assert Deal.objects.get().created_at.date().isoformat() == "2026-03-04"
