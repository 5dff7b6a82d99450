"""Reading an e-mail as it comes: headers in RFC 2047 (=?koi8-r?B?…?=), bodies in KOI8-R,
windows-1251 or a charset the message does not name, broken MIME — every message is read as
well as it can be and what went wrong is said, never dropped.

Python's own ``email`` parser does the MIME work; this module decides what to do when a
message lies about its charset or its structure.
"""

from __future__ import annotations

import email
import email.message
import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header, decode_header, make_header
from typing import cast

from charset_normalizer import from_bytes
from django.utils import timezone

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Precedence values that mark a message nobody typed (RFC 3834 and common practice).
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
MAX_TEXT = 1_000_000  # characters kept of one body: a letter, not a dump


@dataclass
class ParsedAttachment:
    name: str
    content_type: str
    payload: bytes


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    automatic: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """The Message-IDs this one answers, nearest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        return ids + [r for r in reversed(self.references) if r not in ids]


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Text of ``data`` in ``charset``; when that is missing, unknown or wrong, the charset
    the bytes look like. The flag says whether a guess was needed."""
    if charset:
        try:
            return data.decode(charset), False
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), charset is not None and charset.lower() not in {"utf-8"}
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp1251", "koi8_r", "cp866", "iso8859_5", "latin_1"])
    match = best.best()
    if match is not None:
        return str(match), True
    return data.decode("utf-8", errors="replace"), True


def header_text(value: object) -> str:
    """A header as a person reads it: encoded words decoded, raw 8-bit bytes guessed."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # The parser found 8-bit bytes with no charset named ("unknown-8bit"): guess it.
        return _joined(decode_header(value))
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # 8-bit bytes in a header (no RFC 2047): the parser kept them as surrogates.
        text, _guessed = decode_bytes(raw.encode("ascii", "surrogateescape"), None)
        return " ".join(text.split())
    try:
        return " ".join(str(make_header(decode_header(raw))).split())
    except (LookupError, UnicodeDecodeError, ValueError, email.errors.HeaderParseError):
        return _joined(decode_header(raw))


def _joined(chunks: list[tuple[bytes | str, str | None]]) -> str:
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            known = None if charset in {None, "unknown-8bit"} else charset
            parts.append(decode_bytes(chunk, known)[0])
        else:
            parts.append(chunk)
    return " ".join("".join(parts).split())


def _addresses(message: email.message.Message, name: str) -> list[tuple[str, str]]:
    values = [header_text(v) for v in message.get_all(name, [])]
    found = []
    for display, raw_address in email.utils.getaddresses(values):
        address = raw_address.strip().lower()
        if "@" in address:
            found.append((display.strip(), address[:320]))
    return found


def is_automatic(message: email.message.Message) -> bool:
    """An auto-reply, a bounce or a list mailing: answering it could start a mail loop."""
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in AUTOMATIC_PRECEDENCE:
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond") or message.get("List-Id"):
        return True
    if message.get_content_type() == "multipart/report":
        return True
    sender = str(message.get("From", "")).lower()
    return "mailer-daemon@" in sender or "postmaster@" in sender


def _date(message: email.message.Message) -> datetime | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _filename(part: email.message.Message) -> str:
    """The attachment's name: RFC 2231 and RFC 2047 forms, and the raw UTF-8 or windows-1251
    bytes many mail programs put in quotes."""
    header = part.get("Content-Disposition")
    if isinstance(header, Header):
        # 8-bit bytes in the header: read it as text first, then take the parameter.
        holder = email.message.Message()
        holder["Content-Disposition"] = _joined(decode_header(header))
        name = holder.get_filename()
    else:
        name = part.get_filename()
    if not name:
        raw_type = part.get("Content-Type")
        if isinstance(raw_type, Header):
            holder = email.message.Message()
            holder["Content-Type"] = _joined(decode_header(raw_type))
            name = holder.get_param("name")
    return header_text(name)[:255] if name else ""


def _walk_body(message: email.message.Message, mail: ParsedMail) -> None:
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = str(part.get("Content-Disposition", "")).lower()
        filename = _filename(part)
        content_type = part.get_content_type()
        try:
            payload = cast(bytes | None, part.get_payload(decode=True))
        except Exception:
            payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
            mail.problems.append("a part could not be decoded")
        if payload is None:
            payload = b""
        is_file = bool(filename) or disposition.startswith("attachment")
        if not is_file and content_type in {"text/plain", "text/html"}:
            text, guessed = decode_bytes(payload, part.get_content_charset())
            if guessed:
                mail.problems.append(f"charset guessed for {content_type}")
            if content_type == "text/plain" and not mail.text:
                mail.text = text[:MAX_TEXT]
            elif content_type == "text/html" and not mail.html:
                mail.html = text[:MAX_TEXT]
            continue
        if not is_file and not payload:
            continue
        name = filename or f"part.{content_type.split('/')[-1]}"
        mail.attachments.append(ParsedAttachment(name[:255], content_type[:200], payload))


def parse(raw: bytes) -> ParsedMail:
    """Read one message; never raises for bad input (``problems`` says what was wrong)."""
    mail = ParsedMail()
    message = email.message_from_bytes(raw)
    if message.defects:
        mail.problems.append(
            "malformed: " + ", ".join(sorted({type(d).__name__ for d in message.defects}))
        )
    ids = MESSAGE_ID.findall(header_text(message.get("Message-ID")))
    mail.message_id = ids[0][:998] if ids else ""
    replied = MESSAGE_ID.findall(header_text(message.get("In-Reply-To")))
    mail.in_reply_to = replied[0][:998] if replied else ""
    mail.references = MESSAGE_ID.findall(header_text(message.get("References")))[-50:]
    mail.subject = header_text(message.get("Subject"))[:500]
    senders = _addresses(message, "From")
    if senders:
        mail.from_name, mail.from_address = senders[0]
        mail.from_name = mail.from_name[:300]
    mail.to = [a for _n, a in _addresses(message, "To")][:100]
    mail.cc = [a for _n, a in _addresses(message, "Cc")][:100]
    mail.date = _date(message)
    mail.automatic = is_automatic(message)
    _walk_body(message, mail)
    if not mail.text and not mail.html and not mail.attachments and raw.strip():
        mail.problems.append("no readable body")
    return mail
