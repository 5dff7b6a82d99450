from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import Company, User
from tenants.services.backup import BackupError, read_manifest, restore_as_new, restore_in_place


class Command(BaseCommand):
    help = (
        "Restore a company archive: --replace puts the company back as it was (everyone is "
        "logged out); --as-new SLUG makes a new company of it, owned by --owner-email."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--replace", action="store_true")
        mode.add_argument("--as-new", metavar="SLUG")
        parser.add_argument("--name", help="Name of the new company (default: the archived one)")
        parser.add_argument("--owner-email", help="Existing account that owns the new company")

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        try:
            manifest = read_manifest(archive)
            if options["replace"]:
                slug = manifest["company"]["slug"]
                company = Company.objects.filter(slug=slug).first()
                if company is None:
                    raise CommandError(f"{slug!r} no longer exists: restore it --as-new {slug}")
                restore_in_place(archive, company)
            else:
                owner = User.objects.filter(email__iexact=options["owner_email"] or "").first()
                if owner is None:
                    raise CommandError("--as-new needs --owner-email of an existing account")
                company = restore_as_new(
                    archive, slug=options["as_new"], name=options["name"], owner=owner
                )
        except (BackupError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"restored {company.slug} ({company.schema_name})"))
