"""Is a counterparty a legal entity, a sole trader or a private person? Read from what every
format has: the name, the tax id, the OGRNIP and whatever marker the format carries.

1C writes a sole trader (ИП) in several ways. CommerceML has no sole-trader marker at all:
an ИП arrives in an «ЮрЛицо» block (as an organisation) or in a «ФизЛицо» block (as a
person), and only its 12-digit INN, its OGRNIP or "ИП" in its name tell. EnterpriseData has
«ЮридическоеФизическоеЛицо» (or «ЮрФизЛицо»): ЮридическоеЛицо, ФизическоеЛицо and, in the
configurations that know it, ИндивидуальныйПредприниматель; 1C:Accounting keeps a sole
trader as ФизическоеЛицо with a 12-digit INN. A sheet has a "Вид" column, or nothing.

So a marker that says "sole trader" is believed, and any of the sole trader's own signs
(OGRNIP, "ИП …" in the name, a valid 12-digit Russian INN) overrides a marker that says
"person" or "organisation". A 12-digit tax id that fails the Russian checksum (a Kazakh BIN:
"ТОО …") is not a sign: it stays with its marker.
"""

from __future__ import annotations

import functools
import re

from stdnum.ru import inn as russian_inn

LEGAL, SOLE_TRADER, PERSON = "legal", "sole_trader", "person"

# "ИП Петров", "И.П. Петров", "Индивидуальный предприниматель Петров", "Петров ИП",
# "ИП: Петров" — "ИП" as a word, not the start of "ИПОТЕКА" or "Ипатов".
_SOLE_TRADER_NAME = re.compile(
    r"(?:^|[\s\"«(])(?:и\.?\s?п\.?|индивидуальн\w*\s+предпринимател\w*)(?=$|[\s\"».,:;)])",
    re.IGNORECASE,
)
_MARKERS = {
    # EnterpriseData's enumeration values, CommerceML's block names, a sheet's words.
    "индивидуальныйпредприниматель": SOLE_TRADER,
    "ип": SOLE_TRADER,
    "предприниматель": SOLE_TRADER,
    "sole_trader": SOLE_TRADER,
    "soletrader": SOLE_TRADER,
    "soleproprietor": SOLE_TRADER,
    "entrepreneur": SOLE_TRADER,
    "физическоелицо": PERSON,
    "физлицо": PERSON,
    "физ": PERSON,
    "частноелицо": PERSON,
    "person": PERSON,
    "individual": PERSON,
    "юридическоелицо": LEGAL,
    "юрлицо": LEGAL,
    "юр": LEGAL,
    "организация": LEGAL,
    "legal": LEGAL,
    "company": LEGAL,
    "юрлицонерезидент": LEGAL,
}


@functools.lru_cache(maxsize=256)  # a file repeats a handful of markers a million times
def marker_kind(marker: str) -> str:
    """The kind a format's marker names ("ФизЛицо", "ИндивидуальныйПредприниматель",
    "Юр. лицо", "ИП", "person"…), or "" when it names none."""
    word = re.sub(r"[\s.\-_/]+", "", marker.lower()).replace("ё", "е")
    if not word:
        return ""
    if word in _MARKERS:
        return _MARKERS[word]
    for prefix, kind in (("индивидуальн", SOLE_TRADER), ("физ", PERSON), ("юр", LEGAL)):
        if word.startswith(prefix):
            return kind
    return ""


def is_sole_trader_name(name: str) -> bool:
    lowered = name.lower()
    if "п" not in lowered:  # most names: no regex needed
        return False
    return bool(_SOLE_TRADER_NAME.search(lowered.replace("ё", "е")))


def is_personal_inn(inn: str) -> bool:
    """A valid 12-digit Russian INN: a natural person's (a sole trader's, in business)."""
    digits = inn.strip()
    return len(digits) == 12 and digits.isdigit() and russian_inn.is_valid(digits)


def client_kind(
    *,
    name: str = "",
    full_name: str = "",
    inn: str = "",
    ogrnip: str = "",
    marker: str = "",
    default: str = LEGAL,
) -> str:
    """Client.Kind's value ("legal", "sole_trader", "person") for a counterparty.

    `marker` is what the format says (see the module's text); `default` is the kind when
    nothing tells (a sheet's row of a company, a vCard without an organisation: "person").
    """
    said = marker_kind(marker)
    if said == SOLE_TRADER:
        return SOLE_TRADER
    ogrnip_digits = re.sub(r"\D", "", ogrnip)
    if (
        len(ogrnip_digits) == 15
        or is_sole_trader_name(name)
        or is_sole_trader_name(full_name)
        or is_personal_inn(inn)
    ):
        return SOLE_TRADER
    digits = inn.strip()
    if len(digits) == 10 and digits.isdigit() and said != LEGAL:
        # Only organisations have 10-digit INNs: a "person" with one is a company whose
        # contact person's name was written in (a web shop's buyer fields).
        return LEGAL
    return said or default
