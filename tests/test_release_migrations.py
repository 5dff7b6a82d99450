"""The release migration over every company schema (tenants.services.schema_migrations)."""

from __future__ import annotations

from typing import Any

from crm_core.models import Client
from relata.db import connection
from tenants.services.schema_migrations import migrate_all


def _columns(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'crm_core_client'",
            [schema],
        )
        return {row[0] for row in cursor.fetchall()}


def _applied(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT name FROM "{schema}".django_migrations WHERE app = %s', ["crm_core"]
        )
        return {row[0] for row in cursor.fetchall()}


def test_pending_migrations_are_replayed_in_every_company_and_current_ones_skipped(
    committed_companies: Any, settings: Any
) -> None:
    a = committed_companies("Release A")
    b = committed_companies("Release B")
    with a:
        Client.objects.create(name="kept through the release")
    connection.set_schema_to_public()
    schemas = [a.company.schema_name, b.company.schema_name]
    settings.MIGRATION_MODULES = {"crm_core": "tests.fake_migrations.crm_core"}

    report = migrate_all(schemas=schemas, parallel=2)

    assert (report.replayed, report.up_to_date, report.failed) == (2, 0, {})
    for schema in schemas:
        assert "phone" in _columns(schema)
        assert {"0901_client_phone", "0902_noop"} <= _applied(schema)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes "
            "WHERE indexname = 'client_phone_idx' AND schemaname = ANY(%s)",
            [schemas],
        )
        assert cursor.fetchone()[0] == 2
    with a:
        assert list(Client.objects.values_list("name", flat=True)) == ["kept through the release"]
    connection.set_schema_to_public()

    again = migrate_all(schemas=schemas)
    assert (again.replayed, again.up_to_date) == (0, 2)


def test_a_schema_that_fails_is_rolled_back_and_reported_while_others_go_on(
    committed_companies: Any, settings: Any
) -> None:
    a = committed_companies("Release ok")
    b = committed_companies("Release broken")
    with connection.cursor() as cursor:  # someone added the column by hand in B
        cursor.execute(
            f'ALTER TABLE "{b.company.schema_name}".crm_core_client ADD COLUMN phone text'
        )
    settings.MIGRATION_MODULES = {"crm_core": "tests.fake_migrations.crm_core"}

    report = migrate_all(schemas=[a.company.schema_name, b.company.schema_name], parallel=1)

    assert report.replayed == 1
    assert list(report.failed) == [b.company.schema_name]
    assert "already exists" in report.failed[b.company.schema_name]
    assert "0901_client_phone" in _applied(a.company.schema_name)
    assert "0901_client_phone" not in _applied(b.company.schema_name)  # nothing half-done


def test_python_migrations_are_applied_one_by_one(committed_companies: Any, settings: Any) -> None:
    a = committed_companies("Release python")
    with a:
        Client.objects.create(name="romashka")
    connection.set_schema_to_public()
    settings.MIGRATION_MODULES = {"crm_core": "tests.fake_migrations.crm_core_python"}

    report = migrate_all(schemas=[a.company.schema_name])

    assert (report.migrated_one_by_one, report.replayed, report.failed) == (1, 0, {})
    with a:
        assert list(Client.objects.values_list("name", flat=True)) == ["ROMASHKA"]


def test_a_plan_spanning_several_apps_is_replayed_from_the_full_state(
    committed_companies: Any, settings: Any
) -> None:
    """A schema a release behind in two apps: the latest shared-app migration (no SQL in a
    company schema) and a CRM migration that needs the CRM's models in its state (AddField)
    are pending together and replayed as one group."""
    import tenants.migrations
    from tests.fake_migrations import latest_real

    a = committed_companies("Two apps behind")
    schema = a.company.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s',
            ["tenants", latest_real(tenants.migrations)],
        )
    settings.MIGRATION_MODULES = {"crm_core": "tests.fake_migrations.crm_core"}

    report = migrate_all(schemas=[schema])

    assert report.failed == {}, report.failed
    assert report.replayed == 1
    assert "phone" in _columns(schema)
    assert "0901_client_phone" in _applied(schema)
