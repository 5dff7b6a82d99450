"""People's names in what the CRM writes in Russian: "Сделка с Георгием Орловым", not
"Сделка с Орлов Георгий".

A request's name is free text: "Орлов Георгий", "Георгий Орлов", "Анна Петровна Сидорова",
"Георгий", or a company ("ООО Ромашка"). pymorphy3's dictionary tells which word is a first
name, a patronymic or a surname (and the person's gender from the first name); petrovich's
rules (pytrovich) decline each part — they know the surnames that do not decline (Черных,
Шевченко for a woman). Anything not recognised as a person is left as written, and the
caller chooses a phrase that needs no declension.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

WORD = re.compile(r"^[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?$")


@cache
def _morph() -> Any:  # pymorphy3 ships no type hints
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@cache
def _petrovich() -> Any:
    from pytrovich import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker()


def _roles(word: str) -> dict[str, str]:
    """What the word can be, in the nominative singular: {"Name"|"Patr"|"Surn": "masc"|"femn"}."""
    found: dict[str, str] = {}
    for parse in _morph().parse(word):
        tag = parse.tag
        if "nomn" not in tag or "sing" not in tag:
            continue
        for role in ("Name", "Patr", "Surn"):
            if role in tag and role not in found:
                found[role] = "femn" if "femn" in tag else "masc"
    return found


def instrumental(name: str) -> str | None:
    """The person's name in the instrumental case ("с кем?"), or None when it is not a
    recognisable Russian person's name (a company, initials, Latin letters, numbers)."""
    words = name.split()
    if not 1 <= len(words) <= 3 or not all(WORD.match(w) for w in words):
        return None
    roles = [_roles(w) for w in words]
    first = next((i for i, r in enumerate(roles) if "Name" in r), None)
    middle = next((i for i, r in enumerate(roles) if "Patr" in r and i != first), None)
    if first is None:
        # A surname alone ("Орлов") is still a person; anything else is not recognised.
        if len(words) == 1 and "Surn" in roles[0]:
            return _decline([("lastname", words[0])], roles[0]["Surn"])
        return None
    gender = roles[first]["Name"]
    if middle is not None:
        gender = roles[middle]["Patr"]
    parts: list[tuple[str, str]] = []
    for i, word in enumerate(words):
        part = "firstname" if i == first else "middlename" if i == middle else "lastname"
        parts.append((part, word))
    if sum(1 for part, _w in parts if part == "lastname") > 1:
        return None
    return _decline(parts, gender)


def _decline(parts: list[tuple[str, str]], gender: str) -> str:
    from pytrovich import Case, Gender, NamePart

    sex = Gender.FEMALE if gender == "femn" else Gender.MALE
    kinds = {
        "firstname": NamePart.FIRSTNAME,
        "middlename": NamePart.MIDDLENAME,
        "lastname": NamePart.LASTNAME,
    }
    declined = [
        _petrovich().make(kinds[part], sex, Case.INSTRUMENTAL, word) for part, word in parts
    ]
    # Written in the order people say it: first name, patronymic, surname.
    order = {"firstname": 0, "middlename": 1, "lastname": 2}
    ranked = sorted(zip(parts, declined, strict=True), key=lambda pair: order[pair[0][0]])
    return " ".join(word for _part, word in ranked)


def deal_title(name: str) -> str:
    """The title of a deal made for someone: "Сделка с Георгием Орловым"; for a company or a
    name that cannot be declined, "Сделка с клиентом ООО «Ромашка»"."""
    name = name.strip()
    person = instrumental(name) if (get_language() or "").startswith("ru") else None
    if person:
        return _("Deal with %(person)s") % {"person": person}
    return _("Deal with the client %(client)s") % {"client": name}
