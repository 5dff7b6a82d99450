"""Writing the audit log (read by admins on /audit/)."""

from __future__ import annotations

from typing import Any

from django.db import models

from crm_core.models import AuditEntry
from tenants.models import Membership


def record(
    membership: Membership, obj: models.Model, action: str, changes: dict[str, Any] | None = None
) -> AuditEntry:
    return AuditEntry.objects.create(
        object_type=obj._meta.model_name or "",
        object_id=obj.pk,
        action=action,
        changes={k: [_plain(v[0]), _plain(v[1])] for k, v in (changes or {}).items()},
        actor=membership.user,
    )


def _plain(value: Any) -> Any:
    """JSON as it is (lists and custom-field dicts stay structured); anything else as text."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)
