"""The mapping step and the engine for sheets: every column lands where a person expects it, or
is named as left out (issue 21: company vs person contacts, two columns for one field, notes,
address parts and client fields, debts that are not deals, INNs failing their checksum)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from crm_core.models import Activity, Client, Contact, CustomField, Deal, Phone
from onboarding.importing import columns
from onboarding.models import ImportBatch, ImportRowNote
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import csv_bytes
from relata.celery import app
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def one_c_list_xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    """A list saved from 1C to Excel: a title block (the list's name, the period, the
    selection) above the header, numbers as text, a totals row."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "TDSheet"
    sheet.append(["Контрагенты"])
    sheet.append(["Период: 01.01.2026 - 31.03.2026"])
    sheet.append(['Отбор: Покупатель Равно "Да"'])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.append(["Итого", *[None] * (len(header) - 1)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cp1251_csv(rows: list[list[str]]) -> bytes:
    """An old Excel client list saved as CSV: windows-1251, semicolons."""
    return csv_bytes(rows, encoding="cp1251", delimiter=";")


# -------------------------------------------------------------------- the headers


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Телефон", "phone"),
        ("Email", "email"),
        ("Контактный телефон", "phone"),
        ("Телефон контактного лица", "contact_phone"),
        ("Моб. телефон контактного лица", "contact_phone"),
        ("Телефон представителя", "contact_phone"),
        ("Контактное лицо (телефон)", "contact_phone"),
        ("Email контактного лица", "contact_email"),
        ("E-mail представителя", "contact_email"),
        ("Эл. почта контактного лица", "contact_email"),
        ("Contact phone", "contact_phone"),
        ("Contact email", "contact_email"),
        ("Contact person's e-mail", "contact_email"),
        ("Contact name", "contact_name"),
        ("ФИО контактного лица", "contact_name"),
        ("Должность контактного лица", "contact_position"),
        ("Контактное лицо", "contact_name"),
        ("Основное контактное лицо", "contact_name"),
        ("Primary contact", "contact_name"),
        ("Дата контакта", "deal_date"),
        ("Примечание", "note"),
        ("Комментарий", "note"),
        ("Заметка", "note"),
        ("Notes", "note"),
        ("Город", "city"),
        ("Регион", "region"),
        ("Индекс", "postal_code"),
        ("Почтовый индекс", "postal_code"),
        ("Сумма задолженности", "balance"),
        ("Сальдо", "balance"),
        ("Сальдо на конец периода", "balance"),
        ("Долг", "balance"),
        ("Долг покупателя, руб.", "balance"),
        ("Задолженность", "balance"),
        ("Balance", "balance"),
        ("Debt", "balance"),
        ("Сумма сделки", "deal_amount"),
        ("Долгопрудный", ""),  # a city in a data row, not a debt
    ],
)
def test_headers_name_the_company_s_or_the_person_s_field(header: str, field: str) -> None:
    assert columns.field_for(header) == field


def test_the_suggestion_keeps_several_phone_columns_and_names_a_second_inn() -> None:
    headers = [columns.normalise_header(h) for h in ("Клиент", "Телефон", "Тел.", "ИНН", "ИНН")]
    headers[-1] = "инн #5"
    mapping = columns.suggest_mapping(headers)
    assert mapping == {"клиент": "name", "телефон": "phone", "тел": "phone", "инн": "inn"}
    # Never a conflict in silence: the second INN column is left for the person, and named.
    assert columns.unsuggested(headers, mapping) == [("инн #5", "inn")]


# -------------------------------------------------------------------- 1: whose contacts


