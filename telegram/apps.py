from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelegramConfig(AppConfig):
    name = "telegram"
    verbose_name = _("Telegram")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every in-app notice (reminders, overdue tasks, new requests, SLA escalations) is also
        # sent to the member's linked Telegram chat. crm_core knows nothing of Telegram: the
        # notice's own post_save is the hook.
        from django.db.models.signals import post_save

        # Its chats open on its own page, with the bot's reply form (communications knows
        # the page only through its registry).
        from django.urls import reverse

        from communications.inbox import register_conversation_page
        from crm_core.models import Notification
        from telegram import receivers

        # Importing it registers the "telegram" request channel with the capture pipeline.
        from telegram.services import inbound  # noqa: F401

        register_conversation_page(
            "telegram", lambda conversation: reverse("telegram_chat", args=[conversation.pk])
        )
        post_save.connect(
            receivers.forward_notification, sender=Notification, dispatch_uid="telegram.notice"
        )
