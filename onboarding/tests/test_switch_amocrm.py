"""Switching from amoCRM: companies, contacts, deals, tasks and notes, one export after the
other, through the one import mechanism (dry run, report, undo, re-import)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm_core.models import Activity, Client, Contact, Deal, Pipeline, Stage, Task
from onboarding.models import ImportBatch
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, as_xlsx, fixture, rows_of
from tenants.models import Membership, User

pytestmark = pytest.mark.usefixtures("media_root")


def add_member(company: Any, email: str, full_name: str) -> User:
    user = User.objects.create_user(email, "x-password-1", full_name=full_name)
    Membership.objects.create(user=user, company=company, role=Membership.Role.MANAGER)
    return user


def _notes(report: Any) -> dict[int, Any]:
    return {note.row: note for note in report.rows}


def _sales() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def _bring_people(made: Any) -> None:
    run_import(made.company, made.owner, fixture("amocrm_companies_ru.csv"), "companies.csv")
    run_import(made.company, made.owner, fixture("amocrm_contacts_ru.csv"), "contacts.csv")


def _deal_choices(made: Any) -> dict[str, Any]:
    sales = _sales()
    first = Stage.objects.filter(pipeline=sales).order_by("position").first()
    assert first is not None
    return {
        "pipelines": {"Воронка": str(sales.pk)},
        "stages": {"Воронка|Первичный контакт": str(first.pk)},
        "owners": {"Иван Петров": str(made.owner.pk)},
    }


def test_companies_and_contacts_keep_each_ones_phones_emails_and_owner(make_company: Any) -> None:
    made = make_company("Окна")
    with made:
        anna = add_member(made.company, "anna@example.com", "Анна Смирнова")
        companies = run_import(
            made.company, made.owner, fixture("amocrm_companies_ru.csv"), "companies.csv"
        )
        assert companies.batch.options["preset"] == "amocrm_companies"
        assert companies.batch.encoding.lower().replace("-", "") in {"cp1251", "windows1251"}
        contacts = run_import(
            made.company, made.owner, fixture("amocrm_contacts_ru.csv"), "contacts.csv"
        )
        assert contacts.batch.options["preset"] == "amocrm_contacts"
        romashka = Client.objects.get(name="ООО Ромашка")
        # The company's phone and e-mail stay on the company …
        assert set(romashka.phones.values_list("e164", flat=True)) == {"+74951002030"}
        assert romashka.responsible_id == anna.pk
        # … the person's own phone, e-mail, position and Telegram are the person's.
        maria = Contact.objects.get(last_name="Иванова")
        assert maria.client_id == romashka.pk
        assert maria.emails == ["m.ivanova@romashka.ru"]
        assert list(maria.phones.values_list("e164", flat=True)) == ["+79161112233"]
        assert maria.position == "Закупщик"
        assert maria.messengers == {"telegram": "@mivanova"}
        assert maria.responsible_id == anna.pk
        assert "m.ivanova@romashka.ru" not in romashka.contacts.exclude(pk=maria.pk).values_list(
            "emails", flat=True
        )
        # A person with no company is a private client of their own, with their contacts.
        sokolova = Contact.objects.get(last_name="Соколова")
        assert sokolova.client is not None
        assert sokolova.client.kind == "person"
        assert sokolova.emails == ["sokolova@yandex.ru"]
        # «Иван Петров» is no member: listed, the records given to the person importing.
        assert contacts.batch.unmatched["owners"] == {}  # contacts name owners quietly?
        kuznetsov = Client.objects.get(name="ИП Кузнецов")
        assert kuznetsov.responsible_id == made.owner.pk
        assert companies.batch.unmatched["owners"] == {"Иван Петров": 1}
        reason = _notes(companies)[3].reason
        assert "Иван Петров is not a member of the company" in reason


def test_deals_go_to_their_stages_owners_and_outcomes(make_company: Any) -> None:
    made = make_company("Окна")
    with made:
        anna = add_member(made.company, "anna@example.com", "Анна Смирнова")
        _bring_people(made)
        data = as_xlsx(rows_of("amocrm_deals_ru.csv"))
        preview = run_import(made.company, made.owner, data, "deals.xlsx", dry_run=True)
        batch = preview.batch
        assert batch.options["preset"] == "amocrm_deals"
        # What the company has no stage, pipeline or member for, with the rows' count.
        assert batch.unmatched["pipelines"] == {"Воронка": 4, "Сервис": 1}
        assert batch.unmatched["owners"] == {"Иван Петров": 1}
        assert Deal.objects.count() == 0
        report = run_import(
            made.company, made.owner, data, "deals.xlsx", options=_deal_choices(made)
        )
        assert report.counts.get("rejected", 0) == 0, [n.reason for n in report.rows]
        sales = _sales()
        first = Stage.objects.filter(pipeline=sales).order_by("position").first()
        windows = Deal.objects.get(title="Поставка окон")
        assert (windows.pipeline_id, windows.stage_id) == (sales.pk, first.pk if first else 0)
        assert windows.responsible_id == anna.pk
        assert windows.created_by_id == anna.pk  # «Кем создана»
        assert windows.amount == Decimal("150000.00")
        assert windows.client is not None
        assert windows.client.name == "ООО Ромашка"
        assert windows.created_at.date() == dt.date(2025, 2, 1)
        doors = Deal.objects.get(title="Монтаж дверей")
        assert doors.stage.name == "Переговоры"
        assert doors.pipeline_id == sales.pk
        assert doors.responsible_id == made.owner.pk  # mapped to the owner on the preview
        assert doors.amount == Decimal("85500.50")
        won = Deal.objects.get(title="Остекление склада")
        assert won.stage.outcome == Stage.Outcome.WON
        assert won.closed_at is not None
        assert won.closed_at.date() == dt.date(2025, 2, 20)
        # A stage the import made goes after the open ones, before won and lost.
        assert doors.stage.position < won.stage.position
        lost = Deal.objects.get(title="Ремонт фасада")
        assert lost.stage.outcome == Stage.Outcome.LOST
        assert lost.lost_reason == "Дорого"
        service = Deal.objects.get(title="Сервисный договор")
        assert service.pipeline.name == "Сервис"
        assert service.stage.name == "Согласование договора"
        assert service.client is not None
        assert service.client.name == "АО Вектор"
        # Re-importing the same export changes nothing.
        again = run_import(
            made.company, made.owner, data, "deals.xlsx", options=_deal_choices(made)
        )
        assert again.counts.get("created", 0) == 0
        assert Deal.objects.count() == 5
        # Undo removes the deals and the stage and pipeline the import made.
        undo_batch(report.batch)
        assert Deal.objects.count() == 0
        assert not Pipeline.objects.filter(name="Сервис").exists()
        assert not Stage.objects.filter(name="Переговоры").exists()


def test_tasks_and_notes_link_to_the_records_by_their_amocrm_ids(make_company: Any) -> None:
    made = make_company("Окна")
    with made:
        anna = add_member(made.company, "anna@example.com", "Анна Смирнова")
        _bring_people(made)
        run_import(
            made.company,
            made.owner,
            as_xlsx(rows_of("amocrm_deals_ru.csv")),
            "deals.xlsx",
            options=_deal_choices(made),
        )
        tasks = run_import(
            made.company,
            made.owner,
            fixture("amocrm_tasks_ru.csv"),
            "tasks.csv",
            options={"owners": {"Иван Петров": str(made.owner.pk)}},
        )
        assert tasks.batch.options["preset"] == "amocrm_tasks"
        assert tasks.counts.get("created", 0) == 4, [n.reason for n in tasks.rows]
        call = Task.objects.get(title="Перезвонить по замеру")
        assert call.deal is not None
        assert call.deal.title == "Поставка окон"
        assert call.client is not None
        assert call.client.name == "ООО Ромашка"
        assert call.assignee_id == anna.pk
        assert call.done_at is None
        assert call.deadline.astimezone(dt.UTC).isoformat().startswith("2025-02-03T09:00")
        meeting = Task.objects.get(title="Встреча в офисе клиента")
        assert meeting.kind == Task.Kind.MEETING
        assert meeting.done_at is not None
        catalogue = Task.objects.get(title="Отправить каталог")
        assert catalogue.contact is not None
        assert catalogue.contact.last_name == "Иванова"
        details = Task.objects.get(title="Уточнить реквизиты")
        assert details.client is not None
        assert details.client.name == "АО Вектор"

        notes = run_import(made.company, made.owner, fixture("amocrm_notes_ru.csv"), "notes.csv")
        assert notes.batch.options["preset"] == "amocrm_notes"
        assert notes.counts.get("created", 0) == 3, [n.reason for n in notes.rows]
        note = Activity.objects.get(body="Клиент просит КП до пятницы")
        assert note.kind == Activity.Kind.NOTE
        assert note.author_id == anna.pk
        assert note.deal is not None
        assert note.deal.title == "Поставка окон"
        assert note.happened_at.astimezone(dt.UTC).isoformat().startswith("2025-02-01T07:30")
        call_log = Activity.objects.get(body__startswith="Обсудили сроки")
        assert call_log.kind == Activity.Kind.CALL
        assert call_log.author_id == made.owner.pk  # Иван Петров: not a member
        assert "Иван Петров" in _notes(notes)[3].reason

        # The same files again: nothing new.
        assert (
            run_import(
                made.company, made.owner, fixture("amocrm_tasks_ru.csv"), "tasks.csv"
            ).counts.get("created", 0)
            == 0
        )
        assert (
            run_import(
                made.company, made.owner, fixture("amocrm_notes_ru.csv"), "notes.csv"
            ).counts.get("created", 0)
            == 0
        )
        # Undo removes the tasks and the notes the imports made.
        undo_batch(tasks.batch)
        undo_batch(notes.batch)
        assert Task.objects.count() == 0
        assert not Activity.objects.filter(kind__in=["note", "call"], deal__isnull=False).exists()


def test_the_english_export_in_csv_is_recognised_too(make_company: Any) -> None:
    made = make_company("Okna")
    with made:
        add_member(made.company, "anna@example.com", "Anna Smirnova")
        report = run_import(made.company, made.owner, fixture("amocrm_deals_en.csv"), "en.csv")
        assert report.batch.options["preset"] == "amocrm_deals"
        assert report.counts.get("rejected", 0) == 0
        assert Deal.objects.get(title="Door installation").stage.outcome == Stage.Outcome.WON
        lost = Deal.objects.get(title="Glass roof")
        assert lost.stage.outcome == Stage.Outcome.LOST
        assert lost.lost_reason == "Chose a competitor"
        assert Deal.objects.get(title="Door installation").amount == Decimal("12500.75")
        # The unknown stage was created (no choice given), the preview listed it.
        assert Deal.objects.get(title="Windows for the office").stage.name == "Initial contact"
        assert ImportBatch.objects.get(pk=report.batch.pk).unmatched["stages"]


def test_tasks_link_by_name_when_the_export_gives_no_ids(make_company: Any) -> None:

    made = make_company("Окна")
    with made:
        add_member(made.company, "anna@example.com", "Анна Смирнова")
        _bring_people(made)
        run_import(
            made.company,
            made.owner,
            as_xlsx(rows_of("amocrm_deals_ru.csv")),
            "deals.xlsx",
            options=_deal_choices(made),
        )
        tasks = [
            ["Текст задачи", "Срок выполнения", "Ответственный", "Прикреплено к"],
            ["Позвонить по окнам", "10.02.2025 11:00", "Анна Смирнова", "поставка  ОКОН"],
            ["Сверить реквизиты", "11.02.2025", "Анна Смирнова", "АО Вектор"],
            ["Без привязки", "31.02.2025", "Анна Смирнова", "Нет такой сделки"],
        ]
        report = run_import(made.company, made.owner, as_csv(tasks), "tasks.csv")
        assert report.batch.options["preset"] == "amocrm_tasks"
        windows = Task.objects.get(title="Позвонить по окнам")
        assert windows.deal is not None
        assert windows.deal.title == "Поставка окон"
        details = Task.objects.get(title="Сверить реквизиты")
        assert details.deal_id is None
        assert details.client is not None
        assert details.client.name == "АО Вектор"
        # Nothing lost: the task of an unknown record and a broken date, kept and said so.
        lonely = Task.objects.get(title="Без привязки")
        assert lonely.is_personal
        reason = _notes(report)[4].reason
        assert "«Нет такой сделки»" in reason
        assert "31.02.2025 is not a date" in reason
        again = run_import(made.company, made.owner, as_csv(tasks), "tasks.csv")
        assert again.counts.get("created", 0) == 0
        assert Task.objects.count() == 3


def test_an_interrupted_switch_resumes_without_duplicates(
    make_company: Any, monkeypatch: Any
) -> None:
    from django.db import OperationalError

    from onboarding.importing import engine
    from onboarding.services.imports import create_batch, run_batch

    made = make_company("Окна")
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    write = engine.Importer._write
    calls = {"n": 0}

    def failing(self: Any, plan: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("the database went away")
        write(self, plan)

    monkeypatch.setattr(engine.Importer, "_write", failing)
    with made:
        import io

        batch = create_batch(
            user_id=made.owner.pk,
            file=io.BytesIO(as_xlsx(rows_of("amocrm_deals_ru.csv"))),
            file_name="deals.xlsx",
        )
        with pytest.raises(OperationalError):
            run_batch(batch, company=made.company)
        batch.refresh_from_db()
        assert batch.status == "running"
        assert batch.checkpoint == 3
        assert Deal.objects.count() == 2
        report = run_batch(batch, company=made.company)
        assert report.batch.status == "done"
        assert Deal.objects.count() == 5
        assert Deal.objects.values("title").distinct().count() == 5
        assert Stage.objects.filter(name="Переговоры").count() == 1
        assert Pipeline.objects.filter(name="Воронка").count() == 1
        undo_batch(report.batch)
        assert Deal.objects.count() == 0
        assert not Pipeline.objects.filter(name="Воронка").exists()