def test_a_1c_list_keeps_the_company_s_contacts_on_the_company_and_the_person_s_on_the_person(
    make_company: Any,
) -> None:
    header = [
        "№",
        "Наименование",
        "ИНН",
        "Телефон",
        "Email",
        "Контактное лицо",
        "Должность",
        "Телефон контактного лица",
        "Email контактного лица",
    ]
    rows = [
        [
            "1",
            'ООО "Ромашка"',
            "7707083893",
            "+7 (495) 123-45-67",
            "office@romashka.ru",
            "Иванов Иван Иванович",
            "Директор",
            "+7 916 111-22-33",
            "ivanov@romashka.ru",
        ],
        ["2", "ООО Берёзка", "7736050003", "8 812 555-01-01", "info@berezka.ru", "", "", "", ""],
    ]
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, one_c_list_xlsx(header, rows), "list.xlsx")
        assert report.batch.header_row == 5
        assert report.counts["created"] == 2
        romashka = Client.objects.get(inn="7707083893")
        assert list(Phone.objects.filter(client=romashka).values_list("e164", flat=True)) == [
            "+74951234567"
        ]
        ivanov = Contact.objects.get(client=romashka, last_name="Иванов")
        assert ivanov.position == "Директор"
        assert ivanov.emails == ["ivanov@romashka.ru"]
        assert list(ivanov.phones.values_list("e164", flat=True)) == ["+79161112233"]
        company_mail = Contact.objects.get(client=romashka, last_name="", first_name="")
        assert company_mail.emails == ["office@romashka.ru"]
        berezka = Client.objects.get(inn="7736050003")
        assert list(berezka.phones.values_list("e164", flat=True)) == ["+78125550101"]
        # Only the row numbers were left out, and they are named.
        assert report.batch.ignored_columns == ["#1"]  # «№»: no header text, but values
        # The same file again changes nothing.
        again = run_import(a.company, a.owner, one_c_list_xlsx(header, rows), "list.xlsx")
        assert again.counts["unchanged"] == 2
        assert Contact.objects.filter(client=romashka).count() == 2


# -------------------------------------------------------------------- 2: two columns, one field


def test_two_phone_columns_keep_both_numbers(make_company: Any) -> None:
    data = cp1251_csv(
        [
            ["Клиент", "Телефон", "Телефон 2", "E-mail", "Почта"],
            ["ООО Два Телефона", "8 495 111-11-11", "8 916 222-22-22", "a@two.ru", "b@two.ru"],
        ]
    )
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, data, "two.csv")
        assert report.batch.encoding in {"cp1251", "windows-1251"}
        client = Client.objects.get()
        assert sorted(client.phones.values_list("e164", flat=True)) == [
            "+74951111111",
            "+79162222222",
        ]
        assert Contact.objects.get(client=client).emails == ["a@two.ru", "b@two.ru"]


def test_the_mapping_step_refuses_two_columns_for_one_field_naming_both(
    make_company: Any, eager: None
) -> None:
    data = cp1251_csv(
        [["Клиент", "ИНН", "ИНН покупателя"], ["ООО Север", "7707083893", "7736050003"]]
    )
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("inn.csv", data)}, HTTP_HOST=a.host
    )
    with a:
        preview = ImportBatch.objects.get()
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    # The suggestion took the first INN column and says why the second is left unmapped.
    assert 'id="unsuggested"' in page
    assert "«инн покупателя»" in page
    form = {"sheet": "", "header_row": "1", "col_0": "name", "col_1": "inn", "col_2": "inn"}
    response = browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host)
    assert response.status_code == 400
    text = response.content.decode()
    assert "«инн», «инн покупателя»" in text
    with a:
        assert ImportBatch.objects.get().status == "pending"  # no preview ran


# -------------------------------------------------------------------- 3: nothing dropped


def _notes_file() -> bytes:
    return cp1251_csv(
        [
            ["Клиент", "Индекс", "Регион", "Город", "Адрес", "Примечание", "Менеджер", "Сальдо"],
            [
                "ООО Север",
                "163000",
                "Архангельская обл.",
                "г. Архангельск",
                "ул. Ленина, д. 1",
                "Звонить после обеда",
                "Петрова",
                "-12 500,50",
            ],
            ["ООО Юг", "", "", "Сочи", "", "", "Сидоров", ""],
        ]
    )


