"""EnterpriseData 1.6–1.8 counterparties as 1C writes them: contact information in every
shape «ЗначенияПолей» takes (XML with and without the prefixes it uses declared, JSON,
"key=value" lines), the legal form in «ЮридическоеФизическоеЛицо» or «ЮрФизЛицо»."""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

import pytest

from crm_core.models import Client, Contact
from onboarding.importing import contactinfo, enterprisedata
from onboarding.tests.helpers import run_import

pytestmark = pytest.mark.usefixtures("media_root")

VERSIONS = ["1.6", "1.7", "1.8"]
PERSONAL_INN = "500312345614"

# A fragment cut out of a larger document: its prefixes (and xsi) are declared nowhere.
UNDECLARED = (
    '<ns2:КонтактнаяИнформация Представление="{shown}">'
    '<ns2:Состав xsi:type="ns2:{kind}" Значение="{shown}"/></ns2:КонтактнаяИнформация>'
)
DECLARED = (
    '<КонтактнаяИнформация xmlns="http://www.v8.1c.ru/ssl/contactinfo" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Представление="{shown}">'
    '<Состав xsi:type="{kind}" Значение="{shown}"/></КонтактнаяИнформация>'
)


def line(kind: str, fields: str, shown: str = "") -> str:
    presentation = f"<Представление>{escape(shown)}</Представление>" if shown else ""
    return (
        f"<Строка><ВидКонтактнойИнформации>{kind}</ВидКонтактнойИнформации>"
        f"<ЗначенияПолей>{escape(fields)}</ЗначенияПолей>{presentation}</Строка>"
    )


def counterparty(
    ref: str,
    name: str,
    *,
    inn: str = "7736207543",
    form: str = "ЮридическоеЛицо",
    form_element: str = "ЮридическоеФизическоеЛицо",
    full: str = "",
    lines: str = "",
) -> str:
    return (
        "<Справочник.Контрагенты><КлючевыеСвойства>"
        f"<Ссылка>{ref}</Ссылка><Наименование>{name}</Наименование>"
        f"<НаименованиеПолное>{full or name}</НаименованиеПолное><ИНН>{inn}</ИНН>"
        f"<{form_element}>{form}</{form_element}>"
        "</КлючевыеСвойства>"
        f"<КонтактнаяИнформация>{lines}</КонтактнаяИнформация></Справочник.Контрагенты>"
    )


def message(version: str, *objects: str, body_prefix: str = "") -> bytes:
    namespace = f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{version}"
    body = "".join(objects)
    if body_prefix:
        body = re.sub(r"<(/?)([^\s>/!?]+)", rf"<\1{body_prefix}:\2", body)
        open_body = f'<{body_prefix}:Body xmlns:{body_prefix}="{namespace}">'
        close_body = f"</{body_prefix}:Body>"
    else:
        open_body, close_body = f'<Body xmlns="{namespace}">', "</Body>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Message xmlns:msg="http://www.1c.ru/SSL/Exchange/Message">'
        f"<msg:Header><msg:Format>{namespace}</msg:Format></msg:Header>"
        f"{open_body}{body}{close_body}</Message>"
    ).encode()


def vector(fragment: str) -> str:
    return counterparty(
        "ref-1",
        "Вектор ООО",
        lines=line(
            "EmailКонтрагента", fragment.format(shown="Buh@Vector.ru", kind="ЭлектроннаяПочта")
        )
        + line(
            "ТелефонКонтрагента",
            fragment.format(shown="+7 (495) 765-43-21", kind="НомерТелефона"),
        ),
    )


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("body_prefix", ["", "d3p1"])
def test_e_mails_in_fragments_with_undeclared_prefixes_are_imported(
    make_company: Any, version: str, body_prefix: str
) -> None:
    """Every e-mail of such a file was dropped without a word before."""
    a = make_company("Alpha")
    with a:
        report = run_import(
            a.company,
            a.owner,
            message(version, vector(UNDECLARED), body_prefix=body_prefix),
            "exchange.xml",
        )
        assert report.counts["created"] == 1
        client = Client.objects.get()
        emails = [e for c in Contact.objects.filter(client=client) for e in c.emails]
        assert emails == ["buh@vector.ru"]
        assert list(client.phones.values_list("e164", flat=True)) == ["+74957654321"]
        assert not [r for r in report.rows if r.reason]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (DECLARED.format(shown="a@b.ru", kind="ЭлектроннаяПочта"), ("a@b.ru", "почта")),
        (UNDECLARED.format(shown="a@b.ru", kind="ЭлектроннаяПочта"), ("a@b.ru", "почта")),
        # No «Представление» on the root: the value of its «Состав».
        (
            '<ci:КонтактнаяИнформация><ci:Состав xsi:type="ci:ЭлектроннаяПочта" '
            'Значение="c@d.ru"/></ci:КонтактнаяИнформация>',
            ("c@d.ru", "почта"),
        ),
        # A phone given by its parts.
        (
            '<КонтактнаяИнформация xmlns="http://www.v8.1c.ru/ssl/contactinfo" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Состав '
            'xsi:type="НомерТелефона" КодСтраны="7" КодГорода="495" Номер="765-43-21" '
            'Добавочный="12"/></КонтактнаяИнформация>',
            ("+7 495 765-43-21 доб. 12", "телефон"),
        ),
        # Not well-formed at all (an unescaped ampersand): the recovering parser still reads it.
        (
            '<КонтактнаяИнформация Представление="Иванов & Co, a@b.ru"><Состав/>',
            ("Иванов & Co, a@b.ru", ""),
        ),
        # БСП 3.x: JSON.
        (
            '{"value": "e@f.ru", "type": "Адрес электронной почты"}',
            ("e@f.ru", "адрес электронной почты"),
        ),
        (
            '{"type": "Телефон", "countryCode": "7", "areaCode": "495", "number": "1234567"}',
            ("+7 495 1234567", "телефон"),
        ),
        # БСП 1.x: key=value lines.
        ("КодСтраны=7\nКодГорода=495\nНомерТелефона=7654321\nДобавочный=", ("+7 495 7654321", "")),
        ("Представление=г. Москва, ул. Ленина, 1\nСтрана=РОССИЯ", ("г. Москва, ул. Ленина, 1", "")),
        # Plain text.
        ("  info@vector.ru ", ("info@vector.ru", "")),
        # Nothing readable.
        ("<<<>>>", ("", "")),
        ("{not json", ("", "")),
        ("", ("", "")),
    ],
)
def test_contact_information_shapes(fields: str, expected: tuple[str, str]) -> None:
    found = contactinfo.read(fields)
    assert (found.value, found.kind) == expected


