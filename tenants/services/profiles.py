"""A person's own settings (global: the same in every company they belong to)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tenants.models import User
from tenants.zones import choices


def update_profile(*, user: User, full_name: str, time_zone: str) -> User:
    """The person's name and time zone (empty: each company's own). An unknown zone is
    refused, never stored."""
    if time_zone and time_zone not in dict(choices()):
        raise ValidationError({"time_zone": _("Choose a time zone from the list.")})
    user.full_name = full_name.strip()[:200]
    user.time_zone = time_zone
    user.save(update_fields=["full_name", "time_zone"])
    return user
