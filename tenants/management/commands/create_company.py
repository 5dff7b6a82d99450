"""Create a company and its owner without a browser (operators, scripts, support)."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import User
from tenants.services.provisioning import create_company


class Command(BaseCommand):
    help = "Create a company with its owner through the same provisioning path as sign-up."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Company name")
        parser.add_argument("--slug", required=True, help="Subdomain, e.g. okna-kirill")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--owner-password-env",
            default="RELATA_OWNER_PASSWORD",
            help="Environment variable holding a new owner's password (never on the command line)",
        )
        parser.add_argument("--language", default="ru", choices=["ru", "en"])
        parser.add_argument("--time-zone", default="Europe/Moscow")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["owner_email"].strip().lower()
        owner = User.objects.filter(email__iexact=email).first()
        password = os.environ.get(options["owner_password_env"]) if owner is None else None
        if owner is None and not password:
            raise CommandError(
                f"{email} has no account yet: put its password in ${options['owner_password_env']}"
            )
        try:
            result = create_company(
                name=options["name"],
                slug=options["slug"],
                owner_email=email,
                owner_password=password,
                owner=owner,
                language=options["language"],
                time_zone=options["time_zone"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        company = result.company
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {company.name} ({company.slug}, schema {company.schema_name}), "
                f"owner {result.owner.email}{' (new account)' if result.created_owner else ''}"
            )
        )
