"""Give every company the starting document templates it lacks (once, after the release that
added documents). Not a data migration: backups replay migrations before loading their rows, and
rows a migration inserted would clash with the archive's."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm_core.documents.services.defaults import install_default_templates
from relata.db import connection
from tenants.models import Company


class Command(BaseCommand):
    help = "Install the default document templates in every company that lacks them."

    def handle(self, *args: Any, **options: Any) -> None:
        added = 0
        for company in Company.objects.order_by("pk"):
            with company:
                added += len(install_default_templates())
        connection.set_schema_to_public()
        self.stdout.write(f"{added} templates added")
