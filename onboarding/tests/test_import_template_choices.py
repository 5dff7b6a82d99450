"""A saved mapping template brings back everything the person chose on the mapping page, not
only column → field: deals from the file or not, what to do with rows whose INN is invalid, the
client field made from a column (made again when it is gone), notes and address parts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_core.models import Client, CustomField
from onboarding.models import ImportBatch, ImportTemplate
from onboarding.tests.sheets import csv_bytes
from onboarding.tests.test_import_views import eager  # noqa: F401
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root", "eager")

HEADERS = ["Наименование", "ИНН", "Сделка", "Сумма", "Примечание", "Город", "Любимый цвет"]
CHOSEN = ["name", "inn", "deal_title", "deal_amount", "note", "city", "new_custom"]


def _file(name: str) -> bytes:
    return csv_bytes(
        [
            HEADERS,
            [name, "7707083893", "Поставка окон", "150000", "звонить после 10", "Казань", "синий"],
            ["ООО Опечатка", "7707083894", "Окна", "1000", "", "Уфа", "зелёный"],
        ],
        encoding="utf-8",
        delimiter=";",
    )


def _upload(browser: Any, host: str, data: bytes, template: str = "") -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = browser.post(
        "/import/",
        {"file": SimpleUploadedFile("c.csv", data), "template": template},
        HTTP_HOST=host,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def _selected(page: str, index: int) -> str:
    select = re.search(rf'<select[^>]*name="col_{index}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    found = re.search(r'value="([^"]*)" selected', select.group(1))
    return found.group(1) if found else ""


def _checked(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"[^>]*checked', page)
    return found.group(1) if found else ""


def _first_import(browser: Any, host: str) -> int:
    preview = _upload(browser, host, _file("ООО Альфа"))
    form = {"sheet": "", "header_row": "1", "deals": "yes", "bad_inn": "skip", "save_as": "Наш 1С"}
    form.update({f"col_{i}": f for i, f in enumerate(CHOSEN)})
    assert browser.post(f"/import/{preview}/preview/", form, HTTP_HOST=host).status_code == 302
    started = browser.post(f"/import/{preview}/start/", HTTP_HOST=host)
    return int(started["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_template_restores_every_choice_of_the_mapping_page(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    _first_import(browser, a.host)
    with a:
        template = ImportTemplate.objects.get()
        field = CustomField.objects.get(entity="client")
        assert Client.objects.count() == 1  # the row with the invalid INN was skipped
    second = _upload(browser, a.host, _file("ООО Бета"), str(template.pk))
    page = browser.get(f"/import/{second}/", HTTP_HOST=a.host).content.decode()
    expected = [*CHOSEN[:-1], f"custom:{field.key}"]
    assert [_selected(page, i) for i in range(len(HEADERS))] == expected
    assert _checked(page, "deals") == "yes"
    assert _checked(page, "bad_inn") == "skip"
    with a:
        batch = ImportBatch.objects.get(pk=second)
        assert (batch.options["deals"], batch.options["bad_inn"]) == (True, "skip")


def test_a_field_removed_since_is_offered_to_be_made_again(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    first = _first_import(browser, a.host)
    browser.post(f"/import/{first}/undo/", {"confirm": "1"}, HTTP_HOST=a.host)
    with a:
        assert not CustomField.objects.exists()  # the undo took the field it made
        template = ImportTemplate.objects.get()
    second = _upload(browser, a.host, _file("ООО Бета"), str(template.pk))
    page = browser.get(f"/import/{second}/", HTTP_HOST=a.host).content.decode()
    assert _selected(page, 6) == "new_custom"
    form = {"sheet": "", "header_row": "1", "deals": "yes", "bad_inn": "skip"}
    form.update({f"col_{i}": f for i, f in enumerate(CHOSEN)})
    browser.post(f"/import/{second}/preview/", form, HTTP_HOST=a.host)
    browser.post(f"/import/{second}/start/", HTTP_HOST=a.host)
    with a:
        field = CustomField.objects.get(entity="client")
        assert Client.objects.get(name="ООО Бета").custom[field.key] == "синий"


def test_another_company_sees_no_template(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    browser = login_on_host(a.owner, a.company, a.host)
    _first_import(browser, a.host)
    with a:
        template = ImportTemplate.objects.get()
    other = login_on_host(b.owner, b.company, b.host)
    assert "Наш 1С" not in other.get("/import/", HTTP_HOST=b.host).content.decode()
    response = other.post(
        "/import/",
        {"file": SimpleUploadedFile("c.csv", _file("x")), "template": str(template.pk)},
        HTTP_HOST=b.host,
    )
    assert response.status_code == 200  # refused: not one of B's templates
    with b:
        assert not ImportBatch.objects.exists()
