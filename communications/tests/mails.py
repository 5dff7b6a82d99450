"""Messages as mail programs really send them, built byte by byte for the tests."""

from __future__ import annotations

import base64
from datetime import datetime
from email.utils import format_datetime


def b_word(text: str, charset: str) -> str:
    """An RFC 2047 encoded word (=?charset?B?…?=)."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def _h(value: str) -> str:
    """Headers are ASCII: a Cyrillic name or subject goes as an encoded word."""
    if value.isascii():
        return value
    if "<" in value:
        name, address = value.split("<", 1)
        return f"{b_word(name.strip(), 'utf-8')} <{address}"
    return b_word(value, "utf-8")


def plain(
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    date: datetime | None = None,
    extra: str = "",
    charset: str = "utf-8",
) -> bytes:
    date_line = f"Date: {format_datetime(date)}\r\n" if date else ""
    head = (
        f"From: {_h(sender)}\r\nTo: {to}\r\nSubject: {_h(subject)}\r\n"
        f"Message-ID: {message_id}\r\n{date_line}{extra}MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body.encode(charset) + b"\r\n"


def with_attachment(sender: str, to: str, message_id: str, name: str, payload: bytes) -> bytes:
    encoded = base64.encodebytes(payload)
    return (
        (
            f"From: {sender}\r\nTo: {to}\r\nSubject: Files\r\nMessage-ID: {message_id}\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
            "--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file.\r\n"
            f'--XYZ\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + encoded
        + b"\r\n--XYZ--\r\n"
    )
