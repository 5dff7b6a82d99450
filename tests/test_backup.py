"""Back up one company and restore it: in place after a mistake, or as a new company."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from crm_core.models import Client
from relata.db import connection
from tenants.models import Company
from tenants.services.backup import BackupError, backup_company, read_manifest, restore_in_place


@pytest.fixture
def media(media_root: Path) -> Path:
    return media_root


def _names(company: Any) -> list[str]:
    with company:
        return sorted(Client.objects.values_list("name", flat=True))


def test_round_trip_in_place_and_as_new(
    committed_companies: Any, media: Path, tmp_path: Path
) -> None:
    a = committed_companies("Backup A")
    other = committed_companies("Untouched B")
    with a:
        for name in ("ООО Ромашка", "ИП Петров", 'Quote "and"\ttab\nnewline'):
            Client.objects.create(name=name, created_by=a.owner)
        default_storage.save("contracts/offer.txt", ContentFile("договор".encode()))
    with other:
        Client.objects.create(name="B's own client")
    original = _names(a)

    result = backup_company(a.company, tmp_path / "a.tar.gz")
    assert result.files == 1
    manifest = read_manifest(result.path)
    assert manifest["tables"]["crm_core_client"]["rows"] == 3
    assert manifest["members"] == [{"email": a.owner.email, "role": "owner", "is_active": True}]

    # A mistake: clients deleted, a wrong one added, the file removed.
    with a:
        Client.objects.all().delete()
        Client.objects.create(name="wrong")
        default_storage.delete("contracts/offer.txt")

    call_command("restore_company", str(result.path), "--replace")
    assert _names(a) == original
    assert (media / a.company.schema_name / "contracts" / "offer.txt").read_text() == "договор"
    with a:
        Client.objects.create(name="after restore")  # the id sequence continues past the rows
    assert _names(other) == ["B's own client"]

    call_command(
        "restore_company",
        str(result.path),
        "--as-new",
        "backup-copy",
        "--owner-email",
        a.owner.email,
    )
    copy = Company.objects.get(slug="backup-copy")
    committed_companies.adopt("backup-copy")
    assert copy.schema_name != a.company.schema_name
    with copy:
        assert sorted(Client.objects.values_list("name", flat=True)) == original
        assert Client.objects.filter(created_by=a.owner).count() == 3
    assert (media / copy.schema_name / "contracts" / "offer.txt").exists()
    assert copy.memberships.get().user == a.owner
    assert "after restore" in _names(a)  # the original kept its own life


def test_archive_from_an_older_release_is_migrated_forward(
    committed_companies: Any, media: Path, tmp_path: Path, settings: Any
) -> None:
    a = committed_companies("Old release")
    with a:
        Client.objects.create(name="from the old days")
    archive = backup_company(a.company, tmp_path / "old.tar.gz").path
    # A release adds crm_core 0002 (a phone column) and 0003; the archive predates both.
    settings.MIGRATION_MODULES = {"crm_core": "tests.fake_migrations.crm_core"}
    call_command(
        "restore_company",
        str(archive),
        "--as-new",
        "old-release-copy",
        "--owner-email",
        a.owner.email,
    )
    committed_companies.adopt("old-release-copy")
    copy = Company.objects.get(slug="old-release-copy")
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT name, phone FROM "{copy.schema_name}".crm_core_client')
        assert cursor.fetchall() == [("from the old days", "")]


def test_bad_archives_get_a_clear_error_and_change_nothing(
    committed_companies: Any, media: Path, tmp_path: Path
) -> None:
    a = committed_companies("Careful")
    with a:
        Client.objects.create(name="keep")
    not_an_archive = tmp_path / "clients.xlsx"
    not_an_archive.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CommandError, match="not a Relata company archive"):
        call_command("restore_company", str(not_an_archive), "--replace")
    with pytest.raises(BackupError, match="not a Relata company archive"):
        read_manifest(tmp_path / "missing.tar.gz")

    other = committed_companies("Other")
    archive = backup_company(other.company, tmp_path / "other.tar.gz").path
    with pytest.raises(BackupError, match="restore it as a new company"):
        restore_in_place(archive, a.company)
    assert _names(a) == ["keep"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'restore\\_%'")
        assert cursor.fetchone()[0] == 0
