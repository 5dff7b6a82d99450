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
