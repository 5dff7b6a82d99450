"""Relata's own call-event format: JSON signed with HMAC-SHA256 over "<timestamp>.<body>".

Headers: ``X-Relata-Timestamp`` (Unix seconds) and ``X-Relata-Signature: sha256=<hex>``, keyed
with the company's webhook secret from the telephony settings screen. An event whose timestamp
is more than TELEPHONY_REPLAY_WINDOW_SECONDS away from now is refused as a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from telephony.models import Provider
from telephony.providers.base import (
    ANSWERED,
    ENDED,
    MISSED,
    RINGING,
    STARTED,
    CallUpdate,
    Credentials,
    DialError,
    RefusedEventError,
    same,
)
from telephony.serializers import CallEventSerializer

TIMESTAMP_HEADER = "X-Relata-Timestamp"
SIGNATURE_HEADER = "X-Relata-Signature"
KINDS = {"started": STARTED, "answered": ANSWERED, "ended": ENDED, "missed": MISSED}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class RelataAdapter:
    provider: str = Provider.RELATA

    def parse(
        self, request: HttpRequest, credentials: Credentials, *, event: str = ""
    ) -> tuple[list[CallUpdate], dict[str, Any]]:
        stamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
        given = request.headers.get(SIGNATURE_HEADER, "").strip()
        if not stamp or not given:
            raise RefusedEventError(
                401,
                "signature",
                _("Sign the event: %(ts)s and %(sig)s headers are required.")
                % {"ts": TIMESTAMP_HEADER, "sig": SIGNATURE_HEADER},
            )
        if not credentials.webhook_secret:
            # A secret that cannot be read (encrypted under another key: SECRET_KEY rotated, a
            # restored company) must not turn into the empty key anyone can sign with.
            raise RefusedEventError(
                401, "signature", _("The secret is not set: make a new one in the settings.")
            )
        if not same(signature(credentials.webhook_secret, stamp, request.body), given):
            raise RefusedEventError(401, "signature", _("The signature does not match."))
        try:
            sent_at = int(stamp)
        except ValueError:
            raise RefusedEventError(
                400, "malformed", _("The timestamp must be Unix seconds.")
            ) from None
        if abs(time.time() - sent_at) > settings.TELEPHONY_REPLAY_WINDOW_SECONDS:
            raise RefusedEventError(
                401, "stale", _("The event is too old or from the future: a replay is refused.")
            )
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise RefusedEventError(400, "malformed", _("The body is not JSON.")) from None
        if not isinstance(data, dict):
            raise RefusedEventError(400, "malformed", _("The body must be a JSON object."))
        checked = CallEventSerializer(data=data)
        if not checked.is_valid():
            error = RefusedEventError(400, "invalid", _("Some fields are not valid."))
            error.fields = checked.errors  # type: ignore[attr-defined]
            raise error
        values = checked.validated_data
        incoming = values["direction"] == "incoming"
        number = values.get("from_number", "") if incoming else values.get("to_number", "")
        line = values.get("to_number", "") if incoming else values.get("from_number", "")
        update = CallUpdate(
            external_id=values["call_id"],
            # An incoming call that started rings somewhere: the extension's person, or everyone.
            kind=RINGING if incoming and values["event"] == "started" else KINDS[values["event"]],
            event_key=f"{values['call_id']}:{values['event']}",
            direction=values["direction"],
            number=number,
            line_number=line,
            extension=values.get("extension", ""),
            at=values.get("occurred_at"),
            duration=values.get("duration"),
            recording_ref=values.get("recording_url", ""),
        )
        return [update], data

    def dial(self, credentials: Credentials, *, extension: str, number: str) -> None:
        raise DialError(
            _("Click-to-call works through Mango Office or Zadarma; this PBX only sends events.")
        )

    def recording_link(self, credentials: Credentials, recording_ref: str) -> str:
        return recording_ref
