"""The switch through the wizard (the stage and owner step), another company's names never
matched, and bad rows said row by row with nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_core.models import Deal, Pipeline, Stage, Task
from onboarding.models import ImportBatch, ImportedRecord
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, as_xlsx, fixture, reshaped, rows_of
from onboarding.tests.test_switch_amocrm import add_member
from relata.celery import app
from tenants.models import Invitation
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def eager() -> Iterator[None]:
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_wizard_asks_for_stages_pipelines_and_people_then_imports(
    make_company: Any, eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    a = make_company("Alpha")
    with a:
        add_member(a.company, "anna@example.com", "Анна Смирнова")
        sales = Pipeline.objects.get(is_default=True)
        first = Stage.objects.filter(pipeline=sales).order_by("position").first()
        assert first is not None
    browser = login_on_host(a.owner, a.company, a.host)
    data = as_xlsx(rows_of("amocrm_deals_ru.csv"))
    response = browser.post(
        "/import/", {"file": SimpleUploadedFile("deals.xlsx", data)}, HTTP_HOST=a.host
    )
    assert response.status_code == 302
    page = browser.get(response["Location"], HTTP_HOST=a.host).content.decode()
    assert 'id="recognised-preset"' in page
    assert "amoCRM" in page
    with a:
        preview = ImportBatch.objects.get()
        assert preview.mapping["этап сделки"] == "deal_stage"
    form = {"sheet": preview.sheet, "header_row": "1", "deals": "yes"}
    form.update({f"col_{i}": preview.mapping.get(h, "") for i, h in enumerate(preview.columns)})
    assert browser.post(f"/import/{preview.pk}/preview/", form, HTTP_HOST=a.host).status_code == 302
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="switch-choices"' in page
    assert "Воронка" in page
    assert "Иван Петров" in page
    with a:
        preview.refresh_from_db()
        assert preview.options["preset"] == "amocrm_deals"  # kept through the mapping step
        pipelines = sorted(preview.unmatched["pipelines"])
        owners = sorted(preview.unmatched["owners"])
    choices = {f"pipeline_{pipelines.index('Воронка')}": str(sales.pk)}
    choices[f"pipeline_{pipelines.index('Сервис')}"] = "create"
    choices[f"owner_{owners.index('Иван Петров')}"] = "me"
    choices[f"invite_{owners.index('Иван Петров')}"] = "ivan@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/import/{preview.pk}/choices/", choices, HTTP_HOST=a.host)
    assert response.status_code == 302
    assert Invitation.objects.filter(company=a.company, email="ivan@example.com").exists()
    assert any("ivan@example.com" in m.to for m in mail.outbox)
    with a:
        preview.refresh_from_db()
        assert preview.status == "done"
        assert preview.options["pipelines"]["Воронка"] == str(sales.pk)
        # Now the stages of «Воронка» are the default pipeline's: two of them it has not.
        stages = sorted(preview.unmatched["stages"])
        assert stages == ["Воронка|Первичный контакт", "Воронка|Переговоры"]
    page = browser.get(f"/import/{preview.pk}/", HTTP_HOST=a.host).content.decode()
    assert 'id="switch-stages"' in page
    choices = {
        f"stage_{stages.index('Воронка|Первичный контакт')}": str(first.pk),
        f"stage_{stages.index('Воронка|Переговоры')}": "create",
    }
    assert (
        browser.post(f"/import/{preview.pk}/choices/", choices, HTTP_HOST=a.host).status_code == 302
    )
    assert browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host).status_code == 302
    with a:
        assert Deal.objects.count() == 5
        assert Deal.objects.get(title="Поставка окон").stage_id == first.pk
        assert Deal.objects.get(title="Монтаж дверей").stage.name == "Переговоры"
        assert Deal.objects.get(title="Монтаж дверей").responsible_id == a.owner.pk


def test_a_choice_of_another_companys_stage_or_member_is_refused(
    make_company: Any, eager: None
) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    with b:
        other_stage = Stage.objects.create(
            pipeline=Pipeline.objects.get(is_default=True), name="Чужой этап", position=50
        )
    with a:
        preview = run_import(
            a.company,
            a.owner,
            fixture("amocrm_deals_en.csv"),
            "en.csv",
            dry_run=True,
            options={"pipelines": {"Sales": "default"}},
        ).batch
        stages = sorted(preview.unmatched["stages"])
        owners = sorted(preview.unmatched["owners"])
        assert stages
        assert owners
    browser = login_on_host(a.owner, a.company, a.host)
    for bad in ({"stage_0": str(other_stage.pk)}, {"owner_0": str(b.owner.pk)}):
        browser.post(f"/import/{preview.pk}/choices/", bad, HTTP_HOST=a.host)
        with a:
            preview.refresh_from_db()
            assert "stages" not in preview.options or str(other_stage.pk) not in str(
                preview.options["stages"]
            )
            assert str(b.owner.pk) not in str(preview.options.get("owners", {}))
    # Company B's host does not show A's preview.
    other = login_on_host(b.owner, b.company, b.host)
    assert other.get(f"/import/{preview.pk}/", HTTP_HOST=b.host).status_code == 404
    assert other.post(f"/import/{preview.pk}/choices/", {}, HTTP_HOST=b.host).status_code == 404


def test_another_companys_members_stages_and_records_are_never_matched(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    with b:
        # B has a member «Анна Смирнова», a stage «Переговоры», and the amoCRM ids 5001 and 3001.
        add_member(b.company, "anna-b@example.com", "Анна Смирнова")
        Stage.objects.create(
            pipeline=Pipeline.objects.get(is_default=True), name="Переговоры", position=3
        )
        run_import(b.company, b.owner, fixture("amocrm_companies_ru.csv"), "companies.csv")
        run_import(b.company, b.owner, as_xlsx(rows_of("amocrm_deals_ru.csv")), "deals.xlsx")
        b_user_ids = {b.owner.pk, *Deal.objects.values_list("responsible_id", flat=True)}
    with a:
        report = run_import(a.company, a.owner, as_xlsx(rows_of("amocrm_deals_ru.csv")), "d.xlsx")
        # Nothing of B matched: every deal created here, the owners unknown, the stages new.
        assert report.counts.get("created", 0) + report.counts.get("merged", 0) == 5
        assert "Анна Смирнова" in report.batch.unmatched["owners"]
        assert not set(Deal.objects.values_list("responsible_id", flat=True)) & (
            b_user_ids - {a.owner.pk}
        )
        tasks = run_import(a.company, a.owner, fixture("amocrm_tasks_ru.csv"), "tasks.csv")
        # The tasks link to A's deals (imported above), never to B's of the same ids.
        linked = Task.objects.filter(deal__isnull=False)
        assert set(linked.values_list("deal_id", flat=True)) <= set(
            Deal.objects.values_list("id", flat=True)
        )
        # The contact and company ids 1001 and 3003 are B's only: not linked here.
        reasons = " ".join(n.reason for n in tasks.rows)
        assert "contact 1001" in reasons
        assert "company 3003" in reasons
        assert ImportedRecord.objects.filter(external_id="amocrm:3001").count() == 0


def test_bad_rows_are_said_row_by_row_and_nothing_is_lost(make_company: Any) -> None:
    made = make_company("Окна")
    header = [
        "ID",
        "Название сделки",
        "Бюджет",
        "Ответственный",
        "Дата создания",
        "Этап сделки",
        "Воронка",
        "Компания",
        "Дата закрытия",
        "Валюта",
    ]
    rows = [
        header,
        ["1", "Хорошая", "100", "", "01.02.2025", "Переговоры", "", "ООО А", "", "RUB"],
        ["2", "Плохая сумма", "сто рублей", "", "01.02.2025", "", "", "ООО Б", "", ""],
        ["3", "Плохая дата", "200", "", "32.13.2025", "", "", "ООО В", "45.01.2025", ""],
        ["4", "Чужой менеджер", "300", "Пётр Неизвестный", "", "", "", "ООО Г", "", ""],
        ["1", "Дубль", "400", "", "", "", "", "ООО Д", "", ""],
        ["6", "Пропускаемый этап", "500", "", "", "Архив", "", "ООО Е", "", ""],
        ["7", "Валюта", "600", "", "", "", "", "ООО Ж", "", "пиастры"],
    ]
    data = as_csv(rows, encoding="cp1251", delimiter=";")
    with made:
        sales = Pipeline.objects.get(is_default=True)
        options = {"stages": {f"{sales.name}|Архив": "skip"}}
        report = run_import(made.company, made.owner, data, "bad.csv", options=options)
        assert report.batch.options["preset"] == "amocrm_deals"
        notes = {n.row: n for n in report.rows}
        assert "сто рублей is not a number" in notes[3].reason
        assert "32.13.2025 is not a date" in notes[4].reason
        assert "45.01.2025 is not a date" in notes[4].reason
        assert "Пётр Неизвестный is not a member" in notes[5].reason
        assert notes[6].outcome == "rejected"
        assert "Deal 1 is in row 2 already" in notes[6].reason
        assert notes[7].outcome == "rejected"
        assert "Архив" in notes[7].reason
        assert "пиастры is not a currency" in notes[8].reason
        # Every row is accounted for, the rejected ones with what they said (for the xlsx).
        assert report.counts["rows"] == 7
        assert notes[6].values["название сделки"] == "Дубль"
        assert Deal.objects.count() == 5
        assert Deal.objects.get(title="Плохая сумма").amount == 0
        assert Deal.objects.get(title="Хорошая").stage.name == "Переговоры"


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "xlsx"),
    [
        ("amocrm_deals_ru.csv", "cp1251", ";", False),
        ("amocrm_deals_ru.csv", "utf-8-sig", ",", False),
        ("bitrix24_deals_ru.csv", "utf-8", ",", False),
        ("bitrix24_deals_ru.csv", "", "", True),
        ("hubspot_deals.csv", "cp1251", ";", False),
        ("hubspot_deals.csv", "", "", True),
        ("amocrm_tasks_ru.csv", "utf-8-sig", ";", False),
        ("amocrm_contacts_ru.csv", "", "", True),
    ],
)
def test_exports_are_recognised_whatever_the_order_case_encoding_and_format(
    make_company: Any, name: str, encoding: str, delimiter: str, xlsx: bool
) -> None:
    from onboarding.importing.presets import recognise
    from onboarding.importing.sources import inspect

    rows = reshaped(rows_of(name))
    data = as_xlsx(rows) if xlsx else as_csv(rows, encoding=encoding, delimiter=delimiter)
    import io

    found = inspect(io.BytesIO(data), size=len(data), limit_mb=50, file_name="x")
    preset = recognise(found.headers)
    expected = name.rsplit("_", 1)[0] if name.endswith("_ru.csv") else name[:-4]
    assert preset is not None
    assert preset.key == expected
    mapping = preset.mapping(found.headers)
    assert "utm source" not in mapping  # an extra column is left out, and said so


def test_the_command_lists_the_names_takes_choices_and_undoes(
    make_company: Any, tmp_path: Any
) -> None:
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    a = make_company("Alpha")
    export = tmp_path / "amocrm_deals.csv"
    export.write_bytes(fixture("amocrm_deals_en.csv"))
    out = StringIO()
    call_command("import_data", a.company.slug, str(export), "--dry-run", stdout=out)
    assert "recognised: amocrm_deals" in out.getvalue()
    assert "not in the company, pipelines: Sales (3 rows)" in out.getvalue()
    assert "not in the company, owners: Anna Smirnova (2 rows), anna@example.com (1 rows)" in (
        out.getvalue()
    )
    choices = tmp_path / "choices.json"
    choices.write_text(json.dumps({"pipelines": {"Sales": "default"}, "owners": {}}))
    call_command("import_data", a.company.slug, str(export), "--choices", str(choices), stdout=out)
    with a:
        sales = Pipeline.objects.get(is_default=True)
        assert set(Deal.objects.values_list("pipeline_id", flat=True)) == {sales.pk}
        batch = ImportBatch.objects.get(dry_run=False)
    call_command("import_data", a.company.slug, "--undo", str(batch.pk), stdout=out)
    with a:
        assert Deal.objects.count() == 0
    choices.write_text("[1, 2]")
    with pytest.raises(CommandError):
        call_command("import_data", a.company.slug, str(export), "--choices", str(choices))


def test_an_export_with_renamed_headers_is_named_on_the_upload(
    make_company: Any, eager: None
) -> None:
    a = make_company("Alpha")
    # Headers renamed by hand: nothing tells it is amoCRM's, so the person says so.
    rows = rows_of("amocrm_deals_ru.csv")
    rows[0] = [h.replace("Этап сделки", "Этап").replace("Бюджет", "Сумма") for h in rows[0]]
    rows[0] = [
        h.replace("Название сделки", "Сделка").replace("Воронка", "Воронка продаж") for h in rows[0]
    ]
    browser = login_on_host(a.owner, a.company, a.host)
    response = browser.post(
        "/import/",
        {"file": SimpleUploadedFile("deals.csv", as_csv(rows)), "source": "amocrm_deals"},
        HTTP_HOST=a.host,
    )
    assert response.status_code == 302
    with a:
        batch = ImportBatch.objects.get()
        assert batch.options["preset"] == "amocrm_deals"
        assert batch.options["id_prefix"] == "amocrm:"
        assert batch.mapping["этап"] == "deal_stage"
