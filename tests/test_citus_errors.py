"""Errors a Citus cluster reports differently reach the code as one server's (issue #24)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, InternalError, transaction

from relata.db import connection
from relata.db_backend.citus import as_integrity_error

SHARD_COMMIT = InternalError("could not commit transaction for shard 102012 on at least one node")


def test_a_failed_shard_commit_after_a_constraint_warning_is_an_integrity_error() -> None:
    violation = ("23503", 'insert or update on table "x" violates foreign key constraint "y"')
    error = as_integrity_error(SHARD_COMMIT, [("01000", "other"), violation])
    assert isinstance(error, IntegrityError)
    assert "violates foreign key" in str(error)


def test_other_failures_stay_what_they_are() -> None:
    # A worker that failed for another reason (it went away) is not a constraint violation.
    assert as_integrity_error(SHARD_COMMIT, [("08006", "connection lost")]) is None
    assert as_integrity_error(InternalError("something else"), [("23503", "fk")]) is None


def test_a_deferred_foreign_key_violation_fails_the_commit_with_integrity_error(
    committed_companies: Callable[..., Any],
) -> None:
    # Django's foreign keys are checked at commit; on Citus that check runs on the worker.
    company = committed_companies("Deferred check")
    with company:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO crm_core_stage (name, position, probability, color, outcome, "
                "pipeline_id) VALUES ('Ghost', 99, 0, 'blue', 'open', 987654321)"
            )
        from crm_core.models import Stage

        assert not Stage.objects.filter(name="Ghost").exists()  # nothing half-kept
