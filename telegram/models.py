"""A company's own Telegram bot, its members' linked chats and the messages clients send it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret_token() -> str:
    # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -; token_urlsafe uses exactly those.
    return secrets.token_urlsafe(48)


class Bot(models.Model):
    """The company's bot (one per company schema). The token and the webhook secret are kept
    encrypted (telegram.vault) and never shown back in full."""

    token_encrypted = models.TextField()
    secret_encrypted = models.TextField()
    # Only the last characters of the token, to recognise it on the settings screen.
    token_hint = models.CharField(max_length=8)
    bot_id = models.BigIntegerField()
    username = models.CharField(_("bot"), max_length=64)
    # People live in the public schema: a reference, never a database constraint into it
    # (as crm_core's; deleting a user must not look into every company's tables).
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    connected_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"@{self.username}"


class StaffLink(models.Model):
    """A member's Telegram chat, where their notices go."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    chat_id = models.BigIntegerField()
    linked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} → {self.chat_id}"


class LinkCode(models.Model):
    """A one-time code in the deep link t.me/<bot>?start=<code>; valid for an hour."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    code = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link code of {self.user_id}"


class Update(models.Model):
    """Every update_id the webhook accepted: the unique constraint turns a replay into a no-op."""

    update_id = models.BigIntegerField(unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.update_id)


class TelegramMessage(models.Model):
    """A message a client wrote to the company's bot, matched to a contact person when known."""

    update_id = models.BigIntegerField(unique=True)
    chat_id = models.BigIntegerField(db_index=True)
    from_id = models.BigIntegerField(db_index=True)
    from_name = models.CharField(_("from"), max_length=200, blank=True)
    from_username = models.CharField(max_length=64, blank=True)
    text = models.TextField(_("text"), blank=True)
    # The phone the sender shared with the bot (message.contact), E.164.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    sent_at = models.DateTimeField(_("sent"))
    received_at = models.DateTimeField(default=timezone.now)
    contact = models.ForeignKey(
        "crm_core.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(
        "crm_core.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead = models.ForeignKey(
        "crm_core.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["sent_at", "id"]
        verbose_name = _("Telegram message")
        verbose_name_plural = _("Telegram messages")

    def __str__(self) -> str:
        return self.text[:50]
