"""Mango Office's Virtual PBX (VPBX) API.

Webhooks: the PBX posts form fields ``vpbx_api_key``, ``sign`` and ``json`` to the address given
in its cabinet followed by ``/events/call`` (each leg's state), ``/events/summary`` (the call's
result) or ``/events/recording``; ``sign`` is sha256(api_key + json + api_salt) in hex. Commands
(``/commands/callback``) are signed the same way. A whole call is an ``entry_id``; its legs are
``call_id``s, each with a growing ``seq``.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telephony.models import Provider
from telephony.providers.api_calls import call_api
from telephony.providers.base import (
    ANSWERED,
    ENDED,
    IGNORED,
    MISSED,
    RECORDING,
    RINGING,
    STARTED,
    CallUpdate,
    Credentials,
    DialError,
    RefusedEventError,
    digits,
    same,
)

EVENTS = ("call", "summary", "recording", "record_added")
# disconnect_reason: how Mango says a call ended (its table of result codes); the rest are
# shown as their code.
END_REASONS = {
    "1100": gettext_lazy("ended normally"),
    "1110": gettext_lazy("the caller hung up"),
    "1111": gettext_lazy("the called side hung up"),
}
# A provider retries for hours at most; anything older is a replay (the keys also dedupe).
REPLAY_WINDOW_SECONDS = 24 * 3600
SUCCESS = 1000


def sign(credentials: Credentials, payload: str) -> str:
    return hashlib.sha256(
        (credentials.api_key + payload + credentials.api_secret).encode()
    ).hexdigest()


def _when(value: Any) -> datetime | None:
    try:
        stamp = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp > 0 else None


def _side(data: dict[str, Any], key: str) -> dict[str, str]:
    side = data.get(key)
    if not isinstance(side, dict):
        return {}
    return {k: str(v) for k, v in side.items() if v is not None}


class MangoAdapter:
    provider: str = Provider.MANGO

    def parse(
        self, request: HttpRequest, credentials: Credentials, *, event: str = ""
    ) -> tuple[list[CallUpdate], dict[str, Any]]:
        if event not in EVENTS:
            raise RefusedEventError(404, "unknown_event", _("No such Mango Office event."))
        key = request.POST.get("vpbx_api_key", "")
        given = request.POST.get("sign", "")
        payload = request.POST.get("json", "")
        if not key or not given or not payload:
            raise RefusedEventError(
                400, "malformed", _("vpbx_api_key, sign and json are required.")
            )
        if not credentials.api_key or not same(credentials.api_key, key):
            raise RefusedEventError(401, "signature", _("This is not the company's PBX key."))
        if not same(sign(credentials, payload), given.lower()):
            raise RefusedEventError(401, "signature", _("The signature does not match."))
        try:
            data = json.loads(payload)
        except ValueError:
            raise RefusedEventError(400, "malformed", _("json is not JSON.")) from None
        if not isinstance(data, dict):
            raise RefusedEventError(400, "malformed", _("json must be a JSON object."))
        stamp = _when(data.get("timestamp") or data.get("end_time"))
        if stamp is not None and abs(time.time() - stamp.timestamp()) > REPLAY_WINDOW_SECONDS:
            raise RefusedEventError(401, "stale", _("The event is too old: a replay is refused."))
        entry = str(data.get("entry_id") or "")
        if not entry:
            raise RefusedEventError(400, "malformed", _("entry_id is missing."))
        reader = {
            "call": _call,
            "summary": _summary,
            "recording": _recording,
            "record_added": _record_added,
        }[event]
        return [reader(entry, data)], data

    def dial(self, credentials: Credentials, *, extension: str, number: str) -> None:
        payload = json.dumps(
            {
                "command_id": f"relata-{uuid.uuid4().hex}",
                "from": {"extension": extension},
                "to_number": digits(number),
            }
        )
        answer = call_api(
            "POST",
            f"{settings.TELEPHONY_MANGO_API_BASE.rstrip('/')}/commands/callback",
            data={
                "vpbx_api_key": credentials.api_key,
                "sign": sign(credentials, payload),
                "json": payload,
            },
        )
        if answer.get("result") != SUCCESS:
            raise DialError(
                _("Mango Office refused the call (code %(code)s).") % {"code": answer.get("result")}
            )

    def recording_link(self, credentials: Credentials, recording_ref: str) -> str:
        # A signed link Mango serves the recording from until ``expires`` (no POST needed, so
        # the browser can be sent straight to it).
        expires = str(int(time.time()) + 600)
        signature = hashlib.sha256(
            (credentials.api_key + expires + recording_ref + credentials.api_secret).encode()
        ).hexdigest()
        base = settings.TELEPHONY_MANGO_API_BASE.rstrip("/")
        return (
            f"{base}/queries/recording/link/{recording_ref}/play/"
            f"{credentials.api_key}/{expires}/{signature}"
        )


def _direction(source: dict[str, str], target: dict[str, str]) -> str:
    # A manager's extension calling out to a number is outgoing; everything else comes in.
    if source.get("extension") and not target.get("extension"):
        return "outgoing"
    return "incoming"


def _call(entry: str, data: dict[str, Any]) -> CallUpdate:
    """events/call: one leg's state (Appeared, Connected, OnHold, Disconnected)."""
    source, target = _side(data, "from"), _side(data, "to")
    direction = _direction(source, target)
    incoming = direction == "incoming"
    state = str(data.get("call_state", ""))
    at_extension = str(data.get("location", "")) == "abonent"
    kind = IGNORED
    if state == "Appeared":
        kind = RINGING if at_extension and incoming else STARTED
    elif state == "Connected" and at_extension:
        kind = ANSWERED
    return CallUpdate(
        external_id=entry,
        kind=kind,
        event_key=f"call:{data.get('call_id', '')}:{data.get('seq', '')}:{state}",
        direction=direction,
        number=source.get("number", "") if incoming else target.get("number", ""),
        line_number=target.get("line_number", ""),
        extension=target.get("extension", "") if incoming else source.get("extension", ""),
        at=_when(data.get("timestamp")),
        end_reason=_end_reason(data) if state == "Disconnected" else "",
    )


