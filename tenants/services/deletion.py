"""Removing a company completely: on a schedule, with a final export offered first."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from psycopg import sql

from relata.db import connection
from tenants.models import Company, Membership, User
from tenants.services.backup import backup_company
from tenants.signals import company_purging

logger = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(days=30)


def schedule_deletion(company: Company, *, when: datetime | None = None) -> Company:
    """Cancel the company, archive everything it has, and tell its owners and admins when it
    will be deleted and where to download the archive."""
    when = when or timezone.now() + DEFAULT_GRACE
    archive = backup_company(
        company, Path(settings.BACKUP_ROOT) / "final" / f"{company.slug}-final.tar.gz"
    )
    company.status = Company.Status.CANCELED
    company.deletion_scheduled_at = when
    company.final_export = str(archive.path)
    company.save(update_fields=["status", "deletion_scheduled_at", "final_export"])
    admins = Membership.objects.filter(
        company=company,
        is_active=True,
        role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
    ).select_related("user")
    for membership in admins:
        with translation.override(membership.user.language or company.language):
            send_mail(
                _("%(company)s will be deleted on %(date)s")
                % {
                    "company": company.name,
                    "date": when.strftime("%d.%m.%Y"),
                },
                _(
                    "Your Relata CRM %(company)s is closed and will be deleted with all its data "
                    "on %(date)s. Until then you can download everything it held: log in at "
                    "%(url)s and choose “Download final export”."
                )
                % {
                    "company": company.name,
                    "date": when.strftime("%d.%m.%Y"),
                    "url": f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}/companies/",
                },
                None,
                [membership.user.email],
            )
    return company


def cancel_deletion(company: Company) -> Company:
    """Call the deletion off. The status the company returns to is billing's to decide
    (`billing.services.subscriptions.reopen`, which calls this)."""
    company.deletion_scheduled_at = None
    company.save(update_fields=["deletion_scheduled_at"])
    return company


def purge_company(company: Company) -> None:
    """Drop the company's schema and rows, its files and its final export, and the accounts of
    members who now belong to no company. Irreversible: callers decide when."""
    connection.set_schema_to_public()
    company_purging.send(sender=Company, company=company)
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
    if company.final_export:
        Path(company.final_export).unlink(missing_ok=True)
    logger.info("company %s (%s) purged", company.slug, company.schema_name)


def purge_due(now: datetime | None = None) -> list[str]:
    now = now or timezone.now()
    due = Company.objects.filter(
        status=Company.Status.CANCELED, deletion_scheduled_at__lte=now
    ).order_by("deletion_scheduled_at")
    purged = []
    for company in due:
        try:
            purge_company(company)
        except Exception:
            # Left for the next hourly run (e.g. Stripe could not cancel the subscription);
            # the other due companies are still purged.
            logger.exception("company %s could not be purged", company.slug)
            continue
        purged.append(company.slug)
    return purged
