"""Sentry: errors and traces tagged with environment, release, company and user id only."""

from __future__ import annotations

import os
import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from relata.logs import current_company, current_user_id

# A Telegram bot's token is part of every Bot API URL (/bot<id>:<secret>/method).
_BOT_TOKEN = re.compile(r"/bot[0-9]+:[A-Za-z0-9_-]+")


def _redact_breadcrumb(crumb: Any, hint: dict[str, Any]) -> Any:
    data = crumb.get("data") if isinstance(crumb, dict) else None
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        data["url"] = _BOT_TOKEN.sub("/bot<token>", data["url"])
    if isinstance(crumb, dict) and isinstance(crumb.get("message"), str):
        crumb["message"] = _BOT_TOKEN.sub("/bot<token>", crumb["message"])
    return crumb


def _tag_event(event: Any, hint: dict[str, Any]) -> Any:
    tags = event.setdefault("tags", {})
    tags["company"] = current_company()
    user_id = current_user_id.get()
    # Only the id: no e-mail, name or IP address leaves Relata.
    event["user"] = {"id": str(user_id)} if user_id else {}
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        headers = request.get("headers") or {}
        for secret in (
            "Cookie",
            "Authorization",
            "X-Csrftoken",
            "X-Telegram-Bot-Api-Secret-Token",
        ):
            headers.pop(secret, None)
    return event


def init_sentry(dsn: str, *, environment: str, transport: Any = None) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT", environment),
        release=os.environ.get("RELEASE", os.environ.get("SENTRY_RELEASE", "dev")),
        send_default_pii=False,
        # Frame locals hold models whose repr carries e-mails and names: never send them.
        include_local_variables=False,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0.05")),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_tag_event,
        before_breadcrumb=_redact_breadcrumb,
        transport=transport,
    )
