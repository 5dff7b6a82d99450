from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    label = "service"
    verbose_name = _("Customer service")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The lower layers (crm_core, communications, telegram, telephony) know nothing of
        # tickets: this app joins them through their registries and signals.
        from service import hooks

        hooks.connect()
