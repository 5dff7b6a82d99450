"""The contact person's name as a letter addresses them: "Уважаемая Анна Петровна", "Анне".

A contact person's first, middle and last names are separate fields, so which word is which is
known; the gender comes from the patronymic or the first name (petrovich's detector, pytrovich),
and petrovich's rules decline each part. A name it cannot place (a Latin name, an
androgynous one without a patronymic) is left as written and the greeting is the neutral one.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

CYRILLIC = re.compile(r"^[А-ЯЁа-яё-]+$")


@cache
def _maker() -> Any:  # pytrovich ships no type hints
    from pytrovich.maker import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker()


@cache
def _detector() -> Any:
    from pytrovich.detector import PetrovichGenderDetector

    return PetrovichGenderDetector()


def gender(first_name: str, middle_name: str) -> str:
    """ "male", "female" or "" (not known)."""
    from pytrovich.enums import Gender

    if not first_name or not CYRILLIC.match(first_name):
        return ""
    if middle_name and not CYRILLIC.match(middle_name):
        middle_name = ""
    try:
        found = _detector().detect(firstname=first_name, middlename=middle_name or None)
    except Exception:  # the detector's rules raise on shapes they do not know
        return ""
    return {Gender.MALE: "male", Gender.FEMALE: "female"}.get(found, "")


def dative(word: str, part: str, sex: str) -> str:
    """``word`` (a first, middle or last name) in the dative case ("кому?")."""
    from pytrovich.enums import Case, Gender, NamePart

    if not word or not sex or not CYRILLIC.match(word):
        return word
    kinds = {"first": NamePart.FIRSTNAME, "middle": NamePart.MIDDLENAME, "last": NamePart.LASTNAME}
    chosen = Gender.FEMALE if sex == "female" else Gender.MALE
    try:
        return str(_maker().make(kinds[part], chosen, Case.DATIVE, word))
    except Exception:
        return word
