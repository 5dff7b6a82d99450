"""1C's side of the conversation: the request parameters and the plain-text answers.

1C:Предприятие reads the answer's lines: "success" / "progress" / "failure" first, then
what goes with it (a cookie, the reason). A failure is a 200 with "failure" (what 1C shows
the person who runs the exchange); a wrong login is a 401, as HTTP authentication says, and a
request outside a live session a 403.
"""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest, HttpResponse

CHARSET = "utf-8"


def text(body: str, *, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type=f"text/plain; charset={CHARSET}", status=status)
    response["Cache-Control"] = "no-store"
    return response


def failure(reason: str, *, status: int = 200) -> HttpResponse:
    return text(f"failure\n{reason}", status=status)


def unauthorised(reason: str) -> HttpResponse:
    response = failure(reason, status=401)
    response["WWW-Authenticate"] = 'Basic realm="1C exchange", charset="UTF-8"'
    return response


def basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """Login and password of an HTTP Basic header (1C sends UTF-8; older ones cp1251)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("cp1251")
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None
