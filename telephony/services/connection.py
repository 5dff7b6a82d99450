"""Connecting the company's PBX: provider, keys (sealed), extensions. Owners and admins only."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from crm_core.automation.models import RequestForm
from telephony import vault
from telephony.models import Extension, PbxConnection, Provider, new_webhook_secret
from telephony.providers.base import Credentials
from tenants.models import Membership

# Whether a company has telephony on, for every page's template (the dial buttons, the pop-up
# poller); the key function adds the company's schema.
ON_KEY = "telephony:on"


def current() -> PbxConnection | None:
    return PbxConnection.objects.order_by("pk").first()


def is_on() -> bool:
    """Read on every page: one cache hit; the database only when the cache lost the flag."""
    flag = cache.get(ON_KEY)
    if flag is None:
        connection = current()
        flag = bool(connection and connection.is_active)
        cache.set(ON_KEY, flag, timeout=3600)
    return bool(flag)


def credentials(connection: PbxConnection) -> Credentials:
    return Credentials(
        api_key=vault.unseal(connection.api_key_encrypted),
        api_secret=vault.unseal(connection.api_secret_encrypted),
        webhook_secret=vault.unseal(connection.webhook_secret_encrypted),
    )


@dataclass(frozen=True)
class ConnectionInput:
    provider: str
    api_key: str = ""  # blank: keep the one saved
    api_secret: str = ""
    is_active: bool = True
    callback_minutes: int = 15
    request_form: RequestForm | None = None


@transaction.atomic
def connect(*, membership: Membership, data: ConnectionInput) -> PbxConnection:
    """Save the provider and its keys (sealed; a blank key keeps the saved one). A provider
    that signs with its own keys cannot be switched on without them."""
    require_admin(membership)
    connection = current() or PbxConnection(
        webhook_secret_encrypted=vault.seal(new_webhook_secret())
    )
    changed_provider = connection.provider != data.provider
    connection.provider = data.provider
    if data.api_key:
        connection.api_key_encrypted = vault.seal(data.api_key.strip())
        connection.api_key_hint = vault.hint(data.api_key.strip())
    elif changed_provider:
        connection.api_key_encrypted = connection.api_secret_encrypted = ""
        connection.api_key_hint = ""
    if data.api_secret:
        connection.api_secret_encrypted = vault.seal(data.api_secret.strip())
    if data.provider != Provider.RELATA and data.is_active:
        keys = credentials(connection)
        if not keys.api_key or not keys.api_secret:
            raise ValidationError(
                _("Enter the provider's API key and secret to connect it."), code="keys"
            )
    connection.is_active = data.is_active
    connection.callback_minutes = data.callback_minutes
    connection.request_form = data.request_form
    connection.save()
    transaction.on_commit(lambda: cache.set(ON_KEY, connection.is_active, timeout=3600))
    return connection


@transaction.atomic
def new_webhook_secret_for(*, membership: Membership) -> str:
    """A new secret for Relata's own format; the old one stops working at once."""
    require_admin(membership)
    connection = current()
    if connection is None:
        raise ValidationError(_("Connect the PBX first."), code="not_connected")
    secret = new_webhook_secret()
    connection.webhook_secret_encrypted = vault.seal(secret)
    connection.save(update_fields=["webhook_secret_encrypted", "updated_at"])
    return secret


@transaction.atomic
def map_extension(*, membership: Membership, number: str, user_id: int | None) -> Extension:
    """Whose phone an extension is (one person per extension; re-mapping moves it)."""
    require_admin(membership)
    number = number.strip()
    if not number or len(number) > 32:
        raise ValidationError(_("An extension is 1 to 32 characters."), code="extension")
    if (
        user_id is not None
        and not Membership.objects.filter(
            company=membership.company, user_id=user_id, is_active=True
        ).exists()
    ):
        raise ValidationError(_("Choose a member of the company."), code="member")
    extension, _created = Extension.objects.update_or_create(
        number=number, defaults={"user_id": user_id}
    )
    return extension


def unmap_extension(*, membership: Membership, extension_id: int) -> None:
    require_admin(membership)
    Extension.objects.filter(pk=extension_id).delete()