def test_notes_address_parts_and_a_balance_land_on_the_client(make_company: Any) -> None:
    from onboarding.services.imports import report_workbook

    a = make_company("Alpha")
    b = make_company("Beta")
    with a:
        report = run_import(a.company, a.owner, _notes_file(), "notes.csv")
        assert report.counts["created"] == 2
        sever = Client.objects.get(name="ООО Север")
        assert sever.legal_address == (
            "163000, Архангельская обл., г. Архангельск, ул. Ленина, д. 1"
        )
        assert Client.objects.get(name="ООО Юг").legal_address == "Сочи"
        note = Activity.objects.get(client=sever)
        assert (note.kind, note.body) == (Activity.Kind.NOTE, "Звонить после обеда")
        # A balance is a client field (money), never a deal.
        assert sever.custom["balance"] == -12500.5
        balance = CustomField.objects.get(entity="client", key="balance")
        assert balance.kind == CustomField.Kind.MONEY
        assert not Deal.objects.exists()
        # The manager column was mapped to nothing: named, not dropped in silence.
        assert report.batch.ignored_columns == ["менеджер"]
        assert report.summary()["ignored_columns"] == ["менеджер"]
        book = openpyxl.load_workbook(io.BytesIO(report_workbook(report.batch)))
        assert [r[0] for r in book.worksheets[1].iter_rows(values_only=True)][1:] == ["менеджер"]
        # Again: no second note.
        assert run_import(a.company, a.owner, _notes_file(), "notes.csv").counts["unchanged"] == 2
        assert Activity.objects.filter(client=sever).count() == 1
    with b:
        assert not CustomField.objects.exists()  # the other company's fields are its own
        assert not Activity.objects.exists()


def test_undo_removes_the_imported_notes(make_company: Any) -> None:
    from onboarding.services.imports import undo_batch

    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, _notes_file(), "notes.csv")
        undo_batch(report.batch)
        assert not Client.objects.exists()
        assert not Activity.objects.exists()


def test_the_wizard_makes_a_client_field_from_a_column_and_names_the_ignored_ones(
    make_company: Any, eager: None
) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("notes.csv", _notes_file())}, HTTP_HOST=a.host
    )
    with a:
        preview = ImportBatch.objects.get()
        assert preview.ignored_columns == ["менеджер"]
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert 'value="new_custom"' in page
    assert 'value="contact_phone"' in page
    assert 'value="note" selected' in page
    fields = ["name", "postal_code", "region", "city", "legal_address", "note", "", "balance"]
    form = {"sheet": "", "header_row": "1", **{f"col_{i}": f for i, f in enumerate(fields)}}
    browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host)
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="ignored-columns"' in page
    assert "«менеджер»" in page
    # Now the manager column becomes a client field of its own.
    form["col_6"] = "new_custom"
    response = browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host)
    assert response.status_code == 302
    with a:
        field = CustomField.objects.get(entity="client", label="Менеджер")
        assert ImportBatch.objects.get(pk=preview.pk).mapping["менеджер"] == f"custom:{field.key}"
        assert ImportBatch.objects.get(pk=preview.pk).ignored_columns == []
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="ignored-columns"' not in page
    browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    with a:
        assert Client.objects.get(name="ООО Юг").custom == {field.key: "Сидоров"}
    with b:
        assert not CustomField.objects.exists()
        assert not Client.objects.exists()


# -------------------------------------------------------------------- 4: debts are not deals


def test_a_debt_column_makes_no_deal_and_a_bare_sum_only_when_asked(
    make_company: Any, tmp_path: Path
) -> None:
    header = ["Контрагент", "ИНН", "Сумма задолженности"]
    rows = [["ООО Должник", "7707083893", "150 000,00"]]
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, one_c_list_xlsx(header, rows), "debts.xlsx")
        assert report.batch.mapping["сумма задолженности"] == "balance"
        assert not Deal.objects.exists()
        assert Client.objects.get().custom == {"balance": 150000}
    sums = cp1251_csv([["Клиент", "Сумма"], ["ООО Сумма", "1 000"]])
    path = tmp_path / "sums.csv"
    path.write_bytes(sums)
    out = StringIO()
    call_command("import_data", a.company.slug, str(path), stdout=out)
    assert "ignored columns: сумма" in out.getvalue()
    with a:
        assert not Deal.objects.exists()
    call_command("import_data", a.company.slug, str(path), "--deals", stdout=StringIO())
    with a:
        assert Deal.objects.get().amount == Decimal("1000.00")


