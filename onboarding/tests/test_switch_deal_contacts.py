"""A deal row's contact person by name (amoCRM's «Основной контакт», Bitrix24's «Контакт»,
HubSpot's "Associated Contact"): found on the deal's client first, then as the one person of
that name in the CRM, created on the client when nobody has it; a name several people have is
said in the row and nothing is guessed."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.models import Client, Contact, Deal
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, fixture, rows_of
from onboarding.tests.test_switch_amocrm import add_member

pytestmark = pytest.mark.usefixtures("media_root")
_AMO = {"pipelines": {"Воронка": "default", "Сервис": "default"}}
HEADER = rows_of("amocrm_deals_ru.csv")[0]


def _deal_row(number: int, title: str, contact: str, company: str) -> list[str]:
    row = dict.fromkeys(HEADER, "")
    row.update(
        {
            "ID": str(number),
            "Название сделки": title,
            "Бюджет": "1000",
            "Ответственный": "Анна Смирнова",
            "Этап сделки": "Первичный контакт",
            "Воронка": "Воронка",
            "Основной контакт": contact,
            "Компания": company,
        }
    )
    return [row[h] for h in HEADER]


def _people(made: Any) -> None:
    add_member(made.company, "anna@example.com", "Анна Смирнова")
    run_import(made.company, made.owner, fixture("amocrm_companies_ru.csv"), "companies.csv")
    run_import(made.company, made.owner, fixture("amocrm_contacts_ru.csv"), "contacts.csv")


def test_amocrm_deals_link_their_main_contact(make_company: Any) -> None:
    made = make_company("Окна")
    with made:
        _people(made)
        clients, contacts = Client.objects.count(), Contact.objects.count()
        report = run_import(
            made.company, made.owner, fixture("amocrm_deals_ru.csv"), "d.csv", options=_AMO
        )
        assert report.counts.get("rejected", 0) == 0, [n.reason for n in report.rows]
        maria = Contact.objects.get(last_name="Иванова")
        windows = Deal.objects.get(title="Поставка окон")
        assert list(windows.contacts.all()) == [maria]  # «Мария Иванова» of ООО Ромашка
        assert list(Deal.objects.get(title="Монтаж дверей").contacts.all()) == [
            Contact.objects.get(last_name="Кузнецов")
        ]
        # A deal of no company, naming a person of no company: that person's own client.
        sokolova = Contact.objects.get(last_name="Соколова")
        facade = Deal.objects.get(title="Ремонт фасада")
        assert list(facade.contacts.all()) == [sokolova]
        assert facade.client_id == sokolova.client_id
        # Nobody made twice.
        assert (Client.objects.count(), Contact.objects.count()) == (clients, contacts)
        # The same export again: nothing new, the links as they were.
        again = run_import(
            made.company, made.owner, fixture("amocrm_deals_ru.csv"), "d.csv", options=_AMO
        )
        assert again.counts.get("created", 0) == 0
        assert windows.contacts.count() == 1


def test_a_name_not_on_the_client_is_the_one_person_of_that_name_or_a_new_one(
    make_company: Any,
) -> None:
    made = make_company("Окна")
    with made:
        _people(made)
        rows = [
            HEADER,
            # Сергей Волков is АО Вектор's only: linked there, not made again on ООО Ромашка.
            _deal_row(9001, "Окна для Вектора", "Сергей Волков", "ООО Ромашка"),
            # Nobody of that name: a new contact person of the deal's client.
            _deal_row(9002, "Двери для Ромашки", "Пётр Новиков", "ООО Ромашка"),
        ]
        report = run_import(made.company, made.owner, as_csv(rows), "d.csv", options=_AMO)
        assert report.counts.get("rejected", 0) == 0, [n.reason for n in report.rows]
        volkov = Contact.objects.get(last_name="Волков")
        assert list(Deal.objects.get(title="Окна для Вектора").contacts.all()) == [volkov]
        assert Contact.objects.filter(last_name__in=["Волков", "Сергей"]).count() == 1
        romashka = Client.objects.get(name="ООО Ромашка")
        new = Deal.objects.get(title="Двери для Ромашки").contacts.get()
        assert new.client_id == romashka.pk
        assert {new.last_name, new.first_name} == {"Пётр", "Новиков"}


def test_a_name_several_people_have_is_said_and_nothing_is_guessed(make_company: Any) -> None:
    made = make_company("Окна")
    with made:
        _people(made)
        one = Client.objects.create(name="ООО Первая")
        two = Client.objects.create(name="ООО Вторая")
        Contact.objects.create(client=one, last_name="Сидоров", first_name="Иван")
        Contact.objects.create(client=two, last_name="Сидоров", first_name="Иван")
        clients, contacts = Client.objects.count(), Contact.objects.count()
        rows = [
            HEADER,
            _deal_row(9101, "Сделка без компании", "Иван Сидоров", ""),
            _deal_row(9102, "Сделка Ромашки", "Иван Сидоров", "ООО Ромашка"),
        ]
        report = run_import(made.company, made.owner, as_csv(rows), "d.csv", options=_AMO)
        notes = {n.row: n for n in report.rows}
        for row in (2, 3):
            assert "Several contact persons are named «Иван Сидоров»" in notes[row].reason
        lonely = Deal.objects.get(title="Сделка без компании")
        assert lonely.client_id is None
        assert not lonely.contacts.exists()
        romashkas = Deal.objects.get(title="Сделка Ромашки")
        assert romashkas.client is not None
        assert romashkas.client.name == "ООО Ромашка"
        assert not romashkas.contacts.exists()
        assert (Client.objects.count(), Contact.objects.count()) == (clients, contacts)


def test_bitrix24_and_hubspot_deals_link_their_contact_by_name(make_company: Any) -> None:
    made = make_company("Стройка")
    with made:
        add_member(made.company, "anna@example.com", "Анна Смирнова")
        run_import(made.company, made.owner, fixture("bitrix24_companies_ru.csv"), "c.csv")
        run_import(made.company, made.owner, fixture("bitrix24_contacts_ru.csv"), "p.csv")
        olga = Contact.objects.get(last_name="Лебедева")  # «Лебедева Ольга Петровна»
        run_import(
            made.company,
            made.owner,
            fixture("bitrix24_deals_ru.csv"),
            "d.csv",
            options={"pipelines": {"Общее": "default"}},
        )
        assert list(Deal.objects.get(title="Кровля для Лютика").contacts.all()) == [olga]
        # «Ольга Лебедева» is not made a second time.
        assert Contact.objects.filter(last_name__in=["Лебедева", "Ольга"]).count() == 1
        assert list(Deal.objects.get(title="Материалы для Стройки").contacts.all()) == [
            Contact.objects.get(last_name="Орлов")
        ]
        # HubSpot's "Associated Contact" names the person (with the e-mail in brackets).
        run_import(made.company, made.owner, fixture("hubspot_companies.csv"), "hc.csv")
        run_import(made.company, made.owner, fixture("hubspot_contacts.csv"), "hp.csv")
        john = Contact.objects.get(last_name="Smith")
        rows = [
            ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Associated Contact"],
            ["9301", "Acme renewal", "Appointment Scheduled", "Sales Pipeline", "100",
             "John Smith (john.smith@acme.com)"],
        ]  # fmt: skip
        report = run_import(
            made.company,
            made.owner,
            as_csv(rows, delimiter=","),
            "hd.csv",
            options={"pipelines": {"Sales Pipeline": "default"}},
        )
        assert report.batch.options["preset"] == "hubspot_deals"
        renewal = Deal.objects.get(title="Acme renewal")
        assert list(renewal.contacts.all()) == [john]
        assert renewal.client_id == john.client_id
