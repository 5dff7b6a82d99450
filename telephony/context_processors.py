"""Whether every page of a company shows the call pop-up and the click-to-call buttons."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def telephony(request: HttpRequest) -> dict[str, Any]:
    if getattr(request, "company", None) is None or getattr(request, "membership", None) is None:
        return {}
    from telephony.services.connection import is_on

    return {"telephony_on": is_on()}
