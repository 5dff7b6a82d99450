from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    """Sign-up wizard, industry templates, Excel/1C import and export (tenant app)."""

    name = "onboarding"
    verbose_name = _("Onboarding")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from onboarding.models import SetupProgress
        from onboarding.services.owners import on_member_joined
        from tenants.signals import member_joined

        # An invited person receives the imported records kept for them (services/owners.py).
        member_joined.connect(on_member_joined, dispatch_uid="onboarding-hand-over-records")

        post_save.connect(_forget_entry, sender=SetupProgress, dispatch_uid="setup-entry-save")
        post_delete.connect(_forget_entry, sender=SetupProgress, dispatch_uid="setup-entry-del")


def _forget_entry(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Every page's "continue setting up" entry reads the progress from the request cache."""
    from relata.db import connection
    from tenants.services import request_cache

    request_cache.forget([request_cache.company_key(connection.schema_name, "setup_entry")])
