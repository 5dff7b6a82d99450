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
        from django.utils.translation import gettext_lazy

        from communications import queries
        from communications.reports import first_reply
        from crm_core.queries import cards
        from crm_core.reports.queries import register_report
        from crm_core.services import limits

        cards.register_feed_source(queries.feed_entries)
        # Mail's stored files count against the plan's storage (crm_core's limits).
        limits.register_storage_counter(queries.stored_bytes)
        register_report("first_reply", gettext_lazy("First reply to customers"), first_reply)
        from communications import checks  # noqa: F401  (registers the deploy check)
