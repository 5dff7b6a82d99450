"""CommerceML files in the shapes real exports take: every schema version's namespace (or
none), a namespace prefix on every element, windows-1251 or UTF-8, counterparties flat (up to
2.07) or in «ЮрЛицо» / «ФизЛицо» blocks (2.08 on)."""

from __future__ import annotations

import re

NAMESPACES = {
    "2.03": "",
    "2.04": "",
    "2.05": "",
    "2.07": "urn:1C.ru:commerceml_2",
    "2.08": "urn:1C.ru:commerceml_2",
    "2.09": "urn:1C.ru:commerceml_2",
    "2.10": "urn:1C.ru:commerceml_210",
    "3.1": "urn:1C.ru:commerceml_3",
}
VERSIONS = list(NAMESPACES)


def blocks(version: str) -> bool:
    """Whether the version writes requisites in «ЮрЛицо» / «ФизЛицо» blocks."""
    return version not in {"2.03", "2.04", "2.05", "2.07"}


def organisation(
    version: str,
    *,
    id_: str,
    name: str,
    official: str,
    inn: str = "",
    kpp: str = "",
    ogrn: str = "",
    address: str = "",
    contacts: str = "",
    representatives: str = "",
) -> str:
    requisites = (
        f"<ОфициальноеНаименование>{official}</ОфициальноеНаименование>"
        f"<ИНН>{inn}</ИНН><КПП>{kpp}</КПП>"
        + (f"<ОГРН>{ogrn}</ОГРН>" if ogrn else "")
        + (f"<ЮридическийАдрес><Представление>{address}</Представление></ЮридическийАдрес>")
    )
    if blocks(version):
        requisites = f"<ЮрЛицо>{requisites}</ЮрЛицо>"
    return (
        f"<Контрагент><Ид>{id_}</Ид><Наименование>{name}</Наименование><Роль>Покупатель</Роль>"
        f"{requisites}{contacts}{representatives}</Контрагент>"
    )


def person(
    version: str,
    *,
    id_: str,
    name: str,
    last: str,
    first: str,
    middle: str = "",
    inn: str = "",
    ogrnip: str = "",
    contacts: str = "",
) -> str:
    requisites = (
        f"<ПолноеНаименование>{name}</ПолноеНаименование>"
        f"<Фамилия>{last}</Фамилия><Имя>{first}</Имя><Отчество>{middle}</Отчество>"
        + (f"<ИНН>{inn}</ИНН>" if inn else "")
        + (f"<ОГРНИП>{ogrnip}</ОГРНИП>" if ogrnip else "")
    )
    if blocks(version):
        requisites = f"<ФизЛицо>{requisites}</ФизЛицо>"
    return (
        f"<Контрагент><Ид>{id_}</Ид><Наименование>{name}</Наименование><Роль>Покупатель</Роль>"
        f"{requisites}{contacts}</Контрагент>"
    )


def contacts(*pairs: tuple[str, str]) -> str:
    return (
        "<Контакты>"
        + "".join(f"<Контакт><Тип>{t}</Тип><Значение>{v}</Значение></Контакт>" for t, v in pairs)
        + "</Контакты>"
    )


def representative(
    version: str, *, id_: str, name: str, relation: str = "Контактное лицо", contacts: str = ""
) -> str:
    inner = (
        f"<Отношение>{relation}</Отношение><Ид>{id_}</Ид><Наименование>{name}</Наименование>"
        f"{contacts}"
    )
    if version == "2.03":  # nested «Контрагент» in 2.03
        inner = f"<Контрагент>{inner}</Контрагент>"
    return f"<Представитель>{inner}</Представитель>"


def representatives(*items: str) -> str:
    return "<Представители>" + "".join(items) + "</Представители>"


def package(version: str, *counterparties: str, prefix: str = "", encoding: str = "utf-8") -> bytes:
    """A standalone «Контрагенты» package; with `prefix`, every element carries it."""
    namespace = NAMESPACES[version]
    body = "<Контрагенты>" + "".join(counterparties) + "</Контрагенты>"
    if prefix:
        declaration = f' xmlns:{prefix}="{namespace or "urn:1C.ru:commerceml_2"}"'
        body = re.sub(r"<(/?)([^\s>/!?]+)", rf"<\1{prefix}:\2", body)
        root = f"{prefix}:КоммерческаяИнформация"
    else:
        declaration = f' xmlns="{namespace}"' if namespace else ""
        root = "КоммерческаяИнформация"
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<{root}{declaration} ВерсияСхемы="{version}" ДатаФормирования="2026-03-01T10:00:00">'
        f"{body}</{root}>"
    )
    data = xml.encode("cp1251" if encoding.lower() in {"windows-1251", "cp1251"} else "utf-8")
    return (b"\xef\xbb\xbf" if encoding == "utf-8" else b"") + data
