"""What every provider adapter gives the rest of telephony, in Relata's words."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.http import HttpRequest
from django.utils.functional import Promise

# What a webhook can say about a call.
STARTED = "started"  # the call reached the PBX (no extension rings yet, or an outgoing dial)
RINGING = "ringing"  # an extension rings
ANSWERED = "answered"
ENDED = "ended"
MISSED = "missed"
RECORDING = "recording"  # the recording is ready
IGNORED = "ignored"  # a webhook kept for its key, saying nothing about a customer call
KINDS = {STARTED, RINGING, ANSWERED, ENDED, MISSED, RECORDING, IGNORED}


@dataclass(frozen=True)
class Credentials:
    """The connection's keys, decrypted for one request and never stored or logged."""

    # Never in a repr: a log line or an error report that prints this shows no key.
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)


@dataclass(frozen=True)
class CallUpdate:
    """One webhook's news about one call. Empty fields mean "not said", never "cleared"."""

    external_id: str
    kind: str
    event_key: str
    direction: str = ""  # "incoming" / "outgoing"
    number: str = ""  # the customer's side
    line_number: str = ""
    extension: str = ""
    at: datetime | None = None
    duration: int | None = None
    recording_ref: str = ""
    # The provider's code of how the call ended (Mango's disconnect_reason), kept as sent.
    end_reason: str = ""


class RefusedEventError(Exception):
    """A webhook not taken: ``status`` is the HTTP answer, ``message`` says why (logged too)."""

    def __init__(self, status: int, code: str, message: str | Promise) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = str(message)


class DialError(Exception):
    """Click-to-call failed; the message is for the manager."""


class Adapter(Protocol):
    provider: str

    def parse(
        self, request: HttpRequest, credentials: Credentials, *, event: str = ""
    ) -> tuple[list[CallUpdate], dict[str, Any]]:
        """The updates in the webhook and its payload (for the event log); raises
        ``RefusedEventError`` for a forged, stale or malformed one."""
        ...

    def dial(self, credentials: Credentials, *, extension: str, number: str) -> None:
        """Ask the PBX to ring ``extension`` and then connect it to ``number``."""
        ...

    def recording_link(self, credentials: Credentials, recording_ref: str) -> str:
        """A link the browser can play the recording from, for a few minutes."""
        ...


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def digits(number: str) -> str:
    """A number as PBX APIs take it: digits only (79161234567)."""
    return "".join(ch for ch in number if ch.isdigit())
