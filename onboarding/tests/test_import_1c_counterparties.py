"""CommerceML counterparties: the company's own contacts stay on the company, its
representatives are people with their own contacts; full legal names; sole traders read from
the markers every version has. On files in the shapes of real exports (every schema version,
namespace prefixes, windows-1251) and on the real files of ../shared/fixtures/1c/."""

from __future__ import annotations

import io
from typing import Any

import pytest

from crm_core.models import Client, Contact, Phone
from onboarding.importing import commerceml
from onboarding.importing.detect import detect
from onboarding.importing.records import ClientIn
from onboarding.tests import commerceml_shapes as cml
from onboarding.tests.helpers import fixture_1c, run_import

pytestmark = pytest.mark.usefixtures("media_root")

PERSONAL_INN = "500312345614"
OGRNIP = "304500116000157"


def _clients(data: bytes) -> list[ClientIn]:
    found = detect(io.BytesIO(data), size=len(data), limit_mb=10)
    assert found.format == "commerceml"
    rows = list(commerceml.read(io.BytesIO(data), found.encoding))
    return [r.client for r in rows if r.client is not None]


def _vector(version: str) -> str:
    return cml.organisation(
        version,
        id_="vector-1",
        name="Вектор ООО",
        official='Общество с ограниченной ответственностью "Вектор"',
        inn="7707083893",
        kpp="773601001",
        address="101000, Москва, ул. Мясницкая, д. 1",
        contacts=cml.contacts(
            ("Телефон рабочий", "+7 (495) 111-22-33"),
            ("Почта", "office@vector.ru"),
            ("Сайт", "vector.ru"),
        ),
        representatives=cml.representatives(
            cml.representative(
                version,
                id_="person-1",
                name="Коновалов Александр Зиновьевич",
                contacts=cml.contacts(
                    ("Телефон мобильный", "8 916 123-45-67"),
                    ("Электронная почта", "konovalov@vector.ru"),
                ),
            ),
            cml.representative(
                version, id_="person-2", name="Смирнова Ольга Петровна", relation="Бухгалтер"
            ),
        ),
    )


@pytest.mark.parametrize("version", cml.VERSIONS)
@pytest.mark.parametrize("prefix", ["", "cml"])
def test_company_contacts_stay_on_the_company_and_representatives_are_people(
    version: str, prefix: str
) -> None:
    (client,) = _clients(cml.package(version, _vector(version), prefix=prefix))
    assert (client.name, client.inn, client.kpp) == ("Вектор ООО", "7707083893", "773601001")
    assert client.full_name == 'Общество с ограниченной ответственностью "Вектор"'
    assert client.kind == "legal"
    assert client.legal_address == "101000, Москва, ул. Мясницкая, д. 1"
    assert client.phones == ["+7 (495) 111-22-33"]
    assert client.emails == ["office@vector.ru"]
    assert client.website == "https://vector.ru"
    konovalov, smirnova = client.persons
    assert (konovalov.last_name, konovalov.first_name, konovalov.middle_name) == (
        "Коновалов",
        "Александр",
        "Зиновьевич",
    )
    assert konovalov.phones == ["8 916 123-45-67"]
    assert konovalov.emails == ["konovalov@vector.ru"]
    assert konovalov.position == ""  # «Контактное лицо» says nothing about the job
    assert smirnova.position == "Бухгалтер"
    assert smirnova.phones == smirnova.emails == []


@pytest.mark.parametrize("encoding", ["windows-1251", "utf-8"])
def test_the_company_phone_lands_on_the_company(make_company: Any, encoding: str) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company,
            a.owner,
            cml.package("2.09", _vector("2.09"), encoding=encoding),
            "contragents.xml",
        )
        assert report.counts["created"] == 1
        client = Client.objects.get()
        assert client.full_name == 'Общество с ограниченной ответственностью "Вектор"'
        assert list(
            Phone.objects.filter(client=client, contact=None).values_list("e164", flat=True)
        ) == ["+74951112233"]
        konovalov = Contact.objects.get(client=client, last_name="Коновалов")
        assert list(konovalov.phones.values_list("e164", flat=True)) == ["+79161234567"]
        assert "konovalov@vector.ru" in konovalov.emails
        emails = [e for c in Contact.objects.filter(client=client) for e in c.emails]
        assert "office@vector.ru" in emails


@pytest.mark.parametrize("version", cml.VERSIONS)
def test_sole_traders_from_every_marker(version: str) -> None:
    clients = _clients(
        cml.package(
            version,
            # An organisation block (how some configurations write an ИП) with a 12-digit INN.
            cml.organisation(
                version,
                id_="ip-1",
                name="Сидоров А. В.",
                official="Индивидуальный предприниматель Сидоров Алексей Викторович",
                inn=PERSONAL_INN,
            ),
            # An organisation with a 15-digit OGRN: an OGRNIP.
            cml.organisation(
                version, id_="ip-2", name="Кузнецов", official="Кузнецов Н. Н.", ogrn=OGRNIP
            ),
            # A person block with ОГРНИП and "ИП" in the name.
            cml.person(
                version,
                id_="ip-3",
                name="ИП Петров Пётр Петрович",
                last="Петров",
                first="Пётр",
                middle="Петрович",
                ogrnip=OGRNIP,
            ),
            # A person with a valid personal INN and nothing else.
            cml.person(
                version,
                id_="ip-4",
                name="Орлова Анна",
                last="Орлова",
                first="Анна",
                inn="771234567859",
            ),
            # A web shop's buyer: a private person.
            cml.person(version, id_="p-1", name="Анна Смирнова", last="Смирнова", first="Анна"),
            # A Kazakh organisation's 12-digit BIN is not a sole trader's INN.
            cml.organisation(
                version, id_="kz-1", name="ТД Уют", official='ТОО "ТД Уют"', inn="181620360057"
            ),
        )
    )
    kinds = {c.external_id: c.kind for c in clients}
    assert kinds == {
        "ip-1": "sole_trader",
        "ip-2": "sole_trader",
        "ip-3": "sole_trader",
        "ip-4": "sole_trader",
        "p-1": "person",
        "kz-1": "legal",
    }
    full = {c.external_id: c.full_name for c in clients}
    assert full["ip-1"] == "Индивидуальный предприниматель Сидоров Алексей Викторович"
    assert full["ip-3"] == "ИП Петров Пётр Петрович"


