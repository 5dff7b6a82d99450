"""The import wizard on the company host: upload → mapping → preview → import → report → undo."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_core.models import Client
from onboarding.models import ImportBatch, ImportTemplate
from onboarding.tests.helpers import run_import
from onboarding.tests.sheets import messy_xlsx
from relata.celery import app
from tenants.models import Membership, User
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def eager() -> Iterator[None]:
    """Tasks run in the request, in its company's schema (the worker path has its own tests)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _upload(browser: Any, host: str, data: bytes, name: str) -> Any:
    return browser.post(
        "/import/",
        {"file": SimpleUploadedFile(name, data)},
        HTTP_HOST=host,
    )


def test_the_whole_wizard(make_company: Any, eager: None) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = _upload(browser, a.host, messy_xlsx(), "clients.xlsx")
    assert response.status_code == 302
    with a:
        preview = ImportBatch.objects.get()
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert "xlsx" in page
    assert 'name="header_row" value="3"' in page
    assert "Иванов Иван Иванович" in page  # first values of the contact column
    # The suggested mapping comes back as the form's initial values: submit it as it is,
    # saving it as a template.
    form = {"sheet": "Клиенты", "header_row": "3", "save_as": "Наш Excel"}
    fields = ["name", "inn", "kpp", "phone", "email", "contact_name", "deal_amount", "deal_date"]
    form.update({f"col_{i}": f for i, f in enumerate(fields)})
    response = browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host)
    assert response.status_code == 302
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    # The request was in Russian (the default): the worker wrote the reasons in it.
    assert "В строке нет названия клиента." in page
    # What each row said, in the file's column order (not jsonb's key order).
    assert "наименование: ИП Сидоров; телефоны: not a phone; e-mail: sidorov@" in page
    with a:
        assert Client.objects.count() == 0  # a preview writes nothing
        assert ImportTemplate.objects.get().name == "Наш Excel"
    response = browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    assert response.status_code == 302
    with a:
        batch = ImportBatch.objects.get(dry_run=False)
        assert batch.status == "done"
        assert Client.objects.count() == 5
    progress = browser.get(f"/import/{batch.pk}/progress/", HTTP_HOST=a.host)
    assert progress["HX-Refresh"] == "true"
    report = browser.get(f"/import/{batch.pk}/report.xlsx", HTTP_HOST=a.host)
    sheet = openpyxl.load_workbook(io.BytesIO(report.content)).active
    header, *lines = sheet.iter_rows(values_only=True)
    rows = {r[0]: r for r in lines}
    assert rows[9][2] == "В строке нет названия клиента."
    assert rows[8][2] == "Тот же клиент, что в строке 4 (совпадение по ИНН и КПП)."
    # The file's own columns follow, so the rows can be fixed and imported again.
    assert header[:5] == ("Строка", "Результат", "Причина", "наименование", "инн")
    assert rows[8][3:6] == ('ООО "Ромашка"', "7707083893", "773601001")
    listing = browser.get("/import/", HTTP_HOST=a.host).content.decode()
    assert "clients.xlsx" in listing
    # Asked first: neither opening the undo nor a POST that does not confirm undoes anything.
    asked = browser.get(f"/import/{batch.pk}/undo/", HTTP_HOST=a.host)
    assert asked.status_code == 200
    assert 'id="undo-confirm"' in asked.content.decode()
    unconfirmed = browser.post(f"/import/{batch.pk}/undo/", HTTP_HOST=a.host)
    assert unconfirmed.status_code == 200
    with a:
        assert Client.objects.count() == 5
        assert ImportBatch.objects.get(pk=batch.pk).status == "done"
    response = browser.post(f"/import/{batch.pk}/undo/", {"confirm": "1"}, HTTP_HOST=a.host)
    assert response.status_code == 302
    with a:
        assert Client.objects.count() == 0
        assert ImportBatch.objects.get(pk=batch.pk).status == "undone"


