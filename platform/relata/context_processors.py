from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def relata(request: HttpRequest) -> dict[str, Any]:
    return {
        "company": getattr(request, "company", None),
        "membership": getattr(request, "membership", None),
        "base_domain": settings.BASE_DOMAIN,
    }