def test_a_sole_trader_is_stored_as_one(make_company: Any) -> None:
    a = make_company("Alpha")
    data = cml.package(
        "2.08",
        cml.organisation(
            "2.08",
            id_="ip-1",
            name="Сидоров А. В.",
            official="Индивидуальный предприниматель Сидоров Алексей Викторович",
            inn=PERSONAL_INN,
        ),
    )
    with a:
        run_import(a.company, a.owner, data, "ip.xml")
        client = Client.objects.get()
        assert client.kind == Client.Kind.SOLE_TRADER
        assert client.full_name == "Индивидуальный предприниматель Сидоров Алексей Викторович"
        assert (client.inn, client.inn_status) == (PERSONAL_INN, "valid")


def test_contacts_the_crm_has_no_place_for_are_named_in_the_row(make_company: Any) -> None:
    a = make_company("Alpha")
    data = cml.package(
        "2.05",
        cml.organisation(
            "2.05",
            id_="v-1",
            name="Вектор",
            official="ООО Вектор",
            inn="7707083893",
            contacts=cml.contacts(("Факс", "+7 495 111-22-34"), ("Skype", "vector.office")),
        ),
    )
    with a:
        report = run_import(a.company, a.owner, data, "c.xml")
        (note,) = report.rows
        assert "+7 495 111-22-34" in note.reason
        assert "Skype: vector.office" in note.reason
        assert note.outcome == "created"


def test_an_organisation_named_as_a_representative_is_not_a_person() -> None:
    version = "2.09"
    data = cml.package(
        version,
        cml.organisation(
            version,
            id_="v-1",
            name="Вектор",
            official="ООО Вектор",
            representatives=cml.representatives(
                "<Представитель><Отношение>Грузополучатель</Отношение><Ид>g</Ид>"
                "<Наименование>Склад ООО</Наименование>"
                "<ЮрЛицо><ИНН>7736207543</ИНН></ЮрЛицо></Представитель>"
            ),
        ),
    )
    rows = list(commerceml.read(io.BytesIO(data), "utf-8-sig"))
    assert rows[0].client is not None
    assert rows[0].client.persons == []
    assert any("Склад ООО" in note for note in rows[0].notes)


def test_the_real_counterparty_package_keeps_company_and_person_contacts_apart() -> None:
    data = fixture_1c("ArgentCrusade-commerceml/contractors-example.xml").read_bytes()
    clients = {c.name: c for c in _clients(data)}
    uyut = clients["ТД Уют"]
    # Its «Контакты» are the company's; its representative has none of his own.
    assert uyut.emails == ["uyt@komp.kz"]
    assert uyut.phones == ["+7 (3272) 25-39-39"]
    (konovalov,) = uyut.persons
    assert (konovalov.last_name, konovalov.emails, konovalov.phones) == ("Коновалов", [], [])
    assert uyut.full_name == 'ТОО "ТД Уют"'
    assert {c.kind for c in clients.values()} == {"legal"}  # Kazakh BINs: no sole traders


def test_the_real_2_03_order_buyer_is_a_private_person() -> None:
    data = fixture_1c("carono-php-commerceml/orders.xml").read_bytes()
    (client,) = _clients(data)
    assert client.kind == "person"
    assert client.full_name == "Петр Петров"
    assert [(p.last_name, p.first_name) for p in client.persons] == [("Петров", "Петр")]


@pytest.mark.parametrize("version", ["2.04", "2.08", "2.10", "3.1"])
def test_an_order_s_counterparty_is_read_the_same_way(version: str) -> None:
    buyer = cml.person(
        version,
        id_="ip-3",
        name="ИП Петров Пётр Петрович",
        last="Петров",
        first="Пётр",
        middle="Петрович",
        inn=PERSONAL_INN,
        contacts=cml.contacts(("Телефон рабочий", "+7 495 000-00-01"), ("ICQ", "123456")),
    )
    order = (
        "<Документ><Ид>o-1</Ид><Номер>7</Номер><Дата>2026-03-01</Дата>"
        "<ХозОперация>Заказ товара</ХозОперация><Валюта>RUB</Валюта><Сумма>100.00</Сумма>"
        f"<Контрагенты>{buyer}</Контрагенты></Документ>"
    )
    # A package whose only content is the order (a web shop's or 1C's documents file).
    data = cml.package(version).replace("<Контрагенты></Контрагенты>".encode(), order.encode())
    (row,) = commerceml.read(io.BytesIO(data), "utf-8-sig")
    assert row.deal is not None
    assert row.deal.title == "Заказ товара № 7 от 01.03.2026"
    assert row.client is not None
    assert row.client.kind == "sole_trader"
    assert row.client.inn == PERSONAL_INN
    assert row.client.phones == ["+7 495 000-00-01"]
    assert any("ICQ: 123456" in note for note in row.notes)
