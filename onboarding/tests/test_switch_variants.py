"""Held-out exports spell their headers differently: another case and order, «ё», units in
brackets («Бюджет (руб.)»), synonyms («Ответственный менеджер», "E-mail"), words in another
order («Email рабочий»), columns renamed, left out or added, English-language amoCRM, cp1251
with «;». The export is still recognised by its core columns, mapped, imported, and the
columns it does not know are named."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_core.models import Contact, Deal
from onboarding.importing.columns import normalise_header
from onboarding.importing.presets import recognise
from onboarding.importing.sources import inspect
from onboarding.models import ImportBatch
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, as_xlsx
from onboarding.tests.test_switch_amocrm import add_member
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")

AMO_RENAMED = [
    ["Воронка продаж", "ОТВЕТСТВЕННЫЙ МЕНЕДЖЕР", "Бюджет (руб.)", "Название Сделки", "Этап",
     "Utm_source", "Основной контакт", "Компания", "ID", "Дата создания (МСК)", "Доп. поле 1"],
    ["Воронка", "Анна Смирнова", "150 000", "Поставка окон", "Переговоры", "yandex",
     "Мария Иванова", "ООО Ромашка", "5001", "01.02.2025 10:00:00", "x"],
    ["Воронка", "anna@example.com", "85 500,50", "Монтаж дверей", "Успешно реализовано",
     "google", "Олег Кузнецов", "ИП Кузнецов", "5002", "02.02.2025 11:00:00", ""],
]  # fmt: skip
AMO_ENGLISH = [
    ["ID", "Deal name", "Budget (USD)", "Responsible user", "Date created", "Stage", "Pipeline",
     "Main contact", "Company", "Closed date", "Loss reason", "Tags"],
    ["6001", "Windows for the office", "90000", "Anna Smirnova", "2025-03-01 10:00:00",
     "Initial contact", "Sales", "Maria Ivanova", "Romashka LLC", "", "", ""],
    ["6002", "Door installation", "12500.75", "anna@example.com", "2025-03-02 11:00:00",
     "Closed - lost", "Sales", "Oleg Kuznetsov", "", "2025-03-10 12:00:00", "Too expensive", ""],
]  # fmt: skip


def _recognised(rows: list[list[str]], **csv: Any) -> tuple[str, list[str]]:
    data = as_csv(rows, **csv)
    found = inspect(io.BytesIO(data), size=len(data), limit_mb=50, file_name="x.csv")
    preset = recognise(found.headers)
    assert preset is not None, found.headers
    return preset.key, found.headers


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # amoCRM, Russian, renamed and reordered, a unit in brackets.
        (["Название Сделки", "Бюджет, руб.", "Ответственный пользователь", "Статус сделки",
          "Воронка"], "amocrm_deals"),
        # amoCRM in English (its older "Lead" words too).
        (["ID", "Lead title", "Sale", "Responsible", "Lead status", "Pipeline", "Main contact"],
         "amocrm_deals"),
        # amoCRM contacts: words in another order, "E-mail", a leading and trailing space.
        ([" Имя", "Фамилия ", "Компания контакта", "Email рабочий", "Телефон мобильный",
          "Ответственный"], "amocrm_contacts"),
        # Bitrix24 deals in English; the newer «Воронка» for «Направление».
        (["ID", "Deal", "Stage", "Pipeline", "Responsible", "Amount", "Currency", "Created",
          "Estimated close date", "Company", "Contact"], "bitrix24_deals"),
        (["Название сделки", "Стадия", "Воронка", "Ответственный", "Сумма", "Контакт"],
         "bitrix24_deals"),
        # HubSpot, newer export: the primary company's id column, owner in other case.
        (["Deal Name", "Pipeline", "Deal Stage", "Amount", "Deal Owner", "Record ID",
          "Associated Company IDs (Primary)"], "hubspot_deals"),
        # HubSpot in Russian.
        (["ID записи", "Название сделки", "Этап сделки", "Воронка", "Сумма",
          "Владелец сделки"], "hubspot_deals"),
        # HubSpot's associations export, in its spellings.
        (["Deal ID", "Contact ID", "Association label"], "hubspot_associations"),
        (["Record ID - Contact", "Record ID - Company", "Association type"],
         "hubspot_associations"),
        (["deal_id", "company_id", "association_label"], "hubspot_associations"),
    ],
)  # fmt: skip
def test_variant_headers_are_recognised(headers: list[str], expected: str) -> None:
    preset = recognise([normalise_header(h) for h in headers])
    assert preset is not None
    assert preset.key == expected


@pytest.mark.parametrize(
    "headers",
    [
        ["Наименование", "ИНН", "Телефон", "Email", "Ответственный"],  # a client list
        ["Название", "Сумма", "Ответственный", "Этап"],  # a home-made sales sheet
        ["Name", "Email", "Phone", "Company", "Job title"],
    ],
)
def test_a_sheet_of_nobodys_export_is_not_taken_for_one(headers: list[str]) -> None:
    assert recognise([normalise_header(h) for h in headers]) is None


def test_cp1251_renamed_reordered_export_is_imported_and_unknown_columns_named(
    make_company: Any,
) -> None:
    made = make_company("Окна")
    with made:
        anna = add_member(made.company, "anna@example.com", "Анна Смирнова")
    key, _headers = _recognised(AMO_RENAMED, encoding="cp1251", delimiter=";")
    assert key == "amocrm_deals"
    # Uploaded as a person does: named on the upload, the unknown columns listed.
    browser = login_on_host(made.owner, made.company, made.host)
    data = as_csv(AMO_RENAMED, encoding="cp1251", delimiter=";")
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("сделки.csv", data)}, HTTP_HOST=made.host
    )
    assert response.status_code == 302
    page = browser.get(response["Location"], HTTP_HOST=made.host).content.decode()
    assert 'id="recognised-preset"' in page
    assert "amoCRM" in page
    with made:
        batch = ImportBatch.objects.get()
        assert batch.mapping["бюджет руб"] == "deal_amount"
        assert batch.mapping["ответственный менеджер"] == "responsible"
        assert batch.mapping["этап"] == "deal_stage"
        assert batch.mapping["воронка продаж"] == "deal_pipeline"
        assert set(batch.ignored_columns) >= {"utm source", "доп поле 1"}
        report = run_import(
            made.company,
            made.owner,
            data,
            "сделки.csv",
            options={"pipelines": {"Воронка": "default"}},
        )
        assert report.counts.get("rejected", 0) == 0, [n.reason for n in report.rows]
        windows = Deal.objects.get(title="Поставка окон")
        assert windows.amount == Decimal("150000.00")
        assert windows.responsible_id == anna.pk
        assert windows.stage.name == "Переговоры"
        assert windows.created_at.date().isoformat() == "2025-02-01"
        assert Deal.objects.get(title="Монтаж дверей").stage.outcome == "won"
        assert list(windows.contacts.values_list("first_name", flat=True)) != []


def test_the_english_amocrm_export_with_units_is_imported(make_company: Any) -> None:
    made = make_company("Windows")
    with made:
        anna = add_member(made.company, "anna@example.com", "Anna Smirnova")
        report = run_import(
            made.company,
            made.owner,
            as_xlsx(AMO_ENGLISH, sheet="Leads"),
            "leads.xlsx",
            options={"pipelines": {"Sales": "default"}},
        )
        assert report.batch.options["preset"] == "amocrm_deals"
        assert "tags" in report.batch.ignored_columns
        assert report.counts.get("rejected", 0) == 0, [n.reason for n in report.rows]
        office = Deal.objects.get(title="Windows for the office")
        assert office.amount == Decimal("90000.00")
        assert office.responsible_id == anna.pk
        assert office.contacts.count() == 1
        door = Deal.objects.get(title="Door installation")
        assert door.stage.outcome == "lost"
        assert door.lost_reason == "Too expensive"
        assert Contact.objects.filter(deals=door).count() == 1
