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
        # The reports page lists its reports from a registry; the campaigns' one joins it.
        from django.utils.translation import gettext_lazy

        from crm_core.reports.queries import REPORTS
        from marketing import receivers  # noqa: F401
        from marketing.reports import requests_by_campaign

        REPORTS["campaigns"] = (gettext_lazy("Requests by campaign"), requests_by_campaign)
        # The clients and contact persons lists' bulk actions: "Add to a new mailing list".
        from marketing.bulk_actions import register

        register()
