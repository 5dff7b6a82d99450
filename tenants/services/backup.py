"""Back up one company (its schema's rows and its files) and restore it.

An archive is a gzipped tar with ``manifest.json`` (the company, its members' e-mails and roles,
the migrations its schema had, and each table's columns and row count), ``data/<table>.copy``
(PostgreSQL's COPY text format, read in one REPEATABLE READ snapshot) and ``files/`` (the
company's uploaded files). Sessions are not archived: a restore logs everyone out.

A restore never touches the live schema until the end: it builds a scratch schema at the
archive's migration state, loads the rows (Django's foreign keys are DEFERRABLE, so the load
order does not matter and the whole load is one transaction), resets the id sequences, migrates
the scratch schema forward to the current release, and only then swaps it in (``replace``) or
makes a new company of it (``as_new``). Any failure drops the scratch schema and leaves
everything as it was. See docs/operations.md for how this combines with point-in-time recovery.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from psycopg import sql

from relata.db import connection
from tenants.models import Company, User
from tenants.services import schema_pool
from tenants.services.provisioning import create_company

FORMAT = 1
NOT_ARCHIVED = {"django_session", "django_migrations"}
Node = tuple[str, str]


class BackupError(Exception):
    """An archive that cannot be made or restored, with the reason in words."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int


def _media_dir(schema: str) -> Path:
    return Path(settings.MEDIA_ROOT) / schema


def _tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
        )
        return [row[0] for row in cursor.fetchall() if row[0] not in NOT_ARCHIVED]


def _columns(schema: str, table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            # Generated columns (a stored search vector) are computed again on restore, and
            # COPY refuses them anyway.
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND is_generated = 'NEVER' "
            "ORDER BY ordinal_position",
            [schema, table],
        )
        return [row[0] for row in cursor.fetchall()]


def _applied(schema: str) -> list[Node]:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations ORDER BY id").format(
                sql.Identifier(schema)
            )
        )
        return [(app, name) for app, name in cursor.fetchall()]


