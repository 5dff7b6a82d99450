"""The real CommerceML files 1C and web shops produce, imported with their actual values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_core.models import Client, Contact, Deal, DealItem, Phone, Product
from onboarding.importing.errors import UnreadableFile
from onboarding.models import ImportedRecord
from onboarding.tests.helpers import FIXTURES_1C, fixture_1c, run_import

pytestmark = pytest.mark.usefixtures("media_root")


def test_the_fixture_folder_is_there() -> None:
    assert FIXTURES_1C.is_dir(), f"{FIXTURES_1C} is missing: the 1C import cannot be tested"
    assert len(list(FIXTURES_1C.rglob("*.xml"))) == 10


def test_counterparty_package_with_kazakh_tax_ids(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company, a.owner, fixture_1c("ArgentCrusade-commerceml/contractors-example.xml")
        )
        assert report.counts["created"] == 4
        assert report.counts.get("rejected", 0) == 0
        uyut = Client.objects.get(name="ТД Уют")
        assert uyut.full_name == 'ТОО "ТД Уют"'
        # A 12-digit Kazakh BIN is not a Russian INN: kept and flagged, not dropped.
        assert (uyut.inn, uyut.inn_status) == ("181620360057", "foreign")
        assert uyut.bank_account == "798321"
        assert uyut.bik == "190701310"
        assert uyut.bank_name == "Филиал ОАО Банк ТуранАлем"
        assert uyut.legal_address.startswith("005897, Города Республиканского значения: Алматы")
        # An old Almaty number (+7 3272 …) is not a callable number today: kept as typed.
        assert not Phone.objects.filter(client=uyut).exists()
        assert uyut.custom == {"unrecognised_phones": ["+7 (3272) 25-39-39"]}
        people = Contact.objects.filter(client=uyut)
        names = {(c.last_name, c.first_name, c.middle_name) for c in people}
        assert ("Коновалов", "Александр", "Зиновьевич") in names
        assert any("uyt@komp.kz" in c.emails for c in people)
        assert set(Client.objects.values_list("name", flat=True)) == {
            'Удаленный отдел "Уют"',
            "Алтай ТОО",
            "ТД Уют",
            "Банк ТуранАлем ОАО",
        }
        flagged = [r for r in report.rows if "181310839110" in r.reason]
        assert flagged, "the foreign tax id must be flagged in the report"
        mapped = ImportedRecord.objects.get(
            entity="client", external_id="021e0e3f-e329-11db-95d9-505054503030"
        )
        assert mapped.record_id == uyut.pk


def test_two_orders_for_one_counterparty_make_one_client_and_two_deals(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company, a.owner, fixture_1c("ArgentCrusade-commerceml/documents-example.xml")
        )
        assert Client.objects.count() == 1
        client = Client.objects.get()
        assert client.name == "Kikinda (Сербия)"
        assert client.bank_account == "89000"
        assert [str(c) for c in Contact.objects.filter(client=client)] == ["Смирнов Олег Иванович"]
        deals = {d.title: d for d in Deal.objects.filter(client=client)}
        assert set(deals) == {
            "Заказ товара № 142 от 29.06.2015",
            "Заказ товара № 235 от 29.06.2015",
        }
        first = deals["Заказ товара № 142 от 29.06.2015"]
        assert first.amount == Decimal("8186.84")
        assert first.currency == "RUB"
        assert sorted((i.name, i.price) for i in first.items.all()) == [
            ("Ботинки женские демисезонные (35, 5, натуральная кожа, Бежевый)", Decimal(3600)),
            ("Вентилятор BINATONE ALPINE 160вт, напольный ,", Decimal(3338)),
        ]
        assert report.counts["created"] == 1
        assert report.counts["merged"] == 1


def test_order_in_windows_1251_without_namespace(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, fixture_1c("carono-php-commerceml/orders.xml"))
        assert report.batch.encoding == "cp1251"
        client = Client.objects.get()
        assert client.name == "Петр Петров"
        assert client.kind == Client.Kind.PERSON
        assert [(c.last_name, c.first_name) for c in client.contacts.all()] == [("Петров", "Петр")]
        deal = Deal.objects.get()
        assert deal.client == client
        assert deal.amount == Decimal("9683.42")
        assert sorted(deal.items.values_list("name", "quantity", "price")) == [
            ("Доставка заказа", Decimal(1), Decimal("348.00")),
            ("Комбайн MOULINEX A77 4C", Decimal(1), Decimal("9335.42")),
        ]


def test_web_shop_orders_whose_counterparty_has_no_name(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company,
            a.owner,
            fixture_1c("dobromyslov-commerceml-parser/bitrix-query-response-full.xml"),
        )
        assert Client.objects.count() == 0
        assert sorted(Deal.objects.values_list("title", "amount")) == [
            ("Заказ товара № 132 от 11.02.2021", Decimal("231.74")),
            ("Заказ товара № 133 от 12.02.2021", Decimal("14380.58")),
        ]
        assert DealItem.objects.filter(deal__title__contains="133").count() == 7
        assert all("no name" in r.reason for r in report.rows)


def test_catalogue_then_offers_fill_the_product_list_with_prices(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        catalogue = run_import(
            a.company, a.owner, fixture_1c("dobromyslov-commerceml-parser/import0_1.xml")
        )
        assert catalogue.counts["created"] == 35
        assert catalogue.counts["rejected"] == 1  # marked «Удален» in 1C
        assert Client.objects.count() == 0  # the catalogue's owner is the seller itself
        mat = Product.objects.get(sku="PM-421-WP")
        assert mat.name == "Портативный коврик Portable 140x200x1 см, Деревянные лошадки"
        assert mat.unit == "шт"
        assert mat.price == 0
        offers = run_import(
            a.company, a.owner, fixture_1c("dobromyslov-commerceml-parser/offers0_1.xml")
        )
        mat.refresh_from_db()
        assert mat.price == Decimal(100)
        assert offers.counts["updated"] + offers.counts.get("unchanged", 0) >= 35
        assert Product.objects.count() == 35 + offers.counts.get("created", 0)


def test_carono_catalogue_and_variant_offers(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, fixture_1c("carono-php-commerceml/import.xml"))
        assert sorted(Product.objects.values_list("name", "sku", "unit")) == [
            ("Ботинки женские демисезонные", "Б- 130005", "пар"),
            ("Женские ботфорты коричневые", "Б-130001", "пар"),
        ]
        assert Client.objects.count() == 0  # «Владелец» Cтройснаб is the seller
        run_import(a.company, a.owner, fixture_1c("carono-php-commerceml/offers.xml"))
        boots = Product.objects.get(name="Женские ботфорты коричневые (38)")
        assert boots.price == Decimal(1719)
        assert Product.objects.count() == 7


def test_commerceml_3_product(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, fixture_1c("ArgentCrusade-commerceml/products-example.xml"))
        assert list(Product.objects.values_list("name", "unit")) == [('Гироскутер 10"', "шт")]


def test_a_classifier_alone_is_refused_with_a_reason(make_company: Any) -> None:
    a = make_company("Alpha")
    with a, pytest.raises(UnreadableFile) as error:
        run_import(a.company, a.owner, fixture_1c("ArgentCrusade-commerceml/group-example.xml"))
    assert "nothing to import" in error.value.message


@pytest.mark.parametrize(
    "relative",
    [
        "ArgentCrusade-commerceml/contractors-example.xml",
        "ArgentCrusade-commerceml/documents-example.xml",
        "carono-php-commerceml/orders.xml",
        "dobromyslov-commerceml-parser/bitrix-query-response-full.xml",
        "dobromyslov-commerceml-parser/import0_1.xml",
    ],
)
def test_reimporting_a_1c_file_changes_nothing(make_company: Any, relative: str) -> None:
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, fixture_1c(relative))
        before = _snapshot()
        again = run_import(a.company, a.owner, fixture_1c(relative))
        assert _snapshot() == before
        assert again.counts.get("created", 0) == 0
        assert again.counts.get("updated", 0) == 0


def _snapshot() -> tuple[Any, ...]:
    return (
        sorted(Client.objects.values_list("id", "name", "inn", "kpp", "legal_address")),
        sorted(Contact.objects.values_list("id", "last_name", "emails")),
        sorted(Phone.objects.values_list("id", "e164")),
        sorted(Deal.objects.values_list("id", "title", "amount")),
        sorted(DealItem.objects.values_list("id", "name")),
        sorted(Product.objects.values_list("id", "name", "price")),
    )


@pytest.mark.parametrize(
    ("inside", "expected"),
    [
        ("<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>10</Ставка>"
         "</СтавкаНалога></СтавкиНалогов>", "10"),
        ("<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>Без НДС</Ставка>"
         "</СтавкаНалога></СтавкиНалогов>", "none"),
        ("<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>18</Ставка>"
         "</СтавкаНалога></СтавкиНалогов>", "22"),
        ("<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>СтавкаНДС</Наименование>"
         "<Значение>0%</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>", "0"),
        ("<СтавкиНалогов><СтавкаНалога><Наименование>Акциз</Наименование><Ставка>10</Ставка>"
         "</СтавкаНалога></СтавкиНалогов>", ""),
        ("", ""),
    ],
)  # fmt: skip
def test_the_vat_rate_of_a_commerceml_product(inside: str, expected: str) -> None:
    from lxml import etree

    from onboarding.importing.commerceml import catalogue_product

    element = etree.fromstring(f"<Товар><Ид>1</Ид><Наименование>Х</Наименование>{inside}</Товар>")
    assert catalogue_product(element).vat_rate == expected


def test_commerceml_vat_rates_reach_the_products(make_company: Any) -> None:
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, fixture_1c("dobromyslov-commerceml-parser/import0_1.xml"))
        # The file's 20 % (the standard rate before 2026) is today's standard rate.
        assert set(Product.objects.values_list("vat_rate", flat=True)) == {"22"}
        Product.objects.update(vat_rate="10")
        run_import(a.company, a.owner, fixture_1c("dobromyslov-commerceml-parser/import0_1.xml"))
        assert set(Product.objects.values_list("vat_rate", flat=True)) == {"22"}
