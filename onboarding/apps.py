from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    """Sign-up wizard, industry templates, Excel/1C import and export (tenant app)."""

    name = "onboarding"
    verbose_name = _("Onboarding")

    def ready(self) -> None:
        from onboarding.services.owners import on_member_joined
        from tenants.signals import member_joined

        # An invited person receives the imported records kept for them (services/owners.py).
        member_joined.connect(on_member_joined, dispatch_uid="onboarding-hand-over-records")
