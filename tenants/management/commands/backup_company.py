from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import Company
from tenants.services.backup import backup_company


class Command(BaseCommand):
    help = "Archive one company: its schema's rows (one consistent snapshot) and its files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--out", type=Path, help="Archive path (default: BACKUP_ROOT)")

    def handle(self, *args: Any, **options: Any) -> None:
        company = Company.objects.filter(slug=options["slug"]).first()
        if company is None:
            raise CommandError(f"no company {options['slug']!r}")
        result = backup_company(company, options["out"])
        self.stdout.write(
            f"{result.path}: {result.tables} tables, {result.rows} rows, {result.files} files"
        )
