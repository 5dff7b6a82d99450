"""Turning what people type into what the CRM stores: tax ids and phone numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.ru import inn as ru_inn

_DIGITS = re.compile(r"\D+")
# "доб. 12", "добавочный 12", "вн. 12" (внутренний), "ext 12" — a comma before it too.
_EXTENSION = re.compile(
    r"(?i)\s*[,;]?\s*\b(?:доб|добавочный|вн|внутр|внутренний|ext|extension)\b\.?\s*"
)


def clean_inn(raw: str, *, foreign: bool = False) -> tuple[str, str]:
    """(tax id, status). A Russian INN must pass its checksum; a foreign tax id is kept as
    typed and flagged. Excel drops the leading zero of 9- and 11-digit INNs: restored."""
    value = raw.strip()
    if not value:
        return "", ""
    if foreign:
        return value, "foreign"
    digits = _DIGITS.sub("", value)
    if len(digits) in (9, 11):
        digits = "0" + digits
    if len(digits) not in (10, 12) or not ru_inn.is_valid(digits):
        raise ValidationError(
            _(
                "INN %(inn)s is not valid: a Russian INN has 10 or 12 digits "
                "with a correct checksum."
            )
            % {"inn": value},
            code="invalid_inn",
        )
    return digits, "valid"


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    extension: str
    raw: str


# A number as Russians type one: ASCII digits with spaces, brackets and dashes, "+7", "8" or
# "7" in front or not, maybe an extension ("доб. 12") after it. ASCII only: other digits
# (fullwidth "９") and separators phonenumbers does not take (tabs) go to phonenumbers.
_PLAIN_RUSSIAN = re.compile(
    r"(\+?[0-9 \u00a0()-]+?)"
    r"(?: ?[,;]? ?\b(?:доб|добавочный|вн|внутр|внутренний|ext|extension)\b\.? ?([0-9]{1,6}))?",
    re.IGNORECASE,
)
_PLAIN_LENGTH = 60  # longer text is not a plain number: the full parser judges it
_NOT_ASCII_DIGITS = re.compile(r"[^0-9]+")


def parse_phone(raw: str, *, region: str = "RU") -> PhoneNumber:
    """E.164 and extension of a phone number typed in any of the usual Russian ways
    ("8 916 …", "+7 (916) …", "916…", "доб. 12"), judged with the company's default region."""
    text = raw.strip()
    if region == "RU" and (plain := _plain_russian(text)) is not None:
        return plain
    normalised = _EXTENSION.sub(" ext. ", text)
    try:
        number = phonenumbers.parse(normalised, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(phone)s is not a phone number.") % {"phone": text}, code="invalid_phone"
        ) from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(phone)s is not a phone number that can be called.") % {"phone": text},
            code="invalid_phone",
        )
    return PhoneNumber(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or "",
        raw=text,
    )


def _plain_russian(text: str) -> PhoneNumber | None:
    """The usual spellings of a +7 number read without phonenumbers' parser (~30 µs a number,
    most of a bulk import's phone work): the ten national digits are found here and
    phonenumbers only judges them (is_valid_number, its own metadata). Anything else — other
    countries, "8 10" dialling, odd lengths, an invalid number — is None and goes through the
    full parser; the tests check both ways give the same answer."""
    match = _PLAIN_RUSSIAN.fullmatch(text) if len(text) <= _PLAIN_LENGTH else None
    if match is None:
        return None
    number, extension = match.group(1), match.group(2) or ""
    digits = _NOT_ASCII_DIGITS.sub("", number)
    if (
        len(digits) == 11
        and digits[0] in "78"
        and not (number.startswith("+") and digits[0] != "7")
    ):
        digits = digits[1:]
    elif len(digits) != 10 or number.startswith("+") or digits[0] in "78":
        return None
    parsed = phonenumbers.PhoneNumber(
        country_code=7, national_number=int(digits), extension=extension or None
    )
    if not phonenumbers.is_valid_number(parsed):
        return None
    return PhoneNumber(e164="+7" + digits, extension=extension, raw=text)
