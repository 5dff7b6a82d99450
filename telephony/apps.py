from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    """Telephone calls in the CRM: a virtual PBX's call events, pop-ups, logs and click-to-call."""

    name = "telephony"
    verbose_name = _("Telephony")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Missed calls not yet called back wait in the person's inbox: communications knows
        # them only through its registry of inbox sources.
        from communications.inbox import register_inbox_source
        from telephony.inbox import MissedCalls

        register_inbox_source(MissedCalls())
