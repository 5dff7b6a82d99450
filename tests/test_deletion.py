"""Deleting a company on schedule leaves nothing of it behind, after offering a final export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.utils import timezone

from crm_core.models import Client
from relata.db import connection
from tenants.models import Company, Domain, HandoffToken, Membership, User
from tenants.services import handoff
from tenants.tasks import purge_due_companies


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def test_scheduled_deletion_offers_an_export_then_removes_everything(
    committed_companies: Any, media_root: Path, tmp_path: Path
) -> None:
    doomed = committed_companies("Closing Down")
    kept = committed_companies("Still Here")
    # A colleague who is also in another company keeps the account; the owner does not.
    colleague = User.objects.create_user(
        email="colleague@example.com", password="Colleague-Pass-77"
    )
    Membership.objects.create(user=colleague, company=doomed.company, role="manager")
    Membership.objects.create(user=colleague, company=kept.company, role="manager")
    with doomed:
        Client.objects.create(name="their client")
        default_storage.save("docs/contract.txt", ContentFile(b"signed"))
    handoff.issue(user=doomed.owner, company=doomed.company)
    schema = doomed.company.schema_name

    call_command("schedule_company_deletion", doomed.company.slug, "--in-days", "30")
    company = Company.objects.get(pk=doomed.company.pk)
    assert company.status == "canceled"
    export = Path(company.final_export)
    assert export.is_file()
    (notice,) = [m for m in mail.outbox if doomed.owner.email in m.to]
    assert company.name in notice.subject

    # The company is closed to everyone, but its owner can take the final export.
    owner_browser = HttpClient()
    owner_browser.force_login(doomed.owner)
    assert "Closing Down" in owner_browser.get("/companies/").content.decode()
    download = owner_browser.get(f"/companies/{company.slug}/final-export/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"\x1f\x8b"  # type: ignore[attr-defined]
    assert HttpClient().get("/", HTTP_HOST=doomed.host).status_code == 404
    outsider = HttpClient()
    outsider.force_login(kept.owner)
    assert outsider.get(f"/companies/{company.slug}/final-export/").status_code == 404
    colleague_browser = HttpClient()
    colleague_browser.force_login(colleague)  # a manager, not an owner or admin
    assert colleague_browser.get(f"/companies/{company.slug}/final-export/").status_code == 404

    assert purge_due_companies.apply().get() == []  # not due yet
    assert _schema_exists(schema)

    Company.objects.filter(pk=company.pk).update(
        deletion_scheduled_at=timezone.now() - timedelta(minutes=1)
    )
    assert purge_due_companies.apply().get() == [company.slug]

    assert not _schema_exists(schema)
    assert not Company.objects.filter(pk=company.pk).exists()
    assert not Domain.objects.filter(domain=doomed.host).exists()
    assert not Membership.objects.filter(company_id=company.pk).exists()
    assert not HandoffToken.objects.filter(company_id=company.pk).exists()
    assert not (tmp_path / "media" / schema).exists()
    assert not export.exists()
    assert not User.objects.filter(pk=doomed.owner.pk).exists()
    assert User.objects.filter(pk=colleague.pk).exists()
    with kept:
        assert Client.objects.count() == 0  # the other company was never touched
    assert _schema_exists(kept.company.schema_name)


def test_a_scheduled_deletion_can_be_called_off(committed_companies: Any, media_root: Path) -> None:
    made = committed_companies("Changed Mind")
    call_command("schedule_company_deletion", made.company.slug, "--in-days", "0")
    call_command("schedule_company_deletion", made.company.slug, "--cancel")
    assert purge_due_companies.apply().get() == []
    # Back as it was: its trial still runs (closing it is no way to a paid plan for free).
    assert Company.objects.get(pk=made.company.pk).status == "trialing"
    with pytest.raises(CommandError, match="no deletion"):
        call_command("schedule_company_deletion", made.company.slug, "--cancel")