def test_the_wizard_asks_for_deals(make_company: Any, eager: None) -> None:
    data = cp1251_csv([["Клиент", "Сумма"], ["ООО Север", "1000"], ["ООО Юг", "2000"]])
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("sums.csv", data)}, HTTP_HOST=a.host
    )
    with a:
        preview = ImportBatch.objects.get()
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    # Off by default: no deal-title column, and a bare sum may be a debt.
    assert 'value="no" id="id_deals_1" checked' in page
    form = {"sheet": "", "header_row": "1", "col_0": "name", "col_1": "deal_amount"}
    browser.post(f"/import/{preview.pk}/preview/", {**form, "deals": "yes"}, HTTP_HOST=a.host)
    browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    with a:
        assert sorted(Deal.objects.values_list("amount", flat=True)) == [
            Decimal("1000.00"),
            Decimal("2000.00"),
        ]


# -------------------------------------------------------------------- 5: INN checksums


def _inns_file() -> bytes:
    return cp1251_csv(
        [
            ["Клиент", "ИНН", "Телефон"],
            ["ООО Верный", "7707083893", ""],
            ["ООО Опечатка", "7707083894", "8 916 100-00-01"],  # 10 digits, wrong checksum
            ["ИП Опечаткин", "500100732250", ""],  # 12 digits, wrong checksum
            ["ТОО Алатау", "181620360057", ""],  # a Kazakh BIN: a foreign tax id, as before
            ["Uzbek LLC", "301234567", ""],  # 9 digits: a foreign tax id, as before
        ]
    )


def test_an_inn_failing_its_checksum_is_imported_without_it_and_flagged(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, _inns_file(), "inns.csv")
        counts = report.summary()["counts"]
        assert (counts["created"], counts["rejected"], counts["flagged"]) == (5, 0, 2)
        typo = Client.objects.get(name="ООО Опечатка")
        assert (typo.inn, typo.inn_status) == ("", "")
        assert list(typo.phones.values_list("e164", flat=True)) == ["+79161000001"]
        assert Client.objects.get(name="ТОО Алатау").inn_status == "foreign"
        assert Client.objects.get(name="Uzbek LLC").inn_status == "foreign"
        flagged = [
            n.row for n in ImportRowNote.objects.filter(batch=report.batch, reason__contains="INN")
        ]
        failing = [n for n in report.rows if "checksum" in n.reason]
        # The summary's counts are the report's rows.
        assert len(failing) == counts["flagged"] == 2
        assert {3, 4} <= set(flagged)


def test_rows_with_a_failing_inn_are_skipped_when_asked(make_company: Any, tmp_path: Path) -> None:
    a = make_company("Alpha")
    path = tmp_path / "inns.csv"
    path.write_bytes(_inns_file())
    out = StringIO()
    call_command("import_data", a.company.slug, str(path), "--bad-inn", "skip", stdout=out)
    printed = out.getvalue()
    assert "created: 3" in printed
    assert "rejected: 2" in printed
    assert "row 3: rejected — INN 7707083894 fails its checksum" in printed
    with a:
        assert not Client.objects.filter(name__contains="Опечат").exists()
        batch = ImportBatch.objects.get()
        rejected = ImportRowNote.objects.filter(batch=batch, outcome="rejected").count()
        assert rejected == batch.counts["rejected"] == 2


def test_the_wizard_lets_the_person_skip_rows_with_a_failing_inn(
    make_company: Any, eager: None
) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("inns.csv", _inns_file())}, HTTP_HOST=a.host
    )
    with a:
        preview = ImportBatch.objects.get()
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert 'id="bad-inn"' in page
    form = {"sheet": "", "header_row": "1", "col_0": "name", "col_1": "inn", "col_2": "phone"}
    browser.post(f"/import/{preview.pk}/preview/", {**form, "bad_inn": "skip"}, HTTP_HOST=a.host)
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    assert "7707083894" in page
    browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    with a:
        batch = ImportBatch.objects.get(dry_run=False)
        assert batch.counts["rejected"] == 2
        assert Client.objects.count() == 3


def test_import_data_refuses_a_json_mapping_with_two_columns_for_one_field(
    make_company: Any, tmp_path: Path
) -> None:
    import json

    a = make_company("Alpha")
    path = tmp_path / "inns.csv"
    path.write_bytes(_inns_file())
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Клиент": "name", "ИНН": "inn", "Телефон": "inn"}))
    with pytest.raises(CommandError, match="'ИНН', 'Телефон'"):
        call_command("import_data", a.company.slug, str(path), "--mapping", str(mapping))
