"""The company's sending settings, changed by an admin: the channel, the provider's keys
(sealed, never shown again), the from address and the rate."""

from __future__ import annotations

from django.db import transaction

from crm_core.access import require_admin
from marketing import credentials
from marketing.models import SendingSettings
from tenants.models import Membership


@transaction.atomic
def save_sending(
    *, membership: Membership, settings: SendingSettings, key: str, signing_key: str
) -> SendingSettings:
    """``settings`` carries the form's values; a key left empty keeps the one saved."""
    require_admin(membership)
    if key:
        settings.provider_key = credentials.seal(key.strip())
    if signing_key:
        settings.provider_signing_key = credentials.seal(signing_key.strip())
    settings.save()
    return settings