def _column_list(columns: Iterable[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def backup_company(company: Company, out: Path | None = None) -> BackupResult:
    connection.set_schema_to_public()
    schema = company.schema_name
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    out = out or Path(settings.BACKUP_ROOT) / f"{company.slug}-{stamp}.tar.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "company": {
            "name": company.name,
            "slug": company.slug,
            "schema": schema,
            "language": company.language,
            "time_zone": company.time_zone,
            "currency": company.currency,
            "status": company.status,
        },
        "members": [
            {"email": m.user.email, "role": m.role, "is_active": m.is_active}
            for m in company.memberships.select_related("user").order_by("pk")
        ],
        "tables": {},
    }
    rows = 0
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        with transaction.atomic(), connection.cursor() as cursor:
            # One consistent snapshot of every table, as of the first query.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            manifest["migrations"] = _applied(schema)
            for table in _tables(schema):
                columns = _columns(schema, table)
                copy = sql.SQL("COPY {}.{} ({}) TO STDOUT").format(
                    sql.Identifier(schema), sql.Identifier(table), _column_list(columns)
                )
                count = 0
                with (
                    (data_dir / f"{table}.copy").open("wb") as handle,
                    cursor.cursor.copy(copy) as stream,
                ):
                    for chunk in stream:
                        handle.write(chunk)
                        count += bytes(chunk).count(b"\n")
                manifest["tables"][table] = {"columns": columns, "rows": count}
                rows += count
        (Path(scratch) / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1)
        )
        partial = out.with_suffix(out.suffix + ".partial")
        files = 0
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(Path(scratch) / "manifest.json", arcname="manifest.json")
            archive.add(data_dir, arcname="data")
            media = _media_dir(schema)
            if media.is_dir():
                archive.add(media, arcname="files")
                files = sum(1 for p in media.rglob("*") if p.is_file())
        partial.replace(out)  # never leave a half-written archive under the final name
    return BackupResult(path=out, tables=len(manifest["tables"]), rows=rows, files=files)


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise BackupError("the archive has no manifest.json")
            manifest: dict[str, Any] = json.loads(member.read())
    except (tarfile.TarError, OSError, KeyError, json.JSONDecodeError) as exc:
        raise BackupError(f"not a Relata company archive: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"archive format {manifest.get('format')!r}; this release reads {FORMAT}")
    return manifest


def _migrate(schema: str, targets: list[Node]) -> None:
    """Bring ``schema`` to exactly ``targets`` (the way django-tenants migrates a tenant)."""
    connection.set_schema(schema, include_public=False)
    MigrationRecorder(connection).ensure_schema()
    connection.set_schema(schema)
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    connection.set_schema_to_public()


def _leaves(nodes: set[Node]) -> list[Node]:
    graph = MigrationExecutor(connection).loader.graph
    unknown = sorted(n for n in nodes if n not in graph.nodes)
    if unknown:
        raise BackupError(
            f"the archive was made by a newer release (unknown migrations: {unknown[:3]}…)"
        )
    return [n for n in nodes if not any(c.key in nodes for c in graph.node_map[n].children)]


def _load(archive: Path, manifest: dict[str, Any], schema: str, media_to: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(scratch, filter="data")
        root = Path(scratch)
        with transaction.atomic(), connection.cursor() as cursor:
            present = set(_tables(schema))
            for table, info in manifest["tables"].items():
                if table not in present:
                    raise BackupError(f"table {table} of the archive does not exist at its release")
                copy = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
                    sql.Identifier(schema), sql.Identifier(table), _column_list(info["columns"])
                )
                with (
                    (root / "data" / f"{table}.copy").open("rb") as handle,
                    cursor.cursor.copy(copy) as stream,
                ):
                    while chunk := handle.read(1 << 20):
                        stream.write(chunk)
                for column in info["columns"]:
                    cursor.execute(
                        "SELECT pg_get_serial_sequence(%s, %s)",
                        [sql.Identifier(schema, table).as_string(cursor.cursor), column],
                    )
                    (sequence,) = cursor.fetchone()
                    if sequence:
                        cursor.execute(
                            sql.SQL(
                                "SELECT setval(%s, COALESCE(MAX({}), 0) + 1, false) FROM {}.{}"
                            ).format(
                                sql.Identifier(column),
                                sql.Identifier(schema),
                                sql.Identifier(table),
                            ),
                            [sequence],
                        )
        if (root / "files").is_dir():
            if media_to.exists():
                shutil.rmtree(media_to)
            media_to.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(root / "files", media_to)


def _drop(schema: str) -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _prepare(archive: Path, manifest: dict[str, Any], media_to: Path) -> str:
    """A scratch schema with the archive's rows, migrated to the current release."""
    scratch = f"restore_{secrets.token_hex(6)}"
    connection.set_schema_to_public()
    schema_pool.create_schema(scratch)
    try:
        _migrate(scratch, _leaves({tuple(n) for n in manifest["migrations"]}))
        _load(archive, manifest, scratch, media_to)
        current = MigrationExecutor(connection).loader.graph.leaf_nodes()
        _migrate(scratch, current)
        schema_pool.distribute(scratch)
    except Exception:
        _drop(scratch)
        raise
    return scratch


def restore_in_place(archive: Path, company: Company) -> Company:
    """Put the company back as it was in the archive (after a mistake). Same schema name."""
    manifest = read_manifest(archive)
    if manifest["company"]["slug"] != company.slug:
        raise BackupError(
            f"the archive is of {manifest['company']['slug']!r}, not {company.slug!r}; "
            "restore it as a new company instead"
        )
    staged_media = Path(settings.MEDIA_ROOT) / f".restore-{secrets.token_hex(6)}"
    scratch = _prepare(archive, manifest, staged_media)
    trash = f"trash_{secrets.token_hex(6)}"
    connection.set_schema_to_public()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(company.schema_name), sql.Identifier(trash)
            )
        )
        cursor.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(scratch), sql.Identifier(company.schema_name)
            )
        )
        cursor.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(trash)))
    live_media = _media_dir(company.schema_name)
    if live_media.exists():
        shutil.rmtree(live_media)
    if staged_media.exists():
        staged_media.replace(live_media)
    return company


def restore_as_new(archive: Path, *, slug: str, name: str | None, owner: User) -> Company:
    """Make a new company from the archive (e.g. to look at yesterday's data beside today's)."""
    manifest = read_manifest(archive)
    staged_media = Path(settings.MEDIA_ROOT) / f".restore-{secrets.token_hex(6)}"
    scratch = _prepare(archive, manifest, staged_media)
    original = manifest["company"]
    try:
        result = create_company(
            name=name or original["name"],
            slug=slug,
            owner_email=owner.email,
            owner=owner,
            language=original["language"],
            time_zone=original["time_zone"],
            currency=original["currency"],
            prepared_schema=scratch,
        )
    except Exception:
        _drop(scratch)
        shutil.rmtree(staged_media, ignore_errors=True)
        raise
    if staged_media.exists():
        staged_media.replace(_media_dir(result.company.schema_name))
    return result.company
