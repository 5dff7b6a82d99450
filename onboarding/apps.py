from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    """Sign-up wizard, industry templates, Excel/1C import and export (tenant app)."""

    name = "onboarding"
    verbose_name = _("Onboarding")
