"""EnterpriseData contact persons (`Справочник.КонтактныеЛица` and its other names): each is a
contact person of its counterparty with their own phones and e-mails — read from the XML in
«ЗначенияПолей» (prefixes left undeclared too), else from the line's «Представление» — while
the counterparty's own contacts stay on the company."""

from __future__ import annotations

from typing import Any

import pytest

from crm_core.models import Client, Contact
from onboarding.models import ImportBatch
from onboarding.tests.helpers import run_import
from onboarding.tests.test_import_enterprisedata_contacts import (
    DECLARED,
    UNDECLARED,
    counterparty,
    line,
    message,
)
from onboarding.tests.test_import_views import _upload, eager  # noqa: F401
from tests.test_isolation import login_on_host

pytestmark = pytest.mark.usefixtures("media_root")

OWNER_KEYS = (
    "<Ссылка>ref-1</Ссылка><Наименование>Вектор ООО</Наименование>"
    "<ИНН>7736207543</ИНН><ЮридическоеФизическоеЛицо>ЮридическоеЛицо</ЮридическоеФизическоеЛицо>"
)


def person(
    element: str,
    ref: str,
    owner: str,
    *,
    name: str = "",
    fio: str = "",
    position: str = "",
    lines: str = "",
) -> str:
    named = f"<Наименование>{name}</Наименование>" if name else ""
    return (
        f"<{element}><КлючевыеСвойства><Ссылка>{ref}</Ссылка>{named}{owner}</КлючевыеСвойства>"
        f"{fio}{f'<Должность>{position}</Должность>' if position else ''}"
        f"<КонтактнаяИнформация>{lines}</КонтактнаяИнформация></{element}>"
    )


def company() -> str:
    return counterparty(
        "ref-1",
        "Вектор ООО",
        lines=line(
            "EmailКонтрагента", UNDECLARED.format(shown="office@vector.ru", kind="ЭлектроннаяПочта")
        )
        + line(
            "ТелефонКонтрагента",
            UNDECLARED.format(shown="+7 (495) 765-43-21", kind="НомерТелефона"),
        ),
    )


def people(element: str) -> list[str]:
    return [
        # The standard's shape: the owner's key properties in «ОбъектВладелец», the name in
        # «ФИО», the person's contacts in fragments whose prefixes are declared nowhere.
        person(
            element,
            "p-1",
            f"<ОбъектВладелец>{OWNER_KEYS}</ОбъектВладелец>",
            name="Петров Пётр Петрович",
            fio="<ФИО><Фамилия>Петров</Фамилия><Имя>Пётр</Имя><Отчество>Петрович</Отчество></ФИО>",
            position="Главный бухгалтер",
            lines=line(
                "EmailКонтактногоЛица",
                UNDECLARED.format(shown="Petrov@Vector.ru", kind="ЭлектроннаяПочта"),
            )
            + line(
                "ТелефонМобильныйКонтактногоЛица",
                DECLARED.format(shown="+7 916 111-22-33", kind="НомерТелефона"),
            ),
        ),
        # Another configuration's rules: «Владелец» holding a typed reference with only the
        # 1C id, a name in «Наименование»; the fragment cannot be read, «Представление» can.
        person(
            element,
            "p-2",
            "<Владелец><КонтрагентСсылка><Ссылка>ref-1</Ссылка></КонтрагентСсылка></Владелец>",
            name="Сидорова Анна",
            lines=line("Телефон", "<ns3:КонтактнаяИнформация <<broken", shown="+7 903 444-55-66"),
        ),
    ]


@pytest.mark.parametrize(
    "element",
    [
        "Справочник.КонтактныеЛица",
        "Справочник.КонтактныеЛицаКонтрагентов",
        "Справочник.КонтактныеЛицаПартнеров",
    ],
)
def test_contact_persons_keep_their_own_contacts(make_company: Any, element: str) -> None:
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company, a.owner, message("1.8", company(), *people(element)), "exchange.xml"
        )
        assert report.counts.get("rejected", 0) == 0
        client = Client.objects.get()
        # The company's own phone stays on the company, its e-mail on no named person.
        assert list(client.phones.filter(contact=None).values_list("e164", flat=True)) == [
            "+74957654321"
        ]
        named = {
            c.last_name: c for c in Contact.objects.filter(client=client).exclude(last_name="")
        }
        assert set(named) == {"Петров", "Сидорова"}
        petrov = named["Петров"]
        assert (petrov.first_name, petrov.middle_name) == ("Пётр", "Петрович")
        assert petrov.position == "Главный бухгалтер"
        assert petrov.emails == ["petrov@vector.ru"]
        assert list(petrov.phones.values_list("e164", flat=True)) == ["+79161112233"]
        assert list(named["Сидорова"].phones.values_list("e164", flat=True)) == ["+79034445566"]
        nameless = Contact.objects.filter(client=client, last_name="", first_name="")
        assert [c.emails for c in nameless] == [["office@vector.ru"]]


def test_the_same_file_again_adds_nobody(make_company: Any) -> None:
    data = message("1.8", company(), *people("Справочник.КонтактныеЛица"))
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, data, "exchange.xml")
        again = run_import(a.company, a.owner, data, "exchange.xml")
        assert again.counts.get("created", 0) == 0
        assert Client.objects.count() == 1
        assert Contact.objects.exclude(last_name="").count() == 2


def test_a_person_named_before_the_counterparty_finds_it_by_its_keys(make_company: Any) -> None:
    first, _second = people("Справочник.КонтактныеЛица")
    a = make_company("Alpha")
    with a:
        run_import(a.company, a.owner, message("1.8", first, company()), "exchange.xml")
        client = Client.objects.get()
        assert client.inn == "7736207543"
        assert Contact.objects.get(client=client, last_name="Петров").emails == ["petrov@vector.ru"]


def test_a_person_of_an_unknown_counterparty_is_said_in_the_report(make_company: Any) -> None:
    _first, second = people("Справочник.КонтактныеЛица")
    a = make_company("Alpha")
    with a:
        report = run_import(a.company, a.owner, message("1.8", second), "exchange.xml")
        (row,) = [r for r in report.rows if r.reason]
        assert "ref-1" in row.reason


@pytest.mark.usefixtures("eager")
def test_through_the_wizard_and_not_into_another_company(make_company: Any) -> None:
    a = make_company("Alpha")
    b = make_company("Beta")
    browser = login_on_host(a.owner, a.company, a.host)
    data = message("1.8", company(), *people("Справочник.КонтактныеЛица"))
    response = _upload(browser, a.host, data, "exchange.xml")
    assert response.status_code == 302
    with a:
        preview = ImportBatch.objects.get()
        assert preview.status == "done"
    browser.post(f"/import/{preview.pk}/start/", HTTP_HOST=a.host)
    with a:
        assert Contact.objects.get(last_name="Петров").emails == ["petrov@vector.ru"]
    with b:
        assert not Contact.objects.exists()
        assert not ImportBatch.objects.exists()
