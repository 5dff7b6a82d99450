"""The signed tokens of a campaign letter's public links (unsubscribe, tracked click, open).

Each token names a recipient (and a link) by id and is signed with a salt that contains the
company's schema: a token made for company A does not verify on company B's host, so B's
records can never be reached — or even told apart from a bad link — through A's letters.
Tokens do not expire: an unsubscribe link must work years after the letter."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from relata.db import connection


class BadTokenError(Exception):
    """Not a token of this company (forged, cut short, or another company's)."""


@dataclass(frozen=True)
class Claim:
    recipient_id: int
    link_id: int | None = None


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=f"marketing:{purpose}:{connection.schema_name}")


def make(purpose: str, recipient_id: int, link_id: int | None = None) -> str:
    value = f"{recipient_id}" if link_id is None else f"{recipient_id}.{link_id}"
    return _signer(purpose).sign(value)


def read(purpose: str, token: str) -> Claim:
    if not token or len(token) > 200:
        raise BadTokenError(purpose)
    try:
        value = _signer(purpose).unsign(token)
    except signing.BadSignature:
        raise BadTokenError(purpose) from None
    parts = value.split(".")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise BadTokenError(purpose) from None
    if len(numbers) == 1:
        return Claim(numbers[0])
    if len(numbers) == 2:
        return Claim(numbers[0], numbers[1])
    raise BadTokenError(purpose)
