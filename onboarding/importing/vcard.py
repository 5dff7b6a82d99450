"""vCard (.vcf) files: what Outlook, Android, iOS and most phone books export contacts as.

Several cards per file, vCard 2.1 (Outlook; QUOTED-PRINTABLE values in windows-1251 with a
CHARSET parameter), 3.0 and 4.0. Each card is a person with their phones, e-mails and
position; its ORG makes (or finds) the client company, and a card without ORG is a private
person's client. A card with an ORG and no name is the company's own card: its phones and
e-mails are the company's.

The file is cut into cards as it is read (one card in memory at a time) and each card is
parsed by vobject on its own, so a damaged card is one rejected row, not a failed file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import IO, Any

import vobject
from django.utils.translation import gettext as _

from onboarding.importing import kinds, values
from onboarding.importing.records import ClientIn, PersonIn, SourceRow

# A card beyond this is not a contact (a photo is left out before the limit is counted).
MAX_CARD_BYTES = 1024 * 1024
_BLOCK = 64 * 1024
# Properties read into the CRM, or that carry nothing a person typed.
_USED = {"N", "FN", "ORG", "TITLE", "ROLE", "TEL", "EMAIL", "ADR", "URL", "UID"}
_TECHNICAL = {
    "VERSION", "PRODID", "REV", "LABEL", "SORT-STRING", "KIND", "CLASS", "MAILER", "TZ", "GEO",
    "SOURCE", "NAME", "PROFILE", "XML", "CLIENTPIDMAP", "LANG", "GENDER", "BEGIN", "END",
}  # fmt: skip
# Binary properties: left out before parsing (a phone book's photo is most of its bytes).
_BINARY = ("PHOTO", "LOGO", "SOUND", "KEY", "X-MS-CARDPICTURE")
# X- properties that hold what a person typed (a messenger address): named when left out.
_PERSONAL_X = ("SKYPE", "ICQ", "JABBER", "TELEGRAM", "WHATSAPP", "AIM", "MSN", "YAHOO", "QQ")
_PROPERTY = re.compile(rb"^(?:[\w-]+\.)?([A-Za-z][\w-]*)")
_BEGIN = re.compile(rb"^\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
_END = re.compile(rb"^\s*END\s*:\s*VCARD\s*$", re.IGNORECASE)
_QP_WITHOUT_CHARSET = re.compile(
    r"^((?:[\w-]+\.)?[A-Za-z][\w-]*)((?:;(?![^:]*CHARSET=)[^:]*)?QUOTED-PRINTABLE[^:]*):",
    re.IGNORECASE | re.MULTILINE,
)


def read(stream: IO[bytes], encoding: str) -> Iterator[SourceRow]:
    for number, raw in enumerate(_cards(stream, encoding), start=1):
        yield card_row(number, raw)


def _lines(stream: IO[bytes], encoding: str) -> Iterator[bytes]:
    """The file's lines as bytes, read a block at a time (UTF-16 re-encoded to UTF-8)."""
    stream.seek(0)
    utf16 = encoding.lower().replace("_", "-").startswith("utf-16")
    decoder = codecs.getincrementaldecoder("utf-16")("replace") if utf16 else None
    rest = b""
    while block := stream.read(_BLOCK):
        if decoder is not None:
            block = decoder.decode(block).encode("utf-8")
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_CARD_BYTES:  # no line break for a megabyte: not a vCard line
            lines.append(rest)
            rest = b""
        for line in lines:
            yield line + b"\n"
    if rest:
        yield rest


def _cards(stream: IO[bytes], encoding: str) -> Iterator[bytes]:
    """Each BEGIN:VCARD … END:VCARD block's bytes (an AGENT's nested card stays inside its
    card), without binary properties; text outside the cards is skipped."""
    card: list[bytes] = []
    depth = 0
    size = 0
    skipping = False
    for read_line in _lines(stream, encoding):
        line = read_line.lstrip(b"\xef\xbb\xbf")
        if _BEGIN.match(line):
            depth += 1
        if depth == 0:
            continue
        if line[:1] in (b" ", b"\t") and skipping:
            continue  # a folded line of a left-out photo
        name = _PROPERTY.match(line)
        skipping = bool(name and name.group(1).upper().decode() in _BINARY)
        if skipping:
            continue
        size += len(line)
        if size <= MAX_CARD_BYTES:
            card.append(line)
        if _END.match(line):
            depth -= 1
            if depth == 0:
                yield b"".join(card) if size <= MAX_CARD_BYTES else b""
                card, size = [], 0


