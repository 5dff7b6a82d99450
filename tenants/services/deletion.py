"""Removing a company completely: its schema, its files and its public rows."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from psycopg import sql
from relata.db import connection

from tenants.models import Company, User


def purge_company(company: Company) -> None:
    """Drop the company's schema and rows, its uploaded files, and owners' accounts that now
    belong to no company. Irreversible: callers decide when (schedule, failed provisioning)."""
    connection.set_schema_to_public()
    member_ids = list(company.memberships.values_list("user_id", flat=True))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(company.schema_name)
                )
            )
        company.delete()
        User.objects.filter(pk__in=member_ids, memberships__isnull=True, is_staff=False).delete()
    media = Path(settings.MEDIA_ROOT) / company.schema_name
    if media.is_dir():
        shutil.rmtree(media)
