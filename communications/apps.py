from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunicationsConfig(AppConfig):
    name = "communications"
    label = "communications"
    verbose_name = _("Communications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The card feeds of crm_core know nothing of e-mail: this app adds its entries through
        # the feed's registry (a lower layer never imports an upper one).
        from communications import queries
        from crm_core.queries import cards

        cards.register_feed_source(queries.feed_entries)
        from django.utils.translation import gettext_lazy

        from communications.reports import first_reply
        from crm_core.reports.queries import register_report

        register_report("first_reply", gettext_lazy("First reply to customers"), first_reply)
        from communications import checks  # noqa: F401  (registers the deploy check)
