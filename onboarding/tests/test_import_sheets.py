"""Excel and CSV files as people really keep them: normalised, deduped, reported row by row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_core.models import Client, Contact, Deal, Phone
from crm_core.services.clients import ClientInput, create_client
from onboarding.importing.errors import UnreadableFile
from onboarding.models import ImportBatch, ImportRowNote
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import csv_bytes, messy_xlsx, xls_bytes
from tenants.models import Membership

pytestmark = pytest.mark.usefixtures("media_root")


def _outcomes(report: Any) -> dict[int, str]:
    return {r.row: r.outcome for r in report.rows}


def test_messy_xlsx_is_read_normalised_and_accounted_for(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        batch = report.batch
        assert (batch.file_format, batch.header_row) == ("xlsx", 3)
        assert batch.mapping == {
            "наименование": "name",
            "инн": "inn",
            "кпп": "kpp",
            "телефоны": "phone",
            "e-mail": "email",
            "контактное лицо": "contact_name",
            "сумма сделки": "deal_amount",
            "дата": "deal_date",
        }
        # Rows 4, 5, 6, 10, 11 create clients; 8 merges into 4; 9 has no name; the blank
        # row 7 and the totals row 12 are skipped.
        assert report.counts["rows"] == 7
        assert report.counts["created"] == 5
        assert report.counts["merged"] == 1
        assert report.counts["rejected"] == 1
        notes = {n.row: n for n in ImportRowNote.objects.filter(batch=batch)}
        assert notes[9].outcome == "rejected"
        assert notes[9].reason == "The row has no client name."
        assert notes[8].outcome == "merged"
        assert "Same client as row 4" in notes[8].reason
        assert 12 not in notes
        assert 7 not in notes

        romashka = Client.objects.get(inn="7707083893")
        assert romashka.name == 'ООО "Ромашка"'
        assert (romashka.kpp, romashka.inn_status) == ("773601001", "valid")
        people = {str(c): c for c in Contact.objects.filter(client=romashka)}
        # The company's phones stay on the company; its one e-mail column, beside a named
        # contact person and no e-mail column of the person's own, is the person's (as the
        # client form files it).
        assert set(people) == {"Иванов Иван Иванович", "Петров Пётр"}
        assert people["Иванов Иван Иванович"].emails == ["info@romashka.ru"]
        assert not Phone.objects.filter(contact__client=romashka).exists()
        phones = sorted(
            Phone.objects.filter(client=romashka).values_list("e164", "extension", "raw")
        )
        assert phones == [
            ("+74951234567", "12", "8 (495) 123-45-67 доб. 12"),
            ("+79161112233", "", "+7 916 111-22-33"),
        ]
        deal = Deal.objects.get(client=romashka)
        assert deal.amount == Decimal("1234.56")
        assert deal.created_at.date().isoformat() == "2026-03-05"

        steel = Client.objects.get(name="Башкирская сталь")
        assert (steel.inn, steel.inn_status) == ("0235792851", "valid")  # zero restored
        assert list(steel.phones.values_list("e164", flat=True)) == ["+79161234567"]

        alatau = Client.objects.get(name="ТОО Алатау")
        assert (alatau.inn, alatau.inn_status) == ("181620360057", "foreign")
        assert list(alatau.phones.values_list("e164", flat=True)) == ["+77012345678"]
        assert "not a valid Russian INN" in notes[6].reason

        sidorov = Client.objects.get(name="ИП Сидоров")
        assert sidorov.kind == Client.Kind.SOLE_TRADER
        # What could not be read stays with the client as typed (and shows on its card).
        assert sidorov.custom == {
            "unrecognised_phones": ["not a phone"],
            "unrecognised_emails": ["sidorov@"],
        }
        assert not sidorov.contacts.exists()  # no blank contact person for a bad e-mail
        assert "sidorov@ is not an e-mail address: kept as text" in notes[10].reason

        # The formula was read by its value.
        assert Deal.objects.get(client__name="Формула и Ко").amount == Decimal("2469.12")
        assert not Client.objects.filter(name="Итого").exists()


def test_reimporting_the_same_sheet_changes_nothing(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        before = _snapshot()
        again = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        assert _snapshot() == before
        assert again.counts.get("created", 0) == 0
        assert again.counts.get("updated", 0) == 0
        assert again.counts["unchanged"] == 6
        assert again.counts["rejected"] == 1


def test_dry_run_reports_per_row_and_writes_nothing(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx", dry_run=True)
        assert _outcomes(report) == {
            4: "created",
            5: "created",
            6: "created",
            8: "merged",
            9: "rejected",
            10: "created",
            11: "created",
        }
        assert Client.objects.count() == 0
        assert Deal.objects.count() == 0
        real = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        assert {k: real.counts[k] for k in ("created", "merged", "rejected")} == {
            k: report.counts[k] for k in ("created", "merged", "rejected")
        }


def test_dedupe_against_the_base_by_inn_kpp_phone_and_email(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        by_inn = create_client(
            membership=owner,
            company=a.company,
            data=ClientInput(name="Ромашка (старая запись)", inn="7707083893", kpp="773601001"),
        )
        by_phone = create_client(
            membership=owner,
            company=a.company,
            data=ClientInput(name="Сталь", phones=["+7 916 123-45-67"]),
        )
        by_email = create_client(
            membership=owner,
            company=a.company,
            data=ClientInput(name="Сидоров", email="ivan@sidorov.ru", contact_name="Сидоров Иван"),
        )
        data = csv_bytes(
            [
                ["Компания", "ИНН", "КПП", "Телефон", "Email", "Адрес"],
                ["Ромашка", "7707083893", "773601001", "", "", "Москва, ул. Ленина, 1"],
                ["Сталь-М", "", "", "8 916 123 45 67", "", ""],
                ["ИП Сидоров И.", "", "", "", "IVAN@sidorov.ru", ""],
            ],
            encoding="utf-8",
            delimiter=",",
        )
        report = run_import(a.company, a.owner, data, "base.csv")
        assert Client.objects.count() == 3
        assert report.counts["updated"] == 1  # the address was empty: filled
        assert report.counts["unchanged"] == 2
        by_inn.refresh_from_db()
        assert by_inn.name == "Ромашка (старая запись)"  # a match never renames
        assert by_inn.legal_address == "Москва, ул. Ленина, 1"
        assert {n.row: n.reason for n in ImportRowNote.objects.all()} == {
            2: "Matched an existing client by INN/KPP.",
            3: "Matched an existing client by phone.",
            4: "Matched an existing client by e-mail.",
        }
        assert set(Client.objects.values_list("id", flat=True)) == {
            by_inn.pk,
            by_phone.pk,
            by_email.pk,
        }
        # Undo restores the address and keeps the clients the import did not create.
        undo_batch(report.batch)
        by_inn.refresh_from_db()
        assert by_inn.legal_address == ""
        assert Client.objects.count() == 3


def test_a_match_adds_new_contact_persons_and_phones_and_undo_removes_only_those(
    make_company: Any,
) -> None:
    a = make_company("Alpha")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        existing = create_client(
            membership=owner,
            company=a.company,
            data=ClientInput(name="Ромашка", inn="7707083893", contact_name="Иванов Иван"),
        )
        data = csv_bytes(
            [
                ["Наименование", "ИНН", "Контактное лицо", "Телефон"],
                ["Ромашка", "7707083893", "Петров Пётр", "+7 916 555-44-33"],
                ["Лютик", "", "", "+7 916 555-44-34"],
            ],
            encoding="utf-8",
            delimiter=";",
        )
        report = run_import(a.company, a.owner, data, "more.csv")
        assert report.counts["updated"] == 1
        assert report.counts["created"] == 1
        assert sorted(str(c) for c in existing.contacts.all()) == ["Иванов Иван", "Петров Пётр"]
        undo_batch(report.batch)
        assert [str(c) for c in existing.contacts.all()] == ["Иванов Иван"]
        assert not Phone.objects.filter(e164="+79165554433").exists()
        assert list(Client.objects.values_list("name", flat=True)) == ["Ромашка"]
        report.batch.refresh_from_db()
        assert report.batch.status == ImportBatch.Status.UNDONE


def test_undo_of_a_whole_import(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        assert Client.objects.count() == 5
        undo_batch(report.batch)
        assert Client.objects.count() == 0
        assert Contact.objects.count() == 0
        assert Phone.objects.count() == 0
        assert Deal.objects.count() == 0
        # Imported again after the undo, everything comes back (the undone batch's
        # 1C-id mapping no longer counts).
        again = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        assert again.counts["created"] == 5


def test_windows_1251_csv_with_semicolons_and_quoted_line_breaks(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        data = csv_bytes(
            [
                ["Клиент", "Телефон", "Юридический адрес"],
                ["ООО Вектор", "+7 (812) 555-01-01", "Санкт-Петербург;\nНевский пр., 1"],
                ["ООО Берёза", "8-812-555-01-02", ""],
            ],
            encoding="cp1251",
            delimiter=";",
        )
        report = run_import(a.company, a.owner, data, "export.csv")
        assert report.batch.encoding == "cp1251"
        vector = Client.objects.get(name="ООО Вектор")
        assert vector.legal_address == "Санкт-Петербург; Невский пр., 1"
        assert Client.objects.filter(name="ООО Берёза").exists()


def test_utf8_bom_csv_with_commas(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        data = csv_bytes(
            [["Name", "Phone", "E-mail"], ["Acme, Inc.", "+7 495 000-11-22", "A@Acme.com"]],
            encoding="utf-8-sig",
            delimiter=",",
        )
        report = run_import(a.company, a.owner, data, "crm.csv")
        assert report.batch.encoding == "utf-8-sig"
        acme = Client.objects.get()
        assert acme.name == "Acme, Inc."
        assert acme.contacts.get().emails == ["a@acme.com"]


def test_xls_with_excel_dates(make_company: Any) -> None:
    import datetime as dt

    a = make_company("Alpha")
    with a:
        data = xls_bytes(
            [
                ["Наименование", "ИНН", "Сумма", "Дата"],
                ["ООО Старый Excel", 7707083893.0, 1500.5, dt.datetime(2025, 12, 31)],
            ]
        )
        # A bare «Сумма» makes deals only when asked for (it may be a debt).
        report = run_import(a.company, a.owner, data, "old.xls", options={"deals": True})
        assert report.batch.file_format == "xls"
        client = Client.objects.get()
        assert client.inn == "7707083893"
        deal = Deal.objects.get()
        assert deal.amount == Decimal("1500.50")
        assert deal.created_at.date().isoformat() == "2025-12-31"


def test_a_saved_mapping_overrides_the_suggestion(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        data = csv_bytes(
            [["Кто", "Куда звонить"], ["ООО Без Заголовков", "+7 495 111-22-33"]],
            encoding="utf-8",
            delimiter=",",
        )
        run_import(
            a.company, a.owner, data, "odd.csv", mapping={"кто": "name", "куда звонить": "phone"}
        )
        client = Client.objects.get()
        assert client.name == "ООО Без Заголовков"
        assert list(client.phones.values_list("e164", flat=True)) == ["+74951112233"]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.xlsx", "The file is empty."),
        (b"   \r\n", "blank.csv", "The file is empty."),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\x00" * 100
            + "EncryptedPackage".encode("utf-16-le")
            + b"\x00" * 400,
            "secret.xlsx",
            "protected with a password",
        ),
        (b"%PDF-1.4\n\x00\x01\x02binary", "scan.pdf", "not a spreadsheet"),
        (b"PK\x03\x04garbage-not-a-zip", "broken.xlsx", "damaged"),
        (b"<html><body>hi</body></html>", "page.xml", "not a spreadsheet"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "photo.png", "not a spreadsheet"),
    ],
)
def test_unreadable_files_get_a_clear_reason_and_leave_nothing(
    make_company: Any, data: bytes, name: str, message: str
) -> None:
    a = make_company("Alpha")
    with a:
        with pytest.raises(UnreadableFile) as error:
            run_import(a.company, a.owner, data, name)
        assert message in error.value.message
        assert ImportBatch.objects.count() == 0
        assert Client.objects.count() == 0


def test_a_file_over_the_limit_is_refused(make_company: Any, settings: Any) -> None:
    settings.MAX_IMPORT_MB = 1
    a = make_company("Alpha")
    with a:
        data = b"Name\n" + b"x" * (1024 * 1024 + 1)
        with pytest.raises(UnreadableFile) as error:
            run_import(a.company, a.owner, data, "huge.csv")
        assert "larger than the 1 MB" in error.value.message


def test_an_xml_file_broken_half_way_leaves_no_partial_data(
    make_company: Any, monkeypatch: Any
) -> None:
    from onboarding.importing import engine

    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    parties = "".join(
        f"<Контрагент><Ид>id-{i}</Ид><Наименование>Клиент {i}</Наименование></Контрагент>"
        for i in range(6)
    )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<КоммерческаяИнформация ВерсияСхемы="2.05"><Контрагенты>{parties}'
    )
    # Valid through the first records, then cut off: the inspection reads it all first.
    data = (head + "<Контрагент><Ид>x</Ид><Наим").encode()
    a = make_company("Alpha")
    with a:
        with pytest.raises(UnreadableFile) as error:
            run_import(a.company, a.owner, data, "cut.xml")
        assert "damaged" in error.value.message
        assert Client.objects.count() == 0


def _snapshot() -> tuple[Any, ...]:
    return (
        sorted(Client.objects.values_list("id", "name", "inn", "kpp", "legal_address", "custom")),
        sorted(Contact.objects.values_list("id", "last_name", "emails")),
        sorted(Phone.objects.values_list("id", "e164")),
        sorted(Deal.objects.values_list("id", "title", "amount")),
    )


def test_one_switchboard_with_different_extensions_is_not_one_client(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        data = csv_bytes(
            [
                ["Наименование", "Телефон"],
                ["ООО Первый этаж", "8 (495) 123-45-67 доб. 101"],
                ["ООО Второй этаж", "8 (495) 123-45-67 доб. 202"],
                ["ООО Второй этаж (дубль)", "+7 495 123 45 67 доб. 202"],
            ],
            encoding="utf-8",
            delimiter=";",
        )
        report = run_import(a.company, a.owner, data, "bc.csv")
        assert report.counts["created"] == 2
        assert report.counts["merged"] == 1
        assert sorted(Client.objects.values_list("name", flat=True)) == [
            "ООО Второй этаж",
            "ООО Первый этаж",
        ]


def test_written_clients_leave_memory_between_chunks_and_still_dedupe(
    make_company: Any, monkeypatch: Any
) -> None:
    # A million-row file must not hold every client it made until the end: with a tiny memory
    # budget, a row matching a client written chunks earlier loads it back from the database.
    from onboarding.importing import engine

    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    monkeypatch.setattr(engine, "TARGETS_KEPT", 1)
    monkeypatch.setattr(engine, "PHONES_CACHED", 1)
    rows = [
        ["Наименование", "ИНН", "Телефон", "Контактное лицо", "E-mail"],
        ["ООО Ромашка", "7707083893", "8 916 123-45-67", "Петров Иван", "ivan@romashka.ru"],
        ["ООО Берёзка", "", "8 495 765-43-21", "Сидоров Пётр", ""],
        ["ИП Клён", "", "", "", "klen@example.ru"],
        ["ООО Ясень", "", "8 903 111-22-33", "", ""],
        # Chunks later: the same companies by INN, by phone, by e-mail, with a new person.
        ["Ромашка", "7707083893", "", "Кузнецова Анна", ""],
        ["Берёзка ООО", "", "+7 (495) 765-43-21", "", ""],
        ["Клён", "", "", "", "KLEN@example.ru"],
    ]
    data = csv_bytes(rows, encoding="utf-8", delimiter=";")
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, data, "clients.csv")
        assert report.counts["created"] == 4
        assert report.counts["merged"] == 3
        assert Client.objects.count() == 4
        romashka = Client.objects.get(inn="7707083893")
        assert sorted(
            Contact.objects.filter(client=romashka).values_list("last_name", flat=True)
        ) == [
            "Кузнецова",
            "Петров",
        ]
        before = _snapshot()
        again = run_import(a.company, a.owner, data, "clients.csv")
        assert again.counts.get("created", 0) == 0
        assert _snapshot() == before


def test_dedupe_keys_are_looked_up_per_chunk_not_held_for_the_whole_base(
    make_company: Any, monkeypatch: Any
) -> None:
    # The key -> client indexes hold only what the current chunk's rows need: matches against
    # the existing base and against rows written chunks earlier come from the database.
    from onboarding.importing import engine

    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    monkeypatch.setattr(engine, "_ANALYZE_AFTER", 1)  # statistics refreshed as it grows
    sizes: list[int] = []
    settle = engine.Importer._settle

    def measured(self: Any, plan: Any) -> None:
        settle(self, plan)
        sizes.append(len(self.by_inn) + len(self.by_phone) + len(self.by_email))

    monkeypatch.setattr(engine.Importer, "_settle", measured)
    a = make_company("Alpha")
    with a:
        owner = Membership.objects.get(company=a.company, user=a.owner)
        for i in range(30):
            create_client(
                membership=owner,
                company=a.company,
                data=ClientInput(name=f"Старый клиент {i}", phones=[f"+7 916 000-00-{i:02d}"]),
            )
        base = create_client(
            membership=owner,
            company=a.company,
            data=ClientInput(name="ООО Старожил", email="old@base.ru"),
        )
        rows = [
            ["Наименование", "ИНН", "Телефон", "E-mail"],
            ["ООО Новый", "7707083893", "", ""],
            ["Без реквизитов", "", "", ""],
            ["Старожил", "", "", "OLD@base.ru"],  # the base, by e-mail
            ["Клиент по телефону", "", "+7 916 000-00-07", ""],  # the base, by phone
            ["Новый (дубль)", "7707083893", "", ""],  # row 1, two chunks later, by INN
            ["без   реквизитов", "", "", ""],  # row 2, by name only
        ]
        report = run_import(
            a.company, a.owner, csv_bytes(rows, encoding="utf-8", delimiter=";"), "c.csv"
        )
        assert report.counts["created"] == 2
        assert report.counts["merged"] == 2
        assert report.counts["unchanged"] == 2
        assert Client.objects.filter(name="ООО Новый").count() == 1
        assert Client.objects.filter(name="Без реквизитов").count() == 1
        assert Client.objects.count() == 33
        assert base.pk == Client.objects.get(contacts__emails__contains=["old@base.ru"]).pk
        # Never the whole base (31 clients with 31 phones and e-mails): one chunk's keys.
        assert max(sizes) <= 2


def test_a_large_xlsx_is_streamed_and_reads_the_same_as_a_small_one(
    make_company: Any, monkeypatch: Any
) -> None:
    # Above LARGE_XLSX_BYTES the sheet is streamed with openpyxl (calamine holds it all in
    # memory); the rows, and so the import, must be the same either way.
    import io

    from onboarding.importing import tabular

    data = messy_xlsx()

    def rows() -> list[list[Any]]:
        read = tabular.raw_rows(io.BytesIO(data), "xlsx", sheet="Клиенты")
        trimmed = []
        for row in read:
            cells = list(row)
            while cells and cells[-1] is None:
                cells.pop()
            trimmed.append(cells)
        return trimmed

    loaded = rows()
    _head, loaded_estimate = tabular.head_and_estimate(
        io.BytesIO(data), "xlsx", encoding="", sheet="Клиенты", limit=5
    )
    monkeypatch.setattr(tabular, "LARGE_XLSX_BYTES", 0)
    streamed = rows()
    _head, streamed_estimate = tabular.head_and_estimate(
        io.BytesIO(data), "xlsx", encoding="", sheet="Клиенты", limit=5
    )
    # Counted from the sheet's XML (blank rows are not in it), so close, not exact.
    assert abs(streamed_estimate - loaded_estimate) <= 2
    assert streamed == loaded
    assert [type(v) for v in streamed[3]] == [type(v) for v in loaded[3]]
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, data, "clients.xlsx")
        assert report.batch.header_row == 3
        assert (report.counts["rows"], report.counts["created"], report.counts["merged"]) == (
            7,
            5,
            1,
        )


def test_a_streamed_sheet_opens_from_its_head_with_or_without_a_declared_size(
    monkeypatch: Any,
) -> None:
    # openpyxl alone parses a whole sheet that declares no size just to open it; the size is
    # read from the sheet's head instead: declared -> exact, missing -> estimated from the XML.
    import io

    import openpyxl

    from onboarding.importing import tabular

    monkeypatch.setattr(tabular, "LARGE_XLSX_BYTES", 0)
    rows = [["Наименование", "Телефон"]] + [
        [f"Клиент {i}", f"+7 916 100-{i:04d}"] for i in range(300)
    ]
    files = {}
    for write_only in (False, True):
        book = openpyxl.Workbook(write_only=write_only)
        sheet = book.create_sheet("Лист") if write_only else book.active
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        files[write_only] = out.getvalue()
    declared, undeclared = files[False], files[True]
    for data in (declared, undeclared):
        read = [list(r) for r in tabular.raw_rows(io.BytesIO(data), "xlsx")]
        assert read == rows
    _head, exact = tabular.head_and_estimate(
        io.BytesIO(declared), "xlsx", encoding="", sheet="", limit=5
    )
    assert exact == 301
    _head, estimated = tabular.head_and_estimate(
        io.BytesIO(undeclared), "xlsx", encoding="", sheet="", limit=5
    )
    assert 250 <= estimated <= 350
    # Opening does not read the sheet through: a sheet cut off near its end still opens and
    # shows its first rows (openpyxl's own look-up would fail on it at once).
    import zipfile

    cut = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(undeclared)) as source, zipfile.ZipFile(cut, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = content[: len(content) * 3 // 4]
            target.writestr(item, content)
    head, _estimate = tabular.head_and_estimate(cut, "xlsx", encoding="", sheet="", limit=5)
    assert [list(r) for r in head] == rows[:5]


def test_a_password_protected_workbook_is_refused_as_encrypted(make_company: Any) -> None:
    # Excel wraps a protected workbook in an OLE container with an "EncryptedPackage" stream.
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504
    data = ole + "EncryptedPackage".encode("utf-16-le") + b"\0" * 3000
    a = make_company("Alpha")
    with a:
        for name in ("clients.xlsx", "clients.xls"):
            with pytest.raises(UnreadableFile) as error:
                run_import(a.company, a.owner, data, name)
            assert (
                "password" in error.value.message.lower()
                or "encrypt" in error.value.message.lower()
            )
        assert Client.objects.count() == 0
