"""Zadarma's cloud PBX.

Webhooks: form posts with ``event`` (NOTIFY_START, NOTIFY_INTERNAL, NOTIFY_ANSWER, NOTIFY_END,
NOTIFY_OUT_START, NOTIFY_OUT_END, NOTIFY_RECORD) and a ``Signature`` header: base64 of the hex
HMAC-SHA1 (as PHP's hash_hmac returns it) of the event's fields joined in a fixed order, keyed
with the API secret. Before saving the address the cabinet checks it with ``GET ?zd_echo=x``
and expects ``x`` back. API calls carry ``Authorization: <key>:<signature>``, where the
signature is base64(hex HMAC-SHA1(method path + sorted query + md5(sorted query))).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from telephony.models import Provider
from telephony.providers.api_calls import call_api
from telephony.providers.base import (
    ANSWERED,
    ENDED,
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

# The fields each event's signature covers, in order (Zadarma's webhook documentation).
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}


def hex_hmac_base64(secret: str, text: str) -> str:
    mac = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(mac.encode()).decode()


def api_signature(secret: str, method_path: str, params: dict[str, str]) -> str:
    query = urlencode(sorted(params.items()))
    return hex_hmac_base64(secret, method_path + query + hashlib.md5(query.encode()).hexdigest())  # noqa: S324  (Zadarma's scheme)


def _when(value: str) -> datetime | None:
    # "2024-05-14 10:21:05" in the PBX's time zone, which a company sets to its own (the
    # webhook's request runs in the company's time zone).
    try:
        naive = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return timezone.make_aware(naive, timezone.get_current_timezone())


def _check_age(name: str, data: dict[str, str]) -> None:
    """A signed event is taken only near the moment it tells of: the call's start (plus its
    talk time for an end). Its signature covers ``call_start``, so a replayed notification
    cannot be freshened; one replayed inside the window is caught by its stored key (call id +
    event). NOTIFY_RECORD carries no time (a recording can be ready much later): its key alone
    guards it. A stamp far in the future means the PBX's time zone is not the company's, which
    the refusal's reason says."""
    if name == "NOTIFY_RECORD":
        return
    begun = _when(data.get("call_start", ""))
    if begun is None:
        raise RefusedEventError(400, "malformed", _("call_start is missing or unreadable."))
    moment = begun + timedelta(seconds=_seconds(data.get("duration", "")))
    window = timedelta(minutes=settings.TELEPHONY_ZADARMA_MAX_AGE_MINUTES)
    now = timezone.now()
    if moment < now - window:
        raise RefusedEventError(
            401, "stale", _("The event is older than %(n)s minutes.") % {"n": window.seconds // 60}
        )
    if moment > now + window:
        raise RefusedEventError(
            401,
            "stale",
            _("The event's time is ahead of ours: set the PBX's time zone to the company's."),
        )


class ZadarmaAdapter:
    provider: str = Provider.ZADARMA

    def parse(
        self, request: HttpRequest, credentials: Credentials, *, event: str = ""
    ) -> tuple[list[CallUpdate], dict[str, Any]]:
        data = {key: request.POST.get(key, "") for key in request.POST}
        name = data.get("event", "")
        if not name:
            raise RefusedEventError(400, "malformed", _("The event field is missing."))
        fields = SIGNED_FIELDS.get(name)
        if fields is None:
            # Events telephony does not use (IVR, SMS, speech) cannot be checked: kept nowhere.
            return [], data
        given = request.headers.get("Signature", "")
        expected = hex_hmac_base64(credentials.api_secret, "".join(data.get(f, "") for f in fields))
        if not credentials.api_secret or not given or not same(expected, given):
            raise RefusedEventError(401, "signature", _("The signature does not match."))
        call_id = data.get("pbx_call_id", "")
        if not call_id:
            raise RefusedEventError(400, "malformed", _("pbx_call_id is missing."))
        _check_age(name, data)
        return [_update(name, call_id, data)], data

    def dial(self, credentials: Credentials, *, extension: str, number: str) -> None:
        path = "/v1/request/callback/"
        params = {"from": extension, "to": digits(number), "format": "json"}
        answer = self._get(credentials, path, params)
        if answer.get("status") != "success":
            raise DialError(
                _("Zadarma refused the call: %(why)s") % {"why": answer.get("message", "?")}
            )

    def recording_link(self, credentials: Credentials, recording_ref: str) -> str:
        path = "/v1/pbx/record/request/"
        answer = self._get(credentials, path, {"call_id": recording_ref, "format": "json"})
        link = answer.get("link") or next(iter(answer.get("links") or []), "")
        if answer.get("status") != "success" or not link:
            raise DialError(_("Zadarma has no recording for this call yet."))
        return str(link)

    def _get(self, credentials: Credentials, path: str, params: dict[str, str]) -> dict[str, Any]:
        signature = api_signature(credentials.api_secret, path, params)
        return call_api(
            "GET",
            settings.TELEPHONY_ZADARMA_API_BASE.rstrip("/") + path,
            params=sorted(params.items()),
            headers={"Authorization": f"{credentials.api_key}:{signature}"},
        )


def _update(name: str, call_id: str, data: dict[str, str]) -> CallUpdate:
    at = _when(data.get("call_start", ""))
    internal = data.get("internal", "")
    recording = data.get("call_id_with_rec", "") if data.get("is_recorded") == "1" else ""
    base: dict[str, Any] = {"external_id": call_id, "at": at}
    if name == "NOTIFY_RECORD":
        return CallUpdate(
            **base,
            kind=RECORDING,
            event_key=f"{name}:{call_id}:{data.get('call_id_with_rec', '')}",
            recording_ref=data.get("call_id_with_rec", ""),
        )
    if name in {"NOTIFY_OUT_START", "NOTIFY_OUT_END"}:
        ended = name == "NOTIFY_OUT_END"
        return CallUpdate(
            **base,
            kind=ENDED if ended else STARTED,
            event_key=f"{name}:{call_id}",
            direction="outgoing",
            number=data.get("destination", ""),
            line_number=data.get("caller_id", ""),
            extension=internal,
            duration=_seconds(data.get("duration", "")) if ended else None,
            recording_ref=recording,
        )
    incoming: dict[str, Any] = {
        **base,
        "direction": "incoming",
        "number": data.get("caller_id", ""),
        "line_number": data.get("called_did", ""),
        "extension": internal,
    }
    if name in {"NOTIFY_START", "NOTIFY_INTERNAL"}:
        return CallUpdate(**incoming, kind=RINGING, event_key=f"{name}:{call_id}:{internal}")
    if name == "NOTIFY_ANSWER":
        return CallUpdate(**incoming, kind=ANSWERED, event_key=f"{name}:{call_id}:{internal}")
    answered = data.get("disposition", "") == "answered"
    return CallUpdate(
        **incoming,
        kind=ENDED if answered else MISSED,
        event_key=f"{name}:{call_id}",
        duration=_seconds(data.get("duration", "")) if answered else 0,
        recording_ref=recording,
    )


def _seconds(value: str) -> int:
    try:
        return max(int(value), 0)
    except ValueError:
        return 0