def _end_reason(data: dict[str, Any]) -> str:
    code = str(data.get("disconnect_reason") or "")
    return code if code.isdigit() and code != "0" else ""


def end_reason_text(code: str) -> str:
    if not code:
        return ""
    known = END_REASONS.get(code)
    return str(known) if known else _("code %(code)s") % {"code": code}


def _summary(entry: str, data: dict[str, Any]) -> CallUpdate:
    """events/summary: the whole call's result once it is over."""
    source, target = _side(data, "from"), _side(data, "to")
    direction = {"1": "incoming", "2": "outgoing"}.get(str(data.get("call_direction")), "")
    if not direction:  # an internal call between extensions: no customer in it
        return CallUpdate(external_id=entry, kind=IGNORED, event_key=f"summary:{entry}")
    incoming = direction == "incoming"
    talked = _when(data.get("talk_time"))
    ended = _when(data.get("end_time"))
    answered = str(data.get("entry_result")) == "1" and talked is not None
    duration = int((ended - talked).total_seconds()) if answered and ended and talked else 0
    return CallUpdate(
        external_id=entry,
        kind=ENDED if answered or not incoming else MISSED,
        event_key=f"summary:{entry}",
        direction=direction,
        number=source.get("number", "") if incoming else target.get("number", ""),
        line_number=str(data.get("line_number", "")),
        extension=target.get("extension", "") if incoming else source.get("extension", ""),
        at=_when(data.get("create_time")),
        duration=max(duration, 0),
        end_reason=_end_reason(data),
    )


def _record_added(entry: str, data: dict[str, Any]) -> CallUpdate:
    """events/record/added: a recording is stored and can be played (sent instead of, or as
    well as, events/recording's "Completed", by the cabinet's setting): one key per recording,
    so either arriving first links it and the other changes nothing."""
    recording = str(data.get("recording_id", ""))
    return CallUpdate(
        external_id=entry,
        kind=RECORDING if recording else IGNORED,
        event_key=f"recording:{recording}:Completed",
        recording_ref=recording,
    )


def _recording(entry: str, data: dict[str, Any]) -> CallUpdate:
    state = str(data.get("recording_state", ""))
    recording = str(data.get("recording_id", ""))
    return CallUpdate(
        external_id=entry,
        kind=RECORDING if state == "Completed" and recording else IGNORED,
        event_key=f"recording:{recording}:{state}",
        recording_ref=recording,
    )