def test_an_import_can_be_undone_for_30_days_and_not_after(make_company: Any, eager: None) -> None:
    import datetime as dt

    from django.utils import timezone

    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    with a:
        batch = run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx").batch
        ImportBatch.objects.filter(pk=batch.pk).update(
            created_at=timezone.now() - dt.timedelta(days=29, hours=23)
        )
    page = browser.get(f"/import/{batch.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="undo-submit"' in page
    with a:
        ImportBatch.objects.filter(pk=batch.pk).update(
            created_at=timezone.now() - dt.timedelta(days=30, hours=1)
        )
    page = browser.get(f"/import/{batch.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="undo-submit"' not in page
    assert "Импорт можно отменить в течение 30 дней" in page
    response = browser.post(
        f"/import/{batch.pk}/undo/", {"confirm": "1"}, HTTP_HOST=a.host, follow=True
    )
    assert "Импорт можно отменить в течение 30 дней" in response.content.decode()
    with a:
        assert ImportBatch.objects.get(pk=batch.pk).status == "done"
        assert Client.objects.count() == 5


def test_an_unreadable_upload_is_answered_on_the_form(make_company: Any) -> None:
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    response = _upload(browser, a.host, b"%PDF-1.4\x00\x01", "scan.pdf")
    assert response.status_code == 200
    assert "не таблица и не файл обмена 1С" in response.content.decode()


def test_a_1c_file_goes_straight_to_its_preview(make_company: Any, eager: None) -> None:
    from onboarding.tests.helpers import fixture_1c

    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    data = fixture_1c("ArgentCrusade-commerceml/documents-example.xml").read_bytes()
    response = _upload(browser, a.host, data, "documents.xml")
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert "commerceml" in page
    assert "Заказ товара № 235 от 29.06.2015" in page


def test_managers_and_other_companies_see_no_import_pages(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    with a:
        from onboarding.services.imports import create_batch

        batch = create_batch(user_id=a.owner.pk, file=io.BytesIO(messy_xlsx()), file_name="a.xlsx")
    manager = User.objects.create_user(email="manager@example.com", password="Member-Pass-991")
    Membership.objects.create(user=manager, company=a.company, role="manager")
    as_manager = login_on_host(manager, a.company, a.host)
    for path in ("/import/", f"/import/{batch.pk}/", f"/import/{batch.pk}/report.xlsx"):
        assert as_manager.get(path, HTTP_HOST=a.host).status_code == 404, path
    assert as_manager.post(f"/import/{batch.pk}/undo/", HTTP_HOST=a.host).status_code == 404
    # B's owner, on B's host, cannot reach A's batch by its id.
    as_b = login_on_host(b.owner, b.company, b.host)
    assert as_b.get("/import/", HTTP_HOST=b.host).status_code == 200
    for path in (f"/import/{batch.pk}/", f"/import/{batch.pk}/report.xlsx"):
        assert as_b.get(path, HTTP_HOST=b.host).status_code == 404, path
    assert "a.xlsx" not in as_b.get("/import/", HTTP_HOST=b.host).content.decode()


def test_a_broker_outage_does_not_break_the_wizard(make_company: Any, monkeypatch: Any) -> None:
    """Redis down: the upload is answered, and the batch waits for the stalled-batch beat."""
    import kombu.exceptions

    from onboarding.services.imports import stalled_batches
    from onboarding.tasks import run_import

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(run_import, "delay", broker_down)
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    from onboarding.tests.helpers import fixture_1c

    data = fixture_1c("ArgentCrusade-commerceml/contractors-example.xml").read_bytes()
    response = _upload(browser, a.host, data, "contractors.xml")
    assert response.status_code == 302
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert "import-progress" in page
    with a:
        batch = ImportBatch.objects.get()
        assert batch.status == "running"
        ImportBatch.objects.filter(pk=batch.pk).update(
            heartbeat_at=batch.created_at.replace(year=2000)
        )
        assert [b.pk for b in stalled_batches()] == [batch.pk]


def test_a_large_file_is_previewed_in_part_and_imported_whole(
    make_company: Any, eager: None, monkeypatch: Any
) -> None:
    # A preview holds what it would create in memory: on a very large file it checks the
    # first rows, says so, and the import itself goes through every row.
    from onboarding.importing import engine
    from onboarding.tests.sheets import csv_bytes

    monkeypatch.setattr(engine, "PREVIEW_ROWS", 4)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    rows = [["Наименование", "Телефон"]] + [
        [f"ООО Клиент {i}", f"+7 916 200-00-{i:02d}"] for i in range(10)
    ]
    a = make_company("Alpha")
    browser = login_on_host(a.owner, a.company, a.host)
    upload = _upload(browser, a.host, csv_bytes(rows, encoding="utf-8", delimiter=";"), "c.csv")
    assert upload.status_code == 302
    with a:
        preview = ImportBatch.objects.get()
    form = {"sheet": "", "header_row": "1", "col_0": "name", "col_1": "phone"}
    browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host)
    with a:
        preview.refresh_from_db()
        assert preview.status == "done"
        assert (preview.counts["rows"], preview.counts["created"]) == (4, 4)
        assert preview.counts["preview_limit"] == 4
        assert Client.objects.count() == 0
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="preview-limit"' in page
    assert "первые 4 строк" in page
    browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    with a:
        batch = ImportBatch.objects.get(dry_run=False)
        assert batch.status == "done"
        assert (batch.counts["rows"], batch.counts["created"]) == (10, 10)
        assert Client.objects.count() == 10


def test_dates_that_read_both_ways_are_asked_about(make_company: Any, eager: None) -> None:
    from crm_core.models import Deal
    from onboarding.tests.sheets import excel_csv

    a = make_company("Alpha")
    data = excel_csv(
        [
            ["Клиент", "Сделка", "Сумма сделки", "Дата сделки"],
            ["ООО Север", "Окна", "1000", "03.04.2026"],
            ["ООО Юг", "Двери", "2000", "05.06.2026"],
        ]
    )
    browser = login_on_host(a.owner, a.company, a.host)
    response = _upload(browser, a.host, data, "deals.csv")
    with a:
        preview = ImportBatch.objects.get()
        assert preview.date_order == "dmy"
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    # Nothing in the file tells 3 April from 4 March: asked with the file's own date.
    assert "Дату 03.04.2026 можно прочитать двояко" in page
    assert "сначала день: 03.04.2026 — это 3 апреля 2026" in page
    assert "сначала месяц: 03.04.2026 — это 4 марта 2026" in page
    form = {"sheet": "", "header_row": "1", "date_order": "mdy"}
    form.update(
        {f"col_{i}": f for i, f in enumerate(["name", "deal_title", "deal_amount", "deal_date"])}
    )
    assert browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host).status_code == 302
    # The choice stays with the mapping page and goes on to the import itself.
    page = browser.get(f"/import/{preview.pk}/?remap=1", HTTP_HOST=a.host).content.decode()
    assert 'value="mdy" id="id_date_order_1" checked' in page
    browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    with a:
        assert ImportBatch.objects.get(dry_run=False).date_order == "mdy"
        dated = {
            n: d.date().isoformat()
            for n, d in Deal.objects.values_list("client__name", "created_at")
        }
    assert dated == {"ООО Север": "2026-03-04", "ООО Юг": "2026-05-06"}
    # A file whose dates tell their order is not asked about.
    response = _upload(
        browser,
        a.host,
        excel_csv([["Клиент", "Дата сделки"], ["ООО Запад", "25.03.2026"]]),
        "clear.csv",
    )
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert 'id="date-order"' in page
    assert 'id="date-order-open"' not in page


def test_what_the_import_could_not_read_shows_on_the_client_s_card(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    with a:
        run_import(a.company, a.owner, messy_xlsx(), "clients.xlsx")
        sidorov = Client.objects.get(name="ИП Сидоров")
    page = login_on_host(a.owner, a.company, a.host).get(
        f"/clients/{sidorov.pk}/", HTTP_HOST=a.host
    )
    text = page.content.decode()
    assert "Телефоны из импорта, не распознаны" in text
    assert "not a phone" in text
    assert "sidorov@" in text
    # The other company has no such client (ids are per schema: the same id is not Sidorov).
    other = login_on_host(b.owner, b.company, b.host).get(
        f"/clients/{sidorov.pk}/", HTTP_HOST=b.host
    )
    assert "not a phone" not in other.content.decode()


def test_a_saved_mapping_remembers_the_date_order_the_person_chose(
    make_company: Any, eager: None
) -> None:
    from onboarding.tests.sheets import excel_csv

    a, b = make_company("Alpha"), make_company("Beta")
    header = ["Клиент", "Сделка", "Сумма сделки", "Дата сделки"]
    open_file = excel_csv([header, ["ООО Север", "Окна", "1000", "03.04.2026"]])
    browser = login_on_host(a.owner, a.company, a.host)
    _upload(browser, a.host, open_file, "march.csv")
    with a:
        preview = ImportBatch.objects.get()
    form = {"sheet": "", "header_row": "1", "date_order": "mdy", "save_as": "Выгрузка US"}
    form.update(
        {f"col_{i}": f for i, f in enumerate(["name", "deal_title", "deal_amount", "deal_date"])}
    )
    assert browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host).status_code == 302
    with a:
        template = ImportTemplate.objects.get()
        assert (template.name, template.date_order) == ("Выгрузка US", "mdy")

    def upload_with_template(data: bytes) -> ImportBatch:
        response = browser.post(
            "/import/",
            {"file": SimpleUploadedFile("april.csv", data), "template": template.pk},
            HTTP_HOST=a.host,
        )
        assert response.status_code == 302
        with a:
            return ImportBatch.objects.filter(dry_run=True).latest("pk")

    # The next file of that export leaves the order open too: read month first, as chosen,
    # and the page's question starts from that answer.
    again = upload_with_template(excel_csv([header, ["ООО Юг", "Двери", "1", "05.06.2026"]]))
    assert (again.date_order, again.warnings) == ("mdy", [])
    page = browser.get(f"/import/{again.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'value="mdy" id="id_date_order_1" checked' in page
    # A file whose own dates tell the order is read as they tell.
    told = upload_with_template(excel_csv([header, ["ООО Запад", "Окна", "1", "25.03.2026"]]))
    assert told.date_order == "dmy"
    # A mapping saved from a file that tells its order keeps that order; one saved from a file
    # without typed deal dates keeps none (and does not wipe one saved before).
    form.update({"save_as": "Выгрузка RU", "date_order": ""})
    browser.post(f"/import/{told.pk}/preview/", form, HTTP_HOST=a.host)
    undated = upload_with_template(excel_csv([header, ["ООО Восток", "Окна", "1", ""]]))
    browser.post(f"/import/{undated.pk}/preview/", form, HTTP_HOST=a.host)
    form.update({"save_as": "Без дат"})
    browser.post(f"/import/{undated.pk}/preview/", form, HTTP_HOST=a.host)
    with a:
        saved = dict(ImportTemplate.objects.values_list("name", "date_order"))
    assert saved == {"Выгрузка US": "mdy", "Выгрузка RU": "dmy", "Без дат": ""}
    # Templates are the company's own: the other company has none to choose.
    with b:
        assert not ImportTemplate.objects.exists()
    other = login_on_host(b.owner, b.company, b.host)
    response = other.post(
        "/import/",
        {"file": SimpleUploadedFile("x.csv", open_file), "template": template.pk},
        HTTP_HOST=b.host,
    )
    assert response.status_code == 200
    assert "template" in response.context["form"].errors