def test_the_line_s_own_presentation_when_the_fragment_says_nothing() -> None:
    data = message(
        "1.7",
        counterparty(
            "ref-1", "Вектор", lines=line("АдресЭлектроннойПочты", "<<<>>>", shown="g@h.ru")
        ),
    )
    (row,) = enterprisedata.read(io.BytesIO(data), "utf-8")
    assert row.client is not None
    assert row.client.emails == ["g@h.ru"]
    assert row.notes == []


def test_contact_information_nothing_can_be_read_from_is_a_row_note(make_company: Any) -> None:
    a = make_company("Alpha")
    data = message(
        "1.8",
        counterparty("ref-1", "Вектор ООО", lines=line("EmailКонтрагента", "<<<Buh>>>")),
    )
    with a:
        report = run_import(a.company, a.owner, data, "exchange.xml")
        (note,) = report.rows
        assert note.outcome == "created"
        assert "EmailКонтрагента" in note.reason
        assert "<<<Buh>>>" in note.reason
        assert Client.objects.count() == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_legal_forms(version: str) -> None:
    data = message(
        version,
        counterparty(
            "ip-1",
            "Петров П. П.",
            inn=PERSONAL_INN,
            form="ИндивидуальныйПредприниматель",
            form_element="ЮрФизЛицо",
        ),
        # 1C:Accounting: a sole trader is a person with a 12-digit INN.
        counterparty("ip-2", "Орлова А. В.", inn="771234567859", form="ФизическоеЛицо"),
        counterparty("p-1", "Смирнова Анна", inn="", form="ФизическоеЛицо"),
        counterparty(
            "l-1",
            "Вектор ООО",
            form="ЮридическоеЛицо",
            full='Общество с ограниченной ответственностью "Вектор"',
        ),
    )
    clients = {
        r.client.external_id: r.client
        for r in enterprisedata.read(io.BytesIO(data), "utf-8")
        if r.client is not None
    }
    assert {ref: c.kind for ref, c in clients.items()} == {
        "ip-1": "sole_trader",
        "ip-2": "sole_trader",
        "p-1": "person",
        "l-1": "legal",
    }
    assert clients["l-1"].full_name == 'Общество с ограниченной ответственностью "Вектор"'


def test_a_sole_trader_is_stored_as_one(make_company: Any) -> None:
    a = make_company("Alpha")
    data = message(
        "1.8",
        counterparty(
            "ip-1",
            "Петров П. П.",
            inn=PERSONAL_INN,
            form="ИндивидуальныйПредприниматель",
            full="Индивидуальный предприниматель Петров Пётр Петрович",
        ),
    )
    with a:
        run_import(a.company, a.owner, data, "exchange.xml")
        client = Client.objects.get()
        assert client.kind == Client.Kind.SOLE_TRADER
        assert client.full_name == "Индивидуальный предприниматель Петров Пётр Петрович"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("EmailКонтрагента", "a@b.ru", "email"),
        ("АдресЭлектроннойПочты", "a@b.ru", "email"),
        ("Почта", "a@b.ru", "email"),
        ("Электронная почта", "a@b.ru", "email"),
        ("ПочтовыйАдресКонтрагента", "101000, Москва", "address"),
        ("ЮрАдресКонтрагента", "101000, Москва", "address"),
        ("ТелефонКонтрагента", "+7 495 1234567", "phone"),
        ("Телефон рабочий", "+7 495 1234567", "phone"),
        ("ТелефонРабочий", "+7 495 1234567", "phone"),
        ("Факс", "+7 495 1234568", "fax"),
        ("Сайт", "vector.ru", "web"),
        ("Skype", "vector.office", "other"),
        ("", "a@b.ru", "email"),
        ("", "8 (495) 123-45-67 доб. 12", "phone"),
        ("", "vector.office", "other"),
    ],
)
def test_what_a_contact_is(kind: str, value: str, expected: str) -> None:
    assert contactinfo.classify(kind, value) == expected


def test_addresses_by_kind() -> None:
    data = message(
        "1.8",
        counterparty(
            "ref-1",
            "Вектор",
            lines=line("ЮрАдресКонтрагента", "101000, Москва, ул. Мясницкая, 1")
            + line("ФактАдресКонтрагента", "", shown="Москва, ул. Тверская, 2")
            + line("ПочтовыйАдресКонтрагента", "Москва, а/я 5"),
        ),
    )
    (row,) = enterprisedata.read(io.BytesIO(data), "utf-8")
    assert row.client is not None
    assert row.client.legal_address == "101000, Москва, ул. Мясницкая, 1"
    assert row.client.postal_address == "Москва, ул. Тверская, 2"
    assert row.client.emails == []
