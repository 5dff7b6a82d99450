"""1C's contact information as it travels inside an exchange file's «ЗначенияПолей».

1C has written it in three shapes over the years, and exchange rules pass on whichever the
base holds:
- XML (БСП 2.x, `http://www.v8.1c.ru/ssl/contactinfo`): «КонтактнаяИнформация
  Представление="…"» with a «Состав xsi:type="ЭлектроннаяПочта" Значение="…"». Rules that
  cut the fragment out of a larger document often leave its prefixes behind
  (`<ns2:КонтактнаяИнформация …>`, `xsi:type` without `xmlns:xsi`): an XML parser refuses it.
- JSON (БСП 3.x): {"value": "…", "type": "Телефон", "countryCode": "7", …}.
- "key=value" lines (БСП 1.x): `Представление=…`, `КодГорода=495`, `НомерТелефона=…`.

Each is read tolerantly: undeclared prefixes are declared before parsing, a fragment that
still does not parse is read by lxml's recovering parser, and what none of them yields is
reported by the caller (it falls back to the line's own «Представление», then writes a note).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from lxml import etree

from onboarding.importing import values
from onboarding.importing.records import ClientIn, PersonIn

XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTACTINFO = "http://www.v8.1c.ru/ssl/contactinfo"
# A fragment of contact information is a few hundred bytes; a larger one is not contact info.
MAX_FRAGMENT = 64 * 1024

_PREFIX_USED = re.compile(r"(?:</?|\s)([A-Za-z_][\w.-]*):[^\s=/>:]+")
_PREFIX_DECLARED = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=")
_BARE_AMPERSAND = re.compile(r"&(?!#?\w+;)")
_ROOT_START = re.compile(r"<(?![?!])[^\s/>]+")
_COMPOSITION_KINDS = {
    "номертелефона": "телефон",
    "электроннаяпочта": "почта",
    "номерфакса": "факс",
    "вебстраница": "веб",
    "адрес": "адрес",
}


@dataclass(frozen=True)
class Read:
    value: str = ""  # what a person would type: the address, the number, the e-mail
    kind: str = ""  # телефон, почта, факс, адрес, веб (when the fragment says)


def read(embedded: str) -> Read:
    """The value and kind of one «ЗначенияПолей»; Read() when nothing could be read."""
    text = embedded.strip()
    if not text or len(text) > MAX_FRAGMENT:
        return Read()
    if text.startswith("<"):
        return _from_xml(text)
    if text.startswith("{"):
        return _from_json(text)
    if "=" in text and "@" not in text.partition("=")[0]:
        return _from_lines(text)
    return Read(" ".join(text.split()))


def _declared(text: str) -> str:
    """The fragment with every prefix it uses but does not declare declared on its root
    (`xsi` as XML Schema's instance namespace, any other as 1C's contactinfo namespace)."""
    missing = (
        set(_PREFIX_USED.findall(text)) - set(_PREFIX_DECLARED.findall(text)) - {"xml", "xmlns"}
    )
    if not missing:
        return text
    declarations = "".join(
        f' xmlns:{prefix}="{XSI if prefix == "xsi" else CONTACTINFO}"' for prefix in sorted(missing)
    )
    match = _ROOT_START.search(text)
    if match is None:
        return text
    return text[: match.end()] + declarations + text[match.end() :]


def _parse(text: str) -> Any:
    strict = etree.XMLParser(resolve_entities=False, no_network=True)
    data = text.encode("utf-8")
    try:
        return etree.fromstring(data, strict)
    except etree.XMLSyntaxError:
        pass
    try:
        return etree.fromstring(_declared(text).encode("utf-8"), strict)
    except etree.XMLSyntaxError:
        pass
    # A bare "&" (a company name typed into an address) is the commonest damage: escaped
    # first, then libxml2's recovering parser keeps whatever else it can.
    repaired = _BARE_AMPERSAND.sub("&amp;", _declared(text))
    tolerant = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        return etree.fromstring(repaired.encode("utf-8"), tolerant)
    except etree.XMLSyntaxError:
        return None


def _name(qualified: Any) -> str:
    """A tag or attribute name without its namespace or (undeclared, recovered) prefix."""
    if not isinstance(qualified, str):
        return ""
    return qualified.rpartition("}")[2].rpartition(":")[2]


def _attribute(element: Any, name: str) -> str:
    """An attribute by its local name: unqualified (the common case) first, then with any
    namespace or recovered prefix."""
    value = element.get(name)
    if value is None and name == "type":
        value = element.get(f"{{{XSI}}}type")
    if value is None:
        value = next((v for k, v in element.attrib.items() if _name(k) == name), None)
    return " ".join(str(value).split()) if value else ""


def _from_xml(text: str) -> Read:
    root = _parse(text)
    if root is None:
        return Read()
    composition = next((e for e in root if _name(e.tag) == "Состав"), None)
    if composition is None:  # an address nests its parts deeper
        composition = next((e for e in root.iter() if _name(e.tag) == "Состав"), None)
    kind = ""
    value = ""
    if composition is not None:
        declared_type = _name(_attribute(composition, "type")).lower()
        kind = _COMPOSITION_KINDS.get(declared_type, declared_type)
        value = _attribute(composition, "Значение") or _phone_of(composition)
    shown = _attribute(root, "Представление")
    if not shown:
        shown = next(
            (
                " ".join(e.text.split())
                for e in root.iter()
                if _name(e.tag) == "Представление" and e.text
            ),
            "",
        )
    return Read(shown or value, kind)


def _phone_of(element: Any) -> str:
    """A phone from its parts: «Состав КодСтраны="7" КодГорода="495" Номер="…"
    Добавочный="…"»."""
    parts = [
        _attribute(element, "КодСтраны"),
        _attribute(element, "КодГорода"),
        _attribute(element, "Номер"),
    ]
    if not parts[2]:
        return ""
    number = " ".join(p for p in parts if p)
    if parts[0] and not parts[0].startswith("+"):
        number = "+" + number
    extension = _attribute(element, "Добавочный")
    return f"{number} доб. {extension}" if extension else number


_JSON_VALUE_KEYS = ("value", "Представление", "presentation", "Значение", "EMail", "Email")
_JSON_KIND_KEYS = ("type", "Тип", "kind")


def _from_json(text: str) -> Read:
    try:
        loaded = json.loads(text)
    except ValueError:
        return Read()
    if not isinstance(loaded, dict):
        return Read()
    lowered = {str(k).lower(): v for k, v in loaded.items()}
    value = next((str(lowered[k.lower()]) for k in _JSON_VALUE_KEYS if lowered.get(k.lower())), "")
    if not value and lowered.get("number"):
        value = " ".join(
            str(lowered[k]) for k in ("countrycode", "areacode", "number") if lowered.get(k)
        )
        if lowered.get("countrycode") and not value.startswith("+"):
            value = "+" + value
    kind = next((str(lowered[k.lower()]) for k in _JSON_KIND_KEYS if lowered.get(k.lower())), "")
    kind = kind.lower().replace("адресэлектроннойпочты", "почта").replace("email", "почта")
    return Read(" ".join(value.split()), kind)


def _from_lines(text: str) -> Read:
    fields: dict[str, str] = {}
    for line in re.split(r"[\r\n]+", text):
        key, equals, value = line.partition("=")
        if equals:
            fields[key.strip()] = value.strip()
    value = fields.get("Представление") or fields.get("Значение") or fields.get("АдресЭП", "")
    if not value and fields.get("НомерТелефона"):
        value = " ".join(
            fields[k] for k in ("КодСтраны", "КодГорода", "НомерТелефона") if fields.get(k)
        )
        if fields.get("КодСтраны") and not value.startswith("+"):
            value = "+" + value
    return Read(" ".join(value.split()))


EMAIL, PHONE, FAX, WEB, ADDRESS, OTHER = "email", "phone", "fax", "web", "address", "other"


# The words of a contact's kind, in the order they are tried: «АдресЭлектроннойПочты» is an
# e-mail before it is an address, «ПочтовыйАдрес» is an address (not «почта»).
_KIND_WORDS = (
    (("электрон", "mail", "почта"), EMAIL),
    (("факс", "fax"), FAX),
    (("адрес", "почтов"), ADDRESS),
    (("тел", "phone", "моб"), PHONE),
    (("сайт", "веб", "web", "url"), WEB),
)
_PHONE_LIKE = re.compile(r"[\d\s()+\-.,;]+(?:доб\.?\s*\d+)?")


def classify(kind: str, value: str) -> str:
    """What a contact is, from the words 1C names its kind with («Телефон рабочий»,
    «ЭлектроннаяПочта», «EmailКонтрагента», «ПочтовыйАдресКонтрагента», «Факс», «Сайт»…) and,
    when they say nothing, from the value itself."""
    words = kind.lower().replace("ё", "е")
    found = next((what for stems, what in _KIND_WORDS if any(s in words for s in stems)), "")
    if not found and "@" in value and " " not in value.strip():
        found = EMAIL
    if not found and not words.strip() and _PHONE_LIKE.fullmatch(value.lower()):
        found = PHONE
    return found or OTHER


def place(kind: str, value: str, owner: ClientIn | PersonIn, notes: list[str]) -> None:
    """Put one contact where it belongs on its owner (a company's or a person's phones and
    e-mails, a company's site and addresses), or name it in the row's `notes` when the CRM
    has no place for it (a fax, a messenger)."""
    what = classify(kind, value)
    if what == EMAIL:
        owner.emails.extend(values.emails(value))
    elif what == PHONE:
        owner.phones.extend(values.phones(value))
    elif what == FAX:
        notes.append(_("The fax number %(value)s was not imported.") % {"value": value})
    elif what == WEB and isinstance(owner, ClientIn) and not owner.website:
        owner.website = value if "://" in value else f"https://{value}"
    elif what == ADDRESS and isinstance(owner, ClientIn):
        words = kind.lower()
        if "факт" in words or "почтов" in words or "доставк" in words:
            owner.postal_address = owner.postal_address or value
        else:
            owner.legal_address = owner.legal_address or value
    else:
        notes.append(
            _("The contact «%(kind)s: %(value)s» was not imported.")
            % {"kind": kind.strip() or "—", "value": value}
        )
