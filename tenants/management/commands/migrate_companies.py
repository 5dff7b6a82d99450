"""The release migration: the public schema, then every company schema, fast."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import SpareSchema
from tenants.services import schema_pool
from tenants.services.schema_migrations import migrate_all


class Command(BaseCommand):
    help = (
        "Migrate the public schema, then every company (and spare) schema: schemas with nothing "
        "pending are skipped, the rest get the pending migrations' SQL replayed in parallel."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--parallel", type=int, default=4, help="Database connections to use")
        parser.add_argument("--lock-timeout", default="5s", help="Per-schema lock timeout")
        parser.add_argument("--skip-public", action="store_true", help="Company schemas only")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["skip_public"]:
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
            self.stdout.write("public schema migrated")
        report = migrate_all(
            parallel=options["parallel"],
            lock_timeout=options["lock_timeout"],
            progress=self.stdout.write,
        )
        # Spares that are current again can be claimed by sign-ups.
        current = set(SpareSchema.objects.values_list("name", flat=True)) - set(report.failed)
        SpareSchema.objects.filter(name__in=current).update(
            fingerprint=schema_pool.current_fingerprint()
        )
        self.stdout.write(
            f"{report.schemas} schemas in {report.seconds:.1f} s: {report.up_to_date} up to date, "
            f"{report.replayed} replayed, {report.migrated_one_by_one} migrated one by one, "
            f"{len(report.failed)} failed"
        )
        if report.failed:
            for schema, error in sorted(report.failed.items()):
                self.stderr.write(f"{schema}: {error}")
            raise CommandError(f"{len(report.failed)} schema(s) failed; re-run to retry them")
