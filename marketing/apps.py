from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    label = "marketing"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Web forms (crm_core.automation) know nothing of consent: this app reads what a form
        # took and records the consent ticked on it; anymail's webhooks tell bounces and
        # complaints. A lower layer never imports this one.
        from marketing import receivers  # noqa: F401
