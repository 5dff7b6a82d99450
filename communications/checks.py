"""A deploy check: production should have a mailbox key of its own, not one derived from
SECRET_KEY (rotating SECRET_KEY would then make every stored mailbox password unreadable)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def mailbox_key_configured(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.RELATA_MAILBOX_KEY:
        return []
    return [
        checks.Info(
            "RELATA_MAILBOX_KEY is not set: mailbox secrets are encrypted with a key derived "
            "from SECRET_KEY.",
            hint="Set RELATA_MAILBOX_KEY to a Fernet key (Fernet.generate_key()).",
            id="communications.I001",
        )
    ]
