"""The pool of pre-migrated spare schemas that makes a new company ready in milliseconds.

Running every tenant migration for a new schema costs about a second and grows with each
migration; renaming an already-migrated schema costs a few milliseconds. Celery beat keeps
``SCHEMA_POOL_SIZE`` spares ready (``refill``); a sign-up claims one inside its own transaction
(``claim``), so a failed sign-up rolls the rename back and the spare returns to the pool.
When the pool is empty, the sign-up builds a schema itself by running migrations: slower, but
never blocked on the broker.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.migrations.loader import MigrationLoader
from psycopg import sql

from relata.db import connection
from tenants.models import SpareSchema
from tenants.services import schema_copy

logger = logging.getLogger(__name__)

SPARE_PREFIX = "spare_"
# Any number will do as long as nothing else in Relata takes the same advisory lock.
_REFILL_LOCK_ID = 0x52454C41  # "RELA"


def tenant_app_labels() -> set[str]:
    return {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}


@cache
def current_fingerprint() -> str:
    """A digest of every tenant migration in the code, which changes with each new migration."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    labels = tenant_app_labels()
    names = sorted(f"{app}.{name}" for app, name in loader.disk_migrations if app in labels)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def _quote(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _on_citus() -> bool:
    return bool(getattr(connection, "is_citus", False))


def create_schema(name: str) -> None:
    """Create an empty schema to build a company's tables in (then ``distribute`` it).

    On a Citus cluster it starts as a plain schema on the coordinator: migrations there run as
    on one server (~80 tables in about a second), where in a distributed schema every statement
    is a two-phase commit with the workers (a minute on a busy 2-core machine).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if _on_citus():
            cursor.execute("SET LOCAL citus.enable_schema_based_sharding = off")
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(_quote(name)))


def distribute(name: str) -> None:
    """On a Citus cluster, make a built schema a distributed schema: Citus moves it whole to
    one worker, and ``ALTER SCHEMA … RENAME`` keeps it so. Nothing to do on one server."""
    connection.set_schema_to_public()
    if not _on_citus():
        return
    with transaction.atomic(), connection.cursor() as cursor:
        # The tables carry Relata's reviewed triggers (docs/decisions.md).
        cursor.execute("SET LOCAL citus.enable_unsafe_triggers = on")
        cursor.execute("SELECT citus_schema_distribute(%s)", [name])


def create_spare() -> str:
    """Build one spare schema (a copy of a ready one, or by running the tenant migrations in
    it) and register it."""
    name = f"{SPARE_PREFIX}{secrets.token_hex(8)}"
    create_schema(name)
    try:
        fill_schema(name)
        distribute(name)
    except Exception:
        drop_schema(name)
        raise
    connection.set_schema_to_public()
    SpareSchema.objects.create(name=name, fingerprint=current_fingerprint())
    return name


def drop_schema(name: str) -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(_quote(name)))


def claim(target_schema: str) -> bool:
    """Rename a ready spare to ``target_schema``; False when no up-to-date spare is ready.

    Must run inside the caller's transaction: the rename is rolled back with it.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("claim() must run inside the sign-up transaction")
    spare = (
        SpareSchema.objects.select_for_update(skip_locked=True)
        .filter(fingerprint=current_fingerprint())
        .order_by("created_at")
        .first()
    )
    if spare is None:
        return False
    rename_schema(spare.name, target_schema)
    spare.delete()
    return True


def rename_schema(current: str, target: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(_quote(current), _quote(target))
        )


def build_schema(target_schema: str) -> None:
    """Give ``target_schema`` the current tenant tables: from the pool, or by migrating."""
    if claim(target_schema):
        return
    logger.warning("schema pool empty: building %s", target_schema)
    create_schema(target_schema)
    fill_schema(target_schema)
    distribute(target_schema)


def fill_schema(name: str) -> None:
    """Give the empty schema ``name`` this release's tables: a copy of a ready spare
    (tenants/services/schema_copy.py), else the tenant migrations.

    On a Citus cluster ``name`` is still a plain coordinator schema here (``create_schema``), so
    the copy replays as on one server and ``distribute`` then moves it to a worker, as it does a
    migrated one (docs/decisions.md: a replay straight into a distributed schema is slower).
    """
    connection.set_schema_to_public()
    if schema_copy.copy_into(name, current_fingerprint()):
        return
    call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=0)


def drop_stale() -> int:
    """Drop spares built with other migrations than the code has now (after a release), and
    half-built spares a killed worker left behind. Runs under the refill lock only."""
    dropped = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            [SPARE_PREFIX.replace("_", r"\_") + "%"],
        )
        present = {row[0] for row in cursor.fetchall()}
    for orphan in present - set(SpareSchema.objects.values_list("name", flat=True)):
        drop_schema(orphan)
        dropped += 1
    for spare in SpareSchema.objects.exclude(fingerprint=current_fingerprint()):
        with transaction.atomic():
            drop_schema(spare.name)
            spare.delete()
        dropped += 1
    return dropped


@contextmanager
def refill_lock() -> Iterator[bool]:
    """Hold the refill lock for the block; yields False when another refill holds it.

    The advisory lock lives on a connection of its own: running a schema's migrations closes
    Django's connection (django-tenants does so after every schema), which would release a lock
    held there halfway through a refill, and a second refill would then drop the spare still
    being built as an orphan.
    """
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as holder:
        row = holder.execute("SELECT pg_try_advisory_lock(%s)", [_REFILL_LOCK_ID]).fetchone()
        yield bool(row and row[0])
    # Closing the holder's connection releases the lock, also when the block raised.


def refill(target: int | None = None) -> int:
    """Top the pool up to ``target`` spares; returns how many were built.

    Guarded by an advisory lock, so overlapping beat runs or workers never overbuild and never
    drop each other's half-built spares.
    """
    target = settings.SCHEMA_POOL_SIZE if target is None else target
    built = 0
    with refill_lock() as locked:
        if not locked:
            return 0
        drop_stale()
        while SpareSchema.objects.filter(fingerprint=current_fingerprint()).count() < target:
            create_spare()
            built += 1
            if _on_citus() and not connection.in_atomic_block:
                # The next spare on a new session: a session that has distributed dozens of
                # schemas takes ~3x as long over the next one (Citus rebuilds its metadata
                # cache, which holds every schema the session touched, after each one).
                connection.close()
    return built


def ready_count() -> int:
    return SpareSchema.objects.filter(fingerprint=current_fingerprint()).count()
