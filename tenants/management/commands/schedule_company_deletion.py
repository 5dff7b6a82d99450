from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.services.subscriptions import end_subscription_now, reopen
from tenants.models import Company
from tenants.services.deletion import schedule_deletion


class Command(BaseCommand):
    help = (
        "Close a company and schedule its complete deletion (a final export is made and its "
        "owners and admins are told), or --cancel a scheduled deletion."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--in-days", type=int, default=30)
        parser.add_argument("--cancel", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        company = Company.objects.filter(slug=options["slug"]).first()
        if company is None:
            raise CommandError(f"no company {options['slug']!r}")
        if options["cancel"]:
            if company.status != Company.Status.CANCELED:
                raise CommandError(f"no deletion of {company.slug} is scheduled")
            status = reopen(company, why="deletion canceled with schedule_company_deletion")
            self.stdout.write(f"deletion of {company.slug} canceled; the company is {status}")
            return
        if options["in_days"] < 0:
            raise CommandError("--in-days cannot be negative")
        when = timezone.now() + timedelta(days=options["in_days"])
        # Stripe first, as in the operators' console: a closed company is charged no further,
        # not even until the purge. If Stripe refuses, nothing is closed and the error shows.
        end_subscription_now(company, why="company closed with schedule_company_deletion")
        schedule_deletion(company, when=when)
        self.stdout.write(f"{company.slug} will be deleted on {when:%Y-%m-%d %H:%M} UTC")
