"""Which companies have work the broker has not taken yet (see ``PendingDispatch``).

The upper layers write their work as rows in the company's schema inside the transaction that
causes it; handing it to Celery happens after commit and may fail while the broker is down. Then
``mark`` records the company here (one row per company and kind, written in its own short
transaction on the public schema), and the periodic sweep asks ``waiting`` which schemas to
visit and ``settle`` once a company's backlog went through.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from relata.db import connection
from tenants.models import Company, PendingDispatch

logger = logging.getLogger(__name__)


def mark(kind: str) -> None:
    """The current company has ``kind`` work the broker did not take (called after commit)."""
    schema = connection.schema_name
    try:
        company = Company.objects.only("pk").get(schema_name=schema)
        with transaction.atomic():
            PendingDispatch.objects.get_or_create(company=company, kind=kind)
    except Exception:
        # The periodic full sweep still finds the rows; the marker only makes it prompt.
        logger.exception("could not mark %s work of %s as waiting", kind, schema)


def waiting(kind: str) -> list[tuple[Company, datetime]]:
    """Companies with ``kind`` work waiting, with the time the sweep may clear up to."""
    rows = PendingDispatch.objects.filter(kind=kind).select_related("company")
    return [(row.company, timezone.now()) for row in rows]


def settle(company: Company, kind: str, checked_at: datetime) -> None:
    """Everything of ``kind`` that waited up to ``checked_at`` went to the broker. A failure
    marked after that moment keeps its marker."""
    PendingDispatch.objects.filter(company=company, kind=kind, since__lte=checked_at).delete()