def _text(raw: bytes) -> str:
    """A card's text: UTF-8 when it decodes as such, otherwise its CHARSET (windows-1251 by
    default: the Russian Outlook's)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = re.search(rb"CHARSET=([\w-]+)", raw, re.IGNORECASE)
    name = charset.group(1).decode() if charset else "cp1251"
    try:
        codecs.lookup(name)
    except LookupError:
        name = "cp1251"
    return raw.decode(name, errors="replace")


def _parse(text: str) -> Any:
    try:
        return vobject.readOne(text, allowQP=True, transform=True, ignoreUnreadable=True)
    except (UnicodeDecodeError, LookupError):
        # Quoted-printable bytes with no CHARSET (or one Python does not know): Outlook's
        # Russian bytes are windows-1251.
        fixed = _QP_WITHOUT_CHARSET.sub(r"\1;CHARSET=WINDOWS-1251\2:", text)
        fixed = re.sub(r"CHARSET=[^;:]+", "CHARSET=WINDOWS-1251", fixed)
        return vobject.readOne(fixed, allowQP=True, transform=True, ignoreUnreadable=True)


def card_row(number: int, raw: bytes) -> SourceRow:
    row = SourceRow(number=number)
    if not raw:
        row.rejected = str(
            _("The card is larger than %(mb)s MB without its photo: not a contact.")
            % {"mb": MAX_CARD_BYTES // 2**20}
        )
        return row
    try:
        card = _parse(_text(raw))
    except Exception as exc:  # vobject raises many kinds; the row says which
        row.rejected = str(_("The card could not be read: %(error)s") % {"error": exc})
        return row
    client = row.client = _client(card, row.notes)
    person = client.persons[0] if client.persons else None
    shown = {
        _("Full name"): person_name(person) if person else "",
        _("Organisation"): client.name if client.kind != kinds.PERSON else "",
        _("Phone"): ", ".join((person.phones if person else client.phones)[:3]),
        _("E-mail"): ", ".join((person.emails if person else client.emails)[:3]),
    }
    row.values = {str(k): v for k, v in shown.items() if v}
    if not (client.name or client.full_name):
        row.rejected = str(_("The card has no name and no organisation."))
    return row


def person_name(person: PersonIn) -> str:
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


def _client(card: Any, notes: list[str]) -> ClientIn:
    organisation, department = _organisation(card)
    person = _person(card, department)
    phones, emails = _phones(card, notes), _emails(card)
    address = _address(card)
    website = _first(card, "URL")
    if not organisation:
        # A private person: the client is the person, their contacts on their card.
        person.phones, person.emails = phones, emails
        name = person_name(person) or _first(card, "FN")
        client = ClientIn(
            name=name,
            kind=kinds.client_kind(name=name, default=kinds.PERSON),
            postal_address=address,
            website=_website(website),
            persons=[person] if name else [],
        )
    else:
        client = ClientIn(
            name=organisation,
            kind=kinds.client_kind(name=organisation, default=kinds.LEGAL),
            known_by_name=True,
        )
        if person.last_name or person.first_name:
            person.phones, person.emails = phones, emails
            client.persons.append(person)
        else:  # the company's own card
            client.phones, client.emails = phones, emails
            client.postal_address = address
            client.website = _website(website)
    _left_out(card, notes)
    return client


def _first(card: Any, name: str) -> str:
    for line in card.contents.get(name.lower(), []):
        value = line.value
        if isinstance(value, list):
            value = ";".join(map(str, value))
        text = " ".join(str(value).split())
        if text:
            return text
    return ""


def _organisation(card: Any) -> tuple[str, str]:
    for line in card.contents.get("org", []):
        parts = line.value if isinstance(line.value, list) else [line.value]
        parts = [" ".join(str(p).split()) for p in parts]
        parts = [p for p in parts if p]
        if parts:
            return parts[0], ", ".join(parts[1:])
    return "", ""


def _person(card: Any, department: str) -> PersonIn:
    last = first = middle = ""
    for line in card.contents.get("n", []):
        value = line.value
        if isinstance(value, vobject.vcard.Name):
            last, first, middle = (
                " ".join(_joined(value.family).split()),
                " ".join(_joined(value.given).split()),
                " ".join(_joined(value.additional).split()),
            )
        else:
            parts = [*str(value).split(";"), "", "", ""]
            last, first, middle = (" ".join(p.split()) for p in parts[:3])
        if last or first:
            break
    if not (last or first):
        formatted = _first(card, "FN")
        if formatted:
            last, first, middle = values.person_name(formatted)
    position = _first(card, "TITLE") or _first(card, "ROLE")
    if department:
        position = f"{position}, {department}" if position else department
    uid = _first(card, "UID")
    return PersonIn(
        external_id=f"vcard:{uid}"[:200] if uid else "",
        last_name=last,
        first_name=first,
        middle_name=middle,
        position=position,
    )


def _joined(part: Any, separator: str = " ") -> str:
    """A structured value's part: vobject splits a part at its commas (vCard 3.0's lists),
    which in an address are the street's own ("ул. Ленина, 1")."""
    return separator.join(map(str, part)) if isinstance(part, list) else str(part or "")


