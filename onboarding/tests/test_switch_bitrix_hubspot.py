"""Switching from Bitrix24 and from HubSpot: their list exports, recognised and imported with
the same machinery as amoCRM's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm_core.models import Activity, Client, Contact, Deal, Stage, Task
from onboarding.services.imports import undo_batch
from onboarding.tests.helpers import run_import
from onboarding.tests.switch_exports import as_csv, as_xlsx, fixture, rows_of
from onboarding.tests.test_switch_amocrm import add_member

pytestmark = pytest.mark.usefixtures("media_root")


def test_bitrix24_companies_contacts_deals_and_leads(make_company: Any) -> None:
    made = make_company("Стройка")
    with made:
        anna = add_member(made.company, "anna@example.com", "Анна Смирнова")
        companies = run_import(
            made.company, made.owner, fixture("bitrix24_companies_ru.csv"), "c.csv"
        )
        assert companies.batch.options["preset"] == "bitrix24_companies"
        assert Client.objects.get(name="ООО Стройка").relationship == "supplier"
        contacts = run_import(
            made.company, made.owner, as_xlsx(rows_of("bitrix24_contacts_ru.csv")), "p.xlsx"
        )
        assert contacts.batch.options["preset"] == "bitrix24_contacts"
        lutik = Client.objects.get(name="ООО Лютик")
        assert Client.objects.filter(name="ООО Лютик").count() == 1
        olga = Contact.objects.get(last_name="Лебедева")
        assert (olga.client_id, olga.middle_name, olga.position) == (
            lutik.pk,
            "Петровна",
            "Бухгалтер",
        )
        assert set(olga.phones.values_list("e164", flat=True)) == {"+74953004052", "+79265550011"}
        assert olga.emails == ["lebedeva@lutik.ru"]
        assert set(lutik.phones.values_list("e164", flat=True)) == {"+74953004050"}

        deals = run_import(
            made.company,
            made.owner,
            fixture("bitrix24_deals_ru.csv"),
            "d.csv",
            options={"pipelines": {"Общее": "default"}},
        )
        assert deals.batch.options["preset"] == "bitrix24_deals"
        roof = Deal.objects.get(title="Кровля для Лютика")
        assert roof.client_id == lutik.pk
        assert roof.responsible_id == anna.pk
        assert roof.currency == "RUB"
        assert roof.amount == Decimal("250000.00")
        assert roof.expected_close == dt.date(2025, 2, 28)
        assert roof.stage.name == "Подготовка документов"
        assert [(i.name, i.quantity) for i in roof.items.order_by("id")] == [
            ("Профнастил", Decimal("100.000")),
            ("Монтаж", Decimal("1.000")),
        ]
        materials = Deal.objects.get(title="Материалы для Стройки")
        assert materials.currency == "USD"
        assert materials.stage.outcome == Stage.Outcome.WON
        fence = Deal.objects.get(title="Ограждение")
        assert fence.stage.outcome == Stage.Outcome.LOST
        assert fence.responsible_id == made.owner.pk
        assert deals.batch.unmatched["owners"] == {"Мария Неизвестная": 1}

        leads = run_import(made.company, made.owner, fixture("bitrix24_leads_ru.csv"), "l.csv")
        assert leads.batch.options["preset"] == "bitrix24_leads"
        lead = Deal.objects.get(title="Заявка с сайта")
        assert lead.client is not None
        assert lead.client.name == "ООО Заря"
        zaitsev = Contact.objects.get(last_name="Зайцев")
        assert zaitsev.emails == ["zaitsev@zarya.ru"]
        assert zaitsev.position == "Менеджер"


def test_hubspot_contacts_find_their_company_by_its_id(make_company: Any) -> None:
    made = make_company("Acme reseller")
    rows = rows_of("hubspot_contacts.csv")
    drop = rows[0].index("Company Name")
    rows = [[cell for i, cell in enumerate(row) if i != drop] for row in rows]
    rows.append(["9103", "Lone", "Wolf", "lone@wolf.example", "", "", "", "9999", "lead", ""])
    with made:
        run_import(made.company, made.owner, fixture("hubspot_companies.csv"), "c.csv")
        report = run_import(made.company, made.owner, as_csv(rows, delimiter=","), "p.csv")
        assert report.batch.options["preset"] == "hubspot_contacts"
        john = Contact.objects.get(last_name="Smith")
        assert john.client is not None
        assert john.client.name == "Acme Corp"
        jane = Contact.objects.get(last_name="Doe")
        assert jane.client is not None
        assert jane.client.name == "Globex"
        # An unknown company id: the person is a private client, and the row says why.
        wolf = Contact.objects.get(last_name="Wolf")
        assert wolf.client is not None
        assert wolf.client.kind == "person"
        assert "Company 9999 is not in the CRM" in {n.row: n for n in report.rows}[4].reason
        assert Client.objects.count() == 3


def test_hubspot_records_and_their_associations(make_company: Any) -> None:
    made = make_company("Acme reseller")
    with made:
        anna = add_member(made.company, "anna@example.com", "Anna Smirnova")
        companies = run_import(made.company, made.owner, fixture("hubspot_companies.csv"), "c.csv")
        assert companies.batch.options["preset"] == "hubspot_companies"
        acme = Client.objects.get(name="Acme Corp")
        assert acme.website == "https://acme.com"
        assert acme.responsible_id == anna.pk
        contacts = run_import(made.company, made.owner, fixture("hubspot_contacts.csv"), "p.csv")
        assert contacts.batch.options["preset"] == "hubspot_contacts"
        john = Contact.objects.get(last_name="Smith")
        assert john.client_id == acme.pk
        assert john.emails == ["john.smith@acme.com"]
        assert john.position == "CTO"
        assert not acme.phones.filter(e164="+16175550111").exists()  # the person's, not Acme's

        deals = run_import(
            made.company,
            made.owner,
            fixture("hubspot_deals.csv"),
            "d.csv",
            options={"pipelines": {"Sales Pipeline": "default"}},
        )
        assert deals.batch.options["preset"] == "hubspot_deals"
        licences = Deal.objects.get(title="Acme licences")
        assert licences.client_id == acme.pk  # by the associated company's id
        assert list(licences.contacts.all()) == [john]
        assert licences.currency == "USD"
        assert licences.expected_close == dt.date(2025, 4, 30)
        assert licences.stage.name == "Appointment Scheduled"
        support = Deal.objects.get(title="Globex support")
        assert support.currency == "GBP"
        assert support.stage.outcome == Stage.Outcome.WON
        assert support.closed_at is not None
        assert support.closed_at.date() == dt.date(2025, 2, 20)
        pilot = Deal.objects.get(title="Acme pilot")
        assert pilot.stage.outcome == Stage.Outcome.LOST
        assert pilot.client_id == acme.pk  # no contact: by the associated company's id

        tasks = run_import(made.company, made.owner, fixture("hubspot_tasks.csv"), "t.csv")
        assert tasks.batch.options["preset"] == "hubspot_tasks"
        proposal = Task.objects.get(title="Send the proposal")
        assert (proposal.deal_id, proposal.contact_id, proposal.client_id) == (
            licences.pk,
            john.pk,
            acme.pk,
        )
        assert proposal.kind == Task.Kind.EMAIL
        assert proposal.done_at is None
        assert Task.objects.get(title="Call about renewal").done_at is not None

        notes = run_import(made.company, made.owner, fixture("hubspot_notes.csv"), "n.csv")
        assert notes.batch.options["preset"] == "hubspot_notes"
        discount = Activity.objects.get(body="Asked for a discount on 50 seats")
        assert discount.deal_id == licences.pk
        assert discount.author_id == anna.pk
        onboarding = Activity.objects.get(body="Onboarding call went well")
        assert onboarding.client is not None
        assert onboarding.client.name == "Globex"

        undo_batch(notes.batch)
        undo_batch(tasks.batch)
        undo_batch(deals.batch)
        assert not Activity.objects.filter(body__startswith="Asked").exists()
        assert Task.objects.count() == 0
        assert Deal.objects.count() == 0
