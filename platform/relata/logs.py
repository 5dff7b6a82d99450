"""Every log line carries the company (schema) and the acting user's id."""

from __future__ import annotations

import contextvars
import logging

from django.db import connection

current_user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "relata_user_id", default=None
)


def current_company() -> str:
    # The connection's schema is the truth in web requests and Celery tasks alike.
    try:
        return getattr(connection, "schema_name", "-") or "-"
    except Exception:
        return "-"


class CompanyContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.company = current_company()
        record.user_id = current_user_id.get() or "-"
        return True