def _types(line: Any) -> set[str]:
    """A property's types however written: TYPE=WORK,VOICE (3.0), TYPE="work,voice" (4.0),
    ;WORK;VOICE (2.1)."""
    found = {str(t).lower() for t in line.singletonparams}
    for value in line.params.get("TYPE", []):
        found.update(t.strip().lower() for t in str(value).split(","))
    return found


def _phones(card: Any, notes: list[str]) -> list[str]:
    phones: list[str] = []
    for line in card.contents.get("tel", []):
        value = " ".join(str(line.value).split())
        value = re.sub(r"^tel:", "", value, flags=re.IGNORECASE)
        if not value:
            continue
        if "fax" in _types(line):
            notes.append(_("The fax number %(value)s was not imported.") % {"value": value})
            continue
        phones.extend(values.phones(value))
    return phones


def _emails(card: Any) -> list[str]:
    emails: list[str] = []
    for line in card.contents.get("email", []):
        emails.extend(values.emails(re.sub(r"^mailto:", "", str(line.value), flags=re.I)))
    return emails


def _address(card: Any) -> str:
    lines = card.contents.get("adr", [])
    lines = sorted(lines, key=lambda line: "work" not in _types(line))
    for line in lines:
        value = line.value
        if isinstance(value, vobject.vcard.Address):
            parts = [
                value.code,
                value.country,
                value.region,
                value.city,
                value.street,
                value.extended,
                value.box,
            ]
            texts = (" ".join(_joined(p, ", ").split()) for p in parts)
            text = ", ".join(t for t in texts if t)
        else:
            text = ", ".join(p.strip() for p in str(value).split(";") if p.strip())
        if text:
            return text
    return ""


def _website(value: str) -> str:
    if not value:
        return ""
    return value if "://" in value else f"https://{value}"


def _left_out(card: Any, notes: list[str]) -> None:
    """Name what the card holds that the CRM has no place for (a note, a birthday, a
    messenger), so nothing a person typed disappears without a word."""
    left = []
    for key, lines in card.contents.items():
        name = key.upper()
        if name in _USED or name in _TECHNICAL:
            continue
        if name.startswith("X-") and not any(word in name for word in _PERSONAL_X):
            continue
        shown = " ".join(str(lines[0].value).split())[:80] if lines else ""
        left.append(f"{name}: {shown}" if shown else name)
    if left:
        notes.append(
            _("Not imported from the card: %(properties)s.") % {"properties": "; ".join(left)}
        )
