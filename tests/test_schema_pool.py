"""The pool of pre-migrated schemas: claimed on sign-up, refilled by beat, rebuilt on release."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation

from crm_core.models import Client
from relata.db import connection
from tenants.models import Company, SpareSchema
from tenants.services import schema_pool


def _schemas(prefix: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [prefix + "%"])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_sign_up_claims_a_spare_by_renaming_it(make_company: Any) -> None:
    spares_before = set(SpareSchema.objects.values_list("name", flat=True))
    made = make_company("Claims a spare")
    spares_after = set(SpareSchema.objects.values_list("name", flat=True))
    (claimed,) = spares_before - spares_after
    assert claimed not in _schemas("spare_")
    with made:
        assert Client.objects.count() == 0  # the tables are there and empty


@pytest.mark.django_db
def test_empty_pool_falls_back_to_building_the_schema_itself(make_company: Any) -> None:
    SpareSchema.objects.all().delete()  # rolled back with the test
    made = make_company("No spare left")
    assert made.company.schema_name in _schemas("c_")
    with made:
        Client.objects.create(name="works")
        assert Client.objects.count() == 1


@pytest.mark.django_db
def test_spares_of_an_older_release_are_not_claimed() -> None:
    SpareSchema.objects.update(fingerprint="0" * 64)
    assert schema_pool.ready_count() == 0
    with transaction.atomic():
        assert schema_pool.claim("c_should_not_exist") is False


def test_refill_builds_spares_and_drops_stale_and_orphaned_ones(django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        stale = schema_pool.create_spare()
        SpareSchema.objects.filter(name=stale).update(fingerprint="old")
        with connection.cursor() as cursor:
            cursor.execute('CREATE SCHEMA "spare_orphan_from_a_killed_worker"')
        target = schema_pool.ready_count() + 1
        built = schema_pool.refill(target)
        assert built == 1
        assert schema_pool.ready_count() == target
        assert stale not in _schemas("spare_")
        assert "spare_orphan_from_a_killed_worker" not in _schemas("spare_")
        assert not SpareSchema.objects.filter(fingerprint="old").exists()


def test_refill_task_runs_through_celery_eagerly(django_db_blocker: Any, settings: Any) -> None:
    from tenants.tasks import refill_schema_pool

    with django_db_blocker.unblock():
        count = schema_pool.ready_count()
        assert refill_schema_pool.apply(args=()).get() == max(0, settings.SCHEMA_POOL_SIZE - count)


@pytest.mark.django_db
def test_create_company_command_uses_the_same_path(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("RELATA_OWNER_PASSWORD", "Correct-Horse-42")
    call_command(
        "create_company", name="Окна Кирилла", slug="okna-cmd", owner_email="Kirill@Example.com"
    )
    company = Company.objects.get(slug="okna-cmd")
    assert company.memberships.get().user.email == "kirill@example.com"
    assert company.schema_name in _schemas("c_okna_cmd")
    assert "Created" in capsys.readouterr().out

    from django.core.management.base import CommandError

    with translation.override("en"), pytest.raises(CommandError, match="reserved"):
        call_command("create_company", name="X", slug="admin", owner_email="kirill@example.com")
    monkeypatch.delenv("RELATA_OWNER_PASSWORD")
    with pytest.raises(CommandError, match="password"):
        call_command("create_company", name="X", slug="okna-two", owner_email="new@example.com")
    # An existing account needs no password: it becomes the owner of a second company.
    call_command("create_company", name="Second", slug="okna-two", owner_email="kirill@example.com")
    assert (
        Company.objects.get(slug="okna-two").memberships.get().user
        == company.memberships.get().user
    )


def test_refill_keeps_its_lock_while_a_spare_is_migrated(
    django_db_blocker: Any, monkeypatch: Any
) -> None:
    """Migrating a spare closes Django's connection; a second refill starting then must still
    find the lock taken, or it would drop the half-built spare as an orphan."""
    seen: list[bool] = []
    build = schema_pool.create_spare

    def build_then_try_a_second_refill() -> str:
        name = build()
        with schema_pool.refill_lock() as second_got_it:
            seen.append(second_got_it)
        return name

    monkeypatch.setattr(schema_pool, "create_spare", build_then_try_a_second_refill)
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        assert schema_pool.refill(schema_pool.ready_count() + 1) == 1
    assert seen == [False]
    with django_db_blocker.unblock(), schema_pool.refill_lock() as free_again:
        assert free_again


_CATALOGUE = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity, replace(coalesce(pg_get_expr(d.adbin, d.adrelid), ''), %(s)s, 'S')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = %(s)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, replace(pg_get_constraintdef(oid), %(s)s, 'S'),
               condeferrable, condeferred
        FROM pg_constraint WHERE connamespace = %(s)s::regnamespace""",
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, %(s)s, 'S')
        FROM pg_indexes WHERE schemaname = %(s)s""",
    "triggers": """
        SELECT c.relname, t.tgname, replace(pg_get_triggerdef(t.oid), %(s)s, 'S')
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal""",
    "functions": """
        SELECT proname, replace(prosrc, %(s)s, 'S'), prokind
        FROM pg_proc WHERE pronamespace = %(s)s::regnamespace""",
    "relations": """
        SELECT relname, relkind, relpersistence FROM pg_class
        WHERE relnamespace = %(s)s::regnamespace""",
}


_CASTS = {"character", "varying", "text", "any", "array", "bigint", "integer"}


def _canonical(definition: str) -> str:
    """A definition with its array conditions compared by their parts: PostgreSQL prints
    ``x::text = ANY (ARRAY['a'::varchar::text])`` back as ``ANY ((ARRAY['a'::varchar])::text[])``
    after a dump is replayed — the same condition, other casts and parentheses."""
    if "ANY (" not in definition:
        return definition
    head, _, condition = definition.partition(" WHERE ")
    if not condition:
        head, _, condition = definition.partition("CHECK ")
    words = re.findall(r"'[^']*'|[A-Za-z_][A-Za-z_0-9]*", condition)
    return head + " | " + " ".join(w for w in words if w.lower() not in _CASTS)


def _catalogue(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for part, query in _CATALOGUE.items():
            cursor.execute(query.replace("::text", ""), {"s": schema})
            rows = [
                tuple(_canonical(str(v).replace(schema, "S")) for v in row)
                for row in cursor.fetchall()
            ]
            found[part] = sorted(rows)
        for table, columns in (
            ("django_migrations", "app, name"),
            ("django_content_type", "id, app_label, model"),
        ):
            cursor.execute(f'SELECT {columns} FROM "{schema}".{table}')
            found[table] = sorted(cursor.fetchall())
    return found


def test_a_copied_spare_is_the_migrated_schema_to_the_last_detail(
    django_db_blocker: Any,
) -> None:
    """Spares after the first are copies of a migrated one (schema_copy): every table, column,
    default, constraint, index, trigger, function and migration record must be the same.

    Both are built the way the pool builds them, ``distribute`` included: on a Citus cluster
    (tests/citus_subset.txt) the migrated template is a distributed schema, the copy is dumped
    from it through the coordinator and distributed in turn, and must come out the same."""
    from tenants.services import schema_copy

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        migrated = f"spare_migrated_{uuid_hex()}"
        copied = f"spare_copied_{uuid_hex()}"
        try:
            schema_pool.create_schema(migrated)
            call_command(
                "migrate_schemas", schema_name=migrated, tenant=True, interactive=False, verbosity=0
            )
            schema_pool.distribute(migrated)
            schema_pool.create_schema(copied)
            # The migrated schema is the template (the pool may be empty by now in a long run):
            # made a ready spare of this release, and no earlier copy kept in this process.
            SpareSchema.objects.filter(fingerprint=schema_pool.current_fingerprint()).update(
                created_at=timezone.now()
            )
            SpareSchema.objects.create(
                name=migrated,
                fingerprint=schema_pool.current_fingerprint(),
                created_at=timezone.now() - timedelta(days=1),
            )
            schema_copy.forget_copies()
            assert schema_copy.copy_into(copied, schema_pool.current_fingerprint())
            schema_pool.distribute(copied)
            source = schema_copy.copy_source(schema_pool.current_fingerprint())
            assert source is not None
            assert source[0] == migrated
            expected, got = _catalogue(migrated), _catalogue(copied)
            assert len(expected["relations"]) > 100
            for part in expected:
                assert got[part] == expected[part], part
            if getattr(connection, "is_citus", False):
                _assert_distributed_alike(migrated, copied)
            _assert_usable(copied)
        finally:
            SpareSchema.objects.filter(name=migrated).delete()
            schema_copy.forget_copies()
            schema_pool.drop_schema(migrated)
            schema_pool.drop_schema(copied)


def _assert_distributed_alike(migrated: str, copied: str) -> None:
    """On Citus: the copy is a distributed schema like the migrated one — every table a
    single-shard table of its schema's colocation group, all on one worker."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name::text FROM citus_schemas WHERE schema_name::text IN (%s, %s)",
            [migrated, copied],
        )
        assert sorted(row[0] for row in cursor.fetchall()) == sorted([migrated, copied])
        for schema in (migrated, copied):
            cursor.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace = %s::regnamespace "
                "AND relkind = 'r'",
                [schema],
            )
            tables = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*), count(DISTINCT s.colocation_id), count(DISTINCT s.nodeport) "
                "FROM citus_shards s JOIN pg_class c ON c.oid = s.table_name "
                "WHERE c.relnamespace = %s::regnamespace",
                [schema],
            )
            assert cursor.fetchone() == (tables, 1, 1), schema


def _assert_usable(schema: str) -> None:
    """The copy takes writes: its identity columns number rows (rolled back: a spare stays
    empty)."""
    connection.set_schema(schema, include_public=False)
    try:
        with transaction.atomic():
            assert Client.objects.create(name="Copy check").pk >= 1
            transaction.set_rollback(True)
    finally:
        connection.set_schema_to_public()


def test_without_a_copy_a_schema_is_built_by_its_migrations(
    django_db_blocker: Any, monkeypatch: Any
) -> None:
    from tenants.services import schema_copy

    monkeypatch.setattr(schema_copy, "pg_dump_binary", lambda: None)
    schema_copy.forget_copies()
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        name = schema_pool.create_spare()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT count(*) FROM "{name}".django_migrations')
                assert cursor.fetchone()[0] > 50
        finally:
            schema_pool.drop_schema(name)
            SpareSchema.objects.filter(name=name).delete()
    schema_copy.forget_copies()


def uuid_hex() -> str:
    import uuid

    return uuid.uuid4().hex[:8]
