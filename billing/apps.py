from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Plans, seats and Stripe subscriptions (public schema)."""

    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from billing.services.subscriptions import end_before_purge
        from tenants.signals import company_purging

        company_purging.connect(end_before_purge, dispatch_uid="billing-end-before-purge")

        from django.db.models.signals import post_delete, post_save

        from billing.models import Subscription

        post_save.connect(_forget_trial, sender=Subscription, dispatch_uid="billing-trial-save")
        post_delete.connect(_forget_trial, sender=Subscription, dispatch_uid="billing-trial-del")


def _forget_trial(sender: Any, instance: Any, **kwargs: Any) -> None:
    """The trial banner of every page reads the subscription from the request cache."""
    from tenants.services import request_cache

    request_cache.forget([request_cache.company_key(instance.company_id, "trial_ends_at")])
