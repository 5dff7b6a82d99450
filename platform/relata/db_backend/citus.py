"""Errors a Citus coordinator reports differently from one PostgreSQL server."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError

# A deferred constraint (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED) is checked on
# the worker when the transaction prepares. The coordinator relays the worker's error as a
# WARNING (keeping its SQLSTATE) and then fails with this internal error.
_FAILED_SHARD_COMMIT = "could not commit transaction for shard"
_INTEGRITY_CLASS = "23"


def as_integrity_error(
    exc: BaseException, notices: Sequence[tuple[str, str]]
) -> IntegrityError | None:
    """The IntegrityError one server would have raised for ``exc`` — the failed commit on a shard
    whose worker reported a constraint violation (``notices``: SQLSTATE and message of the
    warnings relayed during the commit) — or None when ``exc`` is something else."""
    if isinstance(exc, IntegrityError) or _FAILED_SHARD_COMMIT not in str(exc):
        return None
    for sqlstate, message in notices:
        if sqlstate.startswith(_INTEGRITY_CLASS):
            return IntegrityError(message)
    return None
