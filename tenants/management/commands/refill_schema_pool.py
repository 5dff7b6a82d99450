from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants.services import schema_pool


class Command(BaseCommand):
    help = "Build pre-migrated spare schemas so that new companies are ready at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=None, help="Target pool size")

    def handle(self, *args: Any, **options: Any) -> None:
        built = schema_pool.refill(options["size"])
        self.stdout.write(f"Built {built} spare schema(s); {schema_pool.ready_count()} ready.")
