"""Undoing an import removes the client field its mapping step made from a column, unless a
client still holds a value in it (then the undo's report says so) — on the web and in
import_data."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from crm_core.models import Client, CustomField
from onboarding.models import ImportBatch
from onboarding.tests.sheets import csv_bytes
from onboarding.tests.test_import_views import _upload, eager  # noqa: F401
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root", "eager")

ROWS = [
    ["Наименование", "Любимый цвет"],
    ["ООО Альфа", "синий"],
    ["ООО Бета", "зелёный"],
]


def _import_with_new_field(browser: Any, host: str) -> int:
    upload = _upload(browser, host, csv_bytes(ROWS, encoding="utf-8", delimiter=";"), "c.csv")
    assert upload.status_code == 302
    preview_id = int(upload["Location"].rstrip("/").rsplit("/", 1)[1])
    form = {"sheet": "", "header_row": "1", "col_0": "name", "col_1": "new_custom"}
    assert browser.post(f"/import/{preview_id}/preview/", form, HTTP_HOST=host).status_code == 302
    started = browser.post(f"/import/{preview_id}/start/", HTTP_HOST=host)
    assert started.status_code == 302
    return int(started["Location"].rstrip("/").rsplit("/", 1)[1])


def test_undo_removes_the_field_the_import_made(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    with b:  # another company's field of the same name is not the import's
        CustomField.objects.create(entity="client", key="liubimyi_tsvet", label="Любимый цвет")
    browser = login_on_host(a.owner, a.company, a.host)
    batch_id = _import_with_new_field(browser, a.host)
    with a:
        field = CustomField.objects.get(entity="client")
        assert field.label == "Любимый цвет"
        assert Client.objects.get(name="ООО Альфа").custom[field.key] == "синий"
    response = browser.post(f"/import/{batch_id}/undo/", {"confirm": "1"}, HTTP_HOST=a.host)
    assert response.status_code == 302
    with a:
        assert not Client.objects.exists()
        assert not CustomField.objects.exists()
        assert ImportBatch.objects.get(pk=batch_id).undo_report == []
    with b:
        assert CustomField.objects.filter(key="liubimyi_tsvet").exists()


def test_a_value_typed_by_hand_keeps_the_field_and_the_undo_says_so(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    batch_id = _import_with_new_field(browser, a.host)
    with a:
        field = CustomField.objects.get(entity="client")
        Client.objects.create(name="ООО Своя", custom={field.key: "красный"})
    browser.post(f"/import/{batch_id}/undo/", {"confirm": "1"}, HTTP_HOST=a.host)
    with a:
        assert CustomField.objects.filter(pk=field.pk).exists()
        assert list(Client.objects.values_list("name", flat=True)) == ["ООО Своя"]
    page = browser.get(f"/import/{batch_id}/", HTTP_HOST=a.host).content.decode()
    assert "Любимый цвет" in page
    assert "значение в нём есть у 1 клиента" in page


def test_a_field_that_was_there_before_stays(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        CustomField.objects.create(entity="client", key="colour", label="Любимый цвет")
    browser = login_on_host(a.owner, a.company, a.host)
    batch_id = _import_with_new_field(browser, a.host)
    browser.post(f"/import/{batch_id}/undo/", {"confirm": "1"}, HTTP_HOST=a.host)
    with a:
        assert CustomField.objects.filter(key="colour").exists()


def test_import_data_undo_removes_the_field_it_made(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    sheet = tmp_path / "c.csv"
    sheet.write_bytes(csv_bytes(ROWS, encoding="utf-8", delimiter=";"))
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"Наименование": "name", "Любимый цвет": "new_custom"}')
    call_command(
        "import_data", a.company.slug, str(sheet), "--mapping", str(mapping), stdout=io.StringIO()
    )
    with a:
        batch = ImportBatch.objects.get()
        assert CustomField.objects.filter(entity="client").count() == 1
    out = io.StringIO()
    call_command("import_data", a.company.slug, "--undo", str(batch.pk), stdout=out)
    with a:
        assert not CustomField.objects.exists()
