"""Values as people type them that the import once misread: currency words, phones on
separate lines, tax ids with spaces or a lost zero, names that begin like "Итого", repeat
orders, amounts too large for the CRM — and what happens when a run fails outright."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from crm_core.models import Client, Deal, Phone
from crm_core.services.clients import ClientInput, create_client
from onboarding.importing import engine, values
from onboarding.models import ImportBatch, ImportRowNote
from onboarding.services.imports import report_workbook
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import excel_csv, messy_xlsx
from tenants.models import Membership

pytestmark = pytest.mark.usefixtures("media_root")


def _xlsx(rows: list[list[Any]], *, merged: str = "") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merged:
        sheet.merge_cells(merged)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _reasons(batch: ImportBatch) -> dict[int, str]:
    return dict(ImportRowNote.objects.filter(batch=batch).values_list("row", "reason"))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("12 500,00 р.", Decimal("12500.00")),
        ("1 234 567,89 руб.", Decimal("1234567.89")),
        ("12 500 ₽", Decimal("12500")),
        ("RUB 100.50", Decimal("100.50")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1,23E+11", Decimal("123000000000")),  # Excel's CSV of a large number
    ],
)
def test_an_amount_with_a_currency_word_is_read_at_its_value(typed: str, read: Decimal) -> None:
    # The dot of "руб." / "р." was taken for the decimal point: 12 500,00 р. became 1,250,000.
    assert values.number(typed) == read


def test_amounts_and_dates_as_typed_become_deals_and_what_is_unreadable_is_said(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        data = excel_csv(
            [
                ["Клиент", "ИНН", "Сделка", "Сумма сделки", "Дата"],
                ["ООО Рубль", "7707083893", "Окна", "12 500,00 р.", "05.03.2026г."],
                ["ООО Ни рубля", "", "Двери", "около пяти", "31.31.2025"],
            ]
        )
        report = run_import(a.company, a.owner, data, "deals.csv")
        rouble = Deal.objects.get(client__name="ООО Рубль")
        assert rouble.amount == Decimal("12500.00")
        assert rouble.created_at.date().isoformat() == "2026-03-05"
        unread = Deal.objects.get(client__name="ООО Ни рубля")
        assert unread.amount == Decimal(0)
        reason = _reasons(report.batch)[3]
        assert "Amount около пяти is not a number" in reason
        assert "31.31.2025 is not a date (dd.mm.yyyy)" in reason


@pytest.mark.parametrize(
    ("cells", "found"),
    [
        (["25.03.2026", "03.04.2026"], ("dmy", True, False)),  # 25 can only be a day
        ([" 03/25/2026 ", "04/01/2026"], ("mdy", True, False)),  # 25 can only be a day, second
        (["03.04.2026", "05.06.26", "01.02.2026 г."], ("dmy", True, True)),  # open: asked
        (["25.03.2026", "03/25/2026"], ("dmy", True, True)),  # they disagree: asked
        (["12.12.2026", "01.01.2026"], ("dmy", True, False)),  # the same either way
        (["31.31.2025", "12-34-56", "ООО Ромашка", 45000.0, None], ("dmy", False, False)),
        ([], ("dmy", False, False)),
    ],
)
def test_the_order_of_day_and_month_is_read_from_the_dates_themselves(
    cells: list[Any], found: tuple[str, bool, bool]
) -> None:
    assert tuple(values.date_order(cells))[:3] == found
    assert values.date("03/25/2026", values.MONTH_FIRST) == "2026-03-25"
    assert values.date("03/25/2026") == ""  # no 25th month
    assert values.date("03.04.2026") == "2026-04-03"
    assert values.date("03.04.2026", values.MONTH_FIRST) == "2026-03-04"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("5 марта 2026", "2026-03-05"),
        ("05 мар. 2026 г.", "2026-03-05"),
        ("1 сентября 2026г.", "2026-09-01"),
        ("5 МАЯ 2026", "2026-05-05"),
        ("3 май 2026", "2026-05-03"),
        ("5 March 2026", "2026-03-05"),
        ("1 Sept. 2026", "2026-09-01"),
        ("5 февр. 2026 г.", "2026-02-05"),  # as Google Sheets and LibreOffice write them
        ("5 нояб. 2026 г.", "2026-11-05"),
        ("5 сент. 2026 г.", "2026-09-05"),
        ("12 марки 2026", ""),  # not a month
        ("31 февраля 2026", ""),  # no such day
    ],
)
def test_a_date_with_the_month_in_words_is_read(typed: str, read: str) -> None:
    assert values.date(typed) == read
    assert values.date(typed, values.MONTH_FIRST) == read  # words leave no order to choose
    assert not values.date_order([typed]).typed


def test_the_question_is_asked_with_one_of_the_file_s_own_dates() -> None:
    # 01.01.2026 reads the same both ways: no use as an example.
    found = values.date_order(["01.01.2026", "05.03.2026 г.", "06.07.2026"])
    assert found == ("dmy", True, True, "05.03.2026")
    assert values.date_order(["25.03.2026", "05.03.2026"]).example == ""  # nothing to ask


def test_only_the_deal_date_column_tells_the_order_and_an_assumed_one_is_said(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    # A small town's phone "2-25-30" looks like a month-first date; it is not the date column.
    data = excel_csv(
        [
            ["Клиент", "Телефон", "Сделка", "Сумма сделки", "Дата"],
            ["ООО Север", "2-25-30", "Окна", "1000", "03.04.2026"],
        ]
    )
    with a:
        report = run_import(a.company, a.owner, data, "town.csv")
        assert report.batch.date_order == "dmy"
        assert Deal.objects.get().created_at.date().isoformat() == "2026-04-03"
        # Nobody was asked (no wizard): the report says what was assumed.
        assert report.batch.warnings == [
            "Dates such as 03.04.2026 can be read two ways; they were read day first. Give the "
            "order if the file writes the month first."
        ]
        assert (
            run_import(a.company, a.owner, data, "town.csv", date_order="dmy").batch.warnings == []
        )


def test_a_file_of_american_dates_is_read_month_first_and_an_open_one_as_chosen(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    header = ["Клиент", "ИНН", "Сделка", "Сумма сделки", "Дата"]
    american = excel_csv(
        [
            header,
            ["ООО Восток", "7707083893", "Окна", "1000", "03/25/2026"],
            ["ООО Запад", "", "Двери", "2000", "04/01/2026"],
        ]
    )
    open_order = excel_csv([header, ["ООО Север", "", "Окна", "1000", "03.04.2026"]])
    with a:
        report = run_import(a.company, a.owner, american, "us.csv")
        assert report.batch.date_order == "mdy"
        dated = dict(Deal.objects.values_list("client__name", "created_at"))
        assert dated["ООО Восток"].date().isoformat() == "2026-03-25"
        assert dated["ООО Запад"].date().isoformat() == "2026-04-01"  # not 4 January
        # Nothing tells: day first, as Russian files write it — unless the person says.
        report = run_import(a.company, a.owner, open_order, "ru.csv")
        assert report.batch.date_order == "dmy"
        assert Deal.objects.get(client__name="ООО Север").created_at.date().isoformat() == (
            "2026-04-03"
        )
        Deal.objects.filter(client__name="ООО Север").delete()
        report = run_import(a.company, a.owner, open_order, "ru.csv", date_order="mdy")
        assert Deal.objects.get(client__name="ООО Север").created_at.date().isoformat() == (
            "2026-03-04"
        )
        # A date the chosen order cannot read is said, in that order's words.
        report = run_import(
            a.company,
            a.owner,
            excel_csv([header, ["ООО Юг", "", "Окна", "5", "25.03.2026"]]),
            "mixed.csv",
            date_order="mdy",
        )
        assert "25.03.2026 is not a date (mm/dd/yyyy)" in _reasons(report.batch)[2]


def test_several_phones_in_one_cell_on_separate_lines_or_with_extensions(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    # Alt+Enter between two numbers; runs of spaces; an extension after a comma; "вн.".
    sheet = _xlsx(
        [
            ["Клиент", "Телефон"],
            ["ООО Две линии", "8 916 111 22 33\n8 916 222 33 44"],
            ["ООО Пробелы", "8 916 333 44 55    8 916 444 55 66"],
            ["ООО Добавочный", "8 495 123-45-67, доб. 5"],
            ["ООО Внутренний", "8 (812) 555-01-01 вн. 12"],
        ]
    )
    with a:
        report = run_import(a.company, a.owner, sheet, "phones.xlsx")
        assert report.counts["created"] == 4

        def numbers(name: str) -> set[tuple[str, str]]:
            return set(
                Phone.objects.filter(client__name=name).values_list("e164", "extension")
            ) | set(
                Phone.objects.filter(contact__client__name=name).values_list("e164", "extension")
            )

        assert numbers("ООО Две линии") == {("+79161112233", ""), ("+79162223344", "")}
        assert numbers("ООО Пробелы") == {("+79163334455", ""), ("+79164445566", "")}
        assert numbers("ООО Добавочный") == {("+74951234567", "5")}
        assert numbers("ООО Внутренний") == {("+78125550101", "12")}
        assert not any(_reasons(report.batch).values())


def test_reimporting_foreign_and_grouped_tax_ids_changes_nothing(make_company: Any) -> None:
    a = make_company("Alpha")
    first = excel_csv(
        [
            ["Клиент", "ИНН"],
            ["ООО Девять", "123456789"],  # not a valid INN, with or without a leading zero
            ["ТОО Пробел", "1816 2036 0057"],  # a Kazakh BIN, grouped as people write it
        ]
    )
    with a:
        run_import(a.company, a.owner, first, "one.csv")
        again = run_import(a.company, a.owner, first, "one.csv")
        assert (again.counts.get("created", 0), again.counts["unchanged"]) == (0, 2)
        # The same BIN typed without spaces is the same counterparty.
        typed = excel_csv([["Клиент", "ИНН"], ["ТОО Пробел", "181620360057"]])
        assert run_import(a.company, a.owner, typed, "two.csv").counts["unchanged"] == 1
        assert sorted(Client.objects.values_list("inn", "inn_status")) == [
            ("123456789", "foreign"),
            ("181620360057", "foreign"),
        ]


def test_a_kpp_that_lost_its_leading_zero_still_matches_by_inn_and_kpp(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        create_client(
            membership=Membership.objects.get(user=a.owner),
            company=a.company,
            data=ClientInput(name="Башкирская сталь", inn="0235792851", kpp="026801001"),
        )
        data = excel_csv([["Клиент", "ИНН", "КПП"], ["Башкирская сталь", "235792851", "26801001"]])
        report = run_import(a.company, a.owner, data, "kpp.csv")
        assert report.counts["unchanged"] == 1
        assert list(Client.objects.values_list("inn", "kpp")) == [("0235792851", "026801001")]
        # A new client gets the zero back too.
        data = excel_csv([["Клиент", "ИНН", "КПП"], ["ООО Ноль", "7707083893", "12345678"]])
        run_import(a.company, a.owner, data, "kpp2.csv")
        assert Client.objects.get(name="ООО Ноль").kpp == "012345678"


def test_names_that_begin_like_a_totals_row_are_clients(make_company: Any) -> None:
    a = make_company("Alpha")
    data = excel_csv(
        [
            ["Клиент", "Телефон"],
            ["Total Systems LLC", "+7 916 000-00-01"],
            ["Итог-Сервис ООО", "+7 916 000-00-02"],
            ["Всего понемногу", "+7 916 000-00-03"],
            ["Итого по клиентам:", "3"],
        ]
    )
    with a:
        report = run_import(a.company, a.owner, data, "totals.csv")
        assert report.counts["rows"] == 3
        assert set(Client.objects.values_list("name", flat=True)) == {
            "Total Systems LLC",
            "Итог-Сервис ООО",
            "Всего понемногу",
        }


def test_a_repeat_order_on_another_day_is_another_deal_and_reimport_adds_none(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    data = excel_csv(
        [
            ["Клиент", "ИНН", "Сделка", "Сумма сделки", "Дата"],
            ["ООО Ромашка", "7707083893", "Заказ", "1000", "01.03.2026"],
            ["ООО Ромашка", "7707083893", "Заказ", "1000", "05.03.2026"],
            ["ООО Ромашка", "7707083893", "Заказ", "1000", "05.03.2026"],  # listed twice
            ["ООО Ромашка", "7707083893", "Заказ", "1000", ""],  # no date: one of those
        ]
    )
    with a:
        report = run_import(a.company, a.owner, data, "orders.csv")
        dates = sorted(
            d.date().isoformat() for d in Deal.objects.values_list("created_at", flat=True)
        )
        assert dates == ["2026-03-01", "2026-03-05"]
        assert report.counts["created"] == 1
        again = run_import(a.company, a.owner, data, "orders.csv")
        assert again.counts["unchanged"] == 4
        assert Deal.objects.count() == 2


def test_an_amount_too_large_for_the_crm_leaves_that_deal_out_not_the_import(
    make_company: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    a = make_company("Alpha")
    rows = [["Клиент", "Сделка", "Сумма сделки"]]
    rows += [[f"Клиент {n}", "Окна", "1000"] for n in range(6)]
    rows.insert(4, ["Клиент большой", "Окна", "99999999999999999999"])
    with a:
        report = run_import(a.company, a.owner, excel_csv(rows), "big.csv")
        assert report.batch.status == ImportBatch.Status.DONE
        assert Client.objects.count() == 7
        assert Deal.objects.count() == 6
        assert not Deal.objects.filter(client__name="Клиент большой").exists()
        assert _reasons(report.batch)[5] == (
            "99999999999999999999 is more than the CRM can hold as an amount: the deal is left out."
        )


def test_the_first_sheet_with_anything_on_it_is_read(make_company: Any) -> None:
    a = make_company("Alpha")
    book = openpyxl.Workbook()
    empty = book.active
    assert empty is not None
    empty.title = "Лист1"
    clients = book.create_sheet("Клиенты")
    clients.append(["Клиент", "ИНН"])
    clients.append(["ООО Ромашка", "7707083893"])
    out = io.BytesIO()
    book.save(out)
    with a:
        report = run_import(a.company, a.owner, out.getvalue(), "book.xlsx")
        assert report.batch.sheet == "Клиенты"
        assert list(Client.objects.values_list("name", flat=True)) == ["ООО Ромашка"]


def test_the_report_of_rows_to_check_can_be_fixed_and_imported_again(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        first = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        report = openpyxl.load_workbook(io.BytesIO(report_workbook(first.batch))).active
        assert report is not None
        rows = [list(r) for r in report.iter_rows(values_only=True)]
        assert rows[0][3:] == first.batch.columns
        # Row 9 was rejected for having no name: give it one and import the report itself.
        (fixed,) = (r for r in rows if r[0] == 9)
        fixed[3] = "ООО Исправленное"
        again = run_import(a.company, a.owner, _xlsx([rows[0], fixed]), "fixed.xlsx")
        assert set(again.batch.mapping.values()) >= {"name", "inn", "phone"}
        assert not {"строка", "результат", "причина"} & set(again.batch.mapping)
        assert again.counts["created"] == 1
        fixed_client = Client.objects.get(name="ООО Исправленное")
        assert list(Phone.objects.filter(client=fixed_client).values_list("e164", flat=True)) == [
            "+79990000000"
        ]


def test_an_unexpected_failure_keeps_nothing_and_says_so(
    make_company: Any, monkeypatch: Any
) -> None:
    """A run that fails on something no check foresaw must not stay "running" for ever with
    half the file written (every resume would fail the same way)."""
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    real_write = engine.Importer._write
    written: list[int] = []

    def fails_on_the_second_chunk(self: Any, plan: Any) -> None:
        written.append(1)
        if len(written) == 2:
            raise ValueError("a value no check foresaw")
        real_write(self, plan)

    monkeypatch.setattr(engine.Importer, "_write", fails_on_the_second_chunk)
    a, b = make_company("Alpha"), make_company("Beta")
    with b:
        create_client(
            membership=Membership.objects.get(user=b.owner),
            company=b.company,
            data=ClientInput(name="Клиент Беты"),
        )
    rows = [["Клиент"]] + [[f"Клиент {n}"] for n in range(5)]
    with a:
        report = run_import(a.company, a.owner, excel_csv(rows), "fails.csv")
        batch = ImportBatch.objects.get(pk=report.batch.pk)
        assert batch.status == ImportBatch.Status.FAILED
        assert "unexpected error after row 3" in batch.error
        assert "nothing from this file was kept" in batch.error
        assert not Client.objects.exists()  # the first chunk, committed, is gone too
    with b:
        assert list(Client.objects.values_list("name", flat=True)) == ["Клиент Беты"]


def test_amounts_no_column_can_hold_negative_ones_and_nul_characters(make_company: Any) -> None:
    a = make_company("Alpha")
    rows = [["Клиент", "Сделка", "Сумма сделки"]]
    rows += [[f"ООО Клиент {n}", "Окна", "1000"] for n in range(150)]  # past detection's 4 KB
    rows += [
        ["ООО Огромная", "Окна", "1e40"],  # cannot even be rounded to kopecks
        ["ООО Возврат", "Окна", "-5000"],
        ["ООО Н\x00оль", "Окна", "1000"],  # a NUL from a damaged export
    ]
    with a:
        report = run_import(a.company, a.owner, excel_csv(rows), "edge.csv")
        assert report.batch.status == ImportBatch.Status.DONE
        assert report.counts["created"] == 153
        assert Client.objects.filter(name="ООО Ноль").exists()
        assert Deal.objects.count() == 151
        assert not Deal.objects.filter(client__name__in=["ООО Огромная", "ООО Возврат"]).exists()
        reasons = _reasons(report.batch)
        assert "is more than the CRM can hold as an amount" in reasons[152]
        assert reasons[153] == "A negative amount, price or quantity: the deal is left out."


def test_a_header_row_beyond_the_sheet_and_a_hand_edited_archive_are_explained() -> None:
    import json
    import zipfile

    from onboarding.archive import read_manifest
    from onboarding.importing.errors import UnreadableFile
    from onboarding.importing.sources import inspect

    sheet = messy_xlsx()
    with pytest.raises(UnreadableFile) as error:
        inspect(io.BytesIO(sheet), size=len(sheet), limit_mb=10, header_row=500)
    assert error.value.code == "header_out_of_reach"
    for manifest in (
        {"format": "relata-export", "version": "abc", "entities": {}},
        {"format": "relata-export", "version": 1, "entities": []},
        {"format": "relata-export", "version": 1, "entities": {"client": {}}},
        [1, 2],
    ):
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as out:
            out.writestr("relata.json", json.dumps(manifest))
        archive.seek(0)
        with pytest.raises(UnreadableFile):
            read_manifest(archive)


def test_people_listed_below_their_company_with_its_name_cell_merged_are_its_contacts(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    sheet = _xlsx(
        [
            ["Клиент", "ИНН", "Контактное лицо", "Телефон"],
            ["ООО Ромашка", "7707083893", "Иванов Иван", "+7 916 111-22-33"],
            [None, None, "Петров Пётр", "+7 916 222-33-44"],
            ["ООО Без ИНН", None, "Сидорова Анна", "+7 916 333-44-55"],
            [None, None, "Орлов Олег", "+7 916 444-55-66"],
            [],
            [None, None, "Частное Лицо", "+7 916 555-66-77"],  # after a blank row
        ],
        merged="A2:A3",  # as Excel lists a company's people
    )
    with a:
        report = run_import(a.company, a.owner, sheet, "people.xlsx")
        people = {
            client: sorted(
                f"{c.last_name} {c.first_name}"
                for c in Client.objects.get(name=client).contacts.all()
            )
            for client in Client.objects.values_list("name", flat=True)
        }
        assert people == {
            "ООО Ромашка": ["Иванов Иван", "Петров Пётр"],
            "ООО Без ИНН": ["Орлов Олег", "Сидорова Анна"],
            "Частное Лицо": ["Частное Лицо"],
        }
        outcomes = {r.row: (r.outcome, r.reason) for r in report.rows}
        assert outcomes[3] == (
            "merged",
            "One more contact person of the client in row 2 (its name cell is empty).",
        )
        assert outcomes[5][0] == "merged"
        assert set(
            Phone.objects.filter(contact__last_name="Петров").values_list("e164", flat=True)
        ) == {"+79162223344"}
        # Importing the same sheet again changes nothing.
        again = run_import(a.company, a.owner, sheet, "people.xlsx")
        assert again.counts.get("created", 0) == 0
        assert Client.objects.count() == 3


def test_one_inn_kpp_column_as_1c_reports_print_it(make_company: Any) -> None:
    a = make_company("Alpha")
    data = excel_csv([["Контрагент", "ИНН/КПП"], ["ООО Ромашка", "7707083893 / 773601001"]])
    with a:
        report = run_import(a.company, a.owner, data, "1c-report.csv")
        assert report.batch.mapping["инн кпп"] == "inn"
        assert list(Client.objects.values_list("inn", "kpp", "inn_status")) == [
            ("7707083893", "773601001", "valid")
        ]


def test_the_import_s_quick_e_mail_check_accepts_only_what_django_accepts() -> None:
    # The import takes everyday addresses without Django's validator; it must never let
    # through anything that validator refuses (the rest still goes through it).
    import random

    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    pieces = [
        "a",
        "Z",
        "0",
        "9",
        ".",
        "..",
        "-",
        "_",
        "+",
        "@",
        "é",
        "я",
        " ",
        '"',
        "ru",
        "xn--p1ai",
    ]
    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    taken = 0
    for _ in range(20_000):
        address = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.5:
            address = (
                f"{address}@{rng.choice(['example.ru', 'ex-ample.com', '-x.ru', 'x.r', 'a.b-'])}"
            )
        if engine._PLAIN_EMAIL.fullmatch(address):
            taken += 1
            try:
                validate_email(address)
            except ValidationError:
                pytest.fail(f"{address!r} is taken by the quick check but refused by Django")
    assert taken > 200  # the check was really exercised
    for everyday in ("ivanov.123@example.ru", "Sales+1C@Romashka-Trade.COM", "a_b@x.y.org"):
        assert engine._PLAIN_EMAIL.fullmatch(everyday)
    for other in ("иван@почта.рф", "a..b@x.ru", ".a@x.ru", "a@-x.ru", "a@x.r", "a@x", "a b@x.ru"):
        assert not engine._PLAIN_EMAIL.fullmatch(other)


def test_phones_typed_in_fullwidth_digits_are_stored_in_ascii(make_company: Any) -> None:
    # A digit to Python's \d is not always one to E.164: such a number takes phonenumbers'
    # way (which maps it), not the importer's quick one.
    a = make_company("Alpha")
    data = excel_csv(
        [
            ["Клиент", "Телефон"],
            ["ООО Север", "\uff18 \uff19\uff11\uff16 \uff11\uff12\uff13 \uff14\uff15 \uff16\uff17"],
        ]
    )
    with a:
        run_import(a.company, a.owner, data, "wide.csv")
        assert list(Phone.objects.values_list("e164", flat=True)) == ["+79161234567"]


def test_a_deal_without_a_title_is_named_after_its_client_declined(make_company: Any) -> None:
    from django.utils import translation

    a = make_company("Склонения")
    with a, translation.override("ru"):
        data = excel_csv([["Клиент", "Сумма сделки"], ["Орлов Георгий", "1000"]])
        run_import(a.company, a.owner, data, "deals.csv")
        assert Deal.objects.get().title == "Сделка с Георгием Орловым"
