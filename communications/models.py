"""Conversations with customers, whatever the channel, and the e-mail mailboxes they come from.

A ``Conversation`` is one thread with one person (a client's contact person, or a stranger who
wrote in) on one channel; its ``Message`` rows are what was said, in and out. E-mail is the
first channel: a ``Mailbox`` (IMAP + SMTP) brings messages in and sends replies. Telegram (the
company's bot, ``telegram/``) writes its chats here as conversations of its own channel, so the
inbox, the card's feed and the first-reply report read one table; other sources of things to
answer (missed calls) join the inbox through ``communications.inbox``'s registry.

Users are global (public schema): a row naming a user keeps only the id, as in crm_core.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.models import Client, Contact, Deal, Lead, _user


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    TELEGRAM = "telegram", _("Telegram")


class Mailbox(models.Model):
    """A mailbox the CRM reads by IMAP and sends from by SMTP.

    A personal mailbox is read by its owner alone unless the owner lets others read it; a
    shared one (sales@) by the people named as its readers and by the company's admins. The
    password or OAuth2 token is kept only encrypted (``communications.credentials``)."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        SHARED = "shared", _("Shared")

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (local servers only)")

    class AuthMethod(models.TextChoices):
        PASSWORD = "password", _("Login and (app) password")
        XOAUTH2 = "xoauth2", _("OAuth2 (XOAUTH2)")

    class Status(models.TextChoices):
        OK = "ok", _("Connected")
        ERROR = "error", _("Error")
        PAUSED = "paused", _("Paused")

    name = models.CharField(_("name"), max_length=200)
    address = models.EmailField(_("address"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSONAL)
    owner = _user(verbose_name=_("owner"))
    imap_host = models.CharField(_("IMAP server"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    smtp_host = models.CharField(_("SMTP server"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=465)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    login = models.CharField(_("login"), max_length=255)
    auth_method = models.CharField(
        _("sign-in method"), max_length=10, choices=AuthMethod.choices, default=AuthMethod.PASSWORD
    )
    # A Fernet token of the password or OAuth2 access token; never shown, logged or exported.
    secret = models.TextField(blank=True)
    # OAuth2 (``communications.oauth``): whose sign-in it is (yandex, mailru, google), the
    # sealed refresh token and when the access token in ``secret`` runs out.
    oauth_provider = models.CharField(max_length=20, blank=True, default="")
    refresh_secret = models.TextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    sent_folder = models.CharField(_("Sent folder"), max_length=200, default="Sent")
    initial_days = models.PositiveIntegerField(_("import the last N days"), default=30)
    # Unknown senders become requests only where the company says so (e.g. sales@ alone).
    creates_requests = models.BooleanField(
        _("messages from unknown senders become requests"), default=False
    )
    request_form = models.ForeignKey(
        "automation.RequestForm",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("request rules"),
        help_text=_("Whose requests these are and where they go, as for this request form."),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    last_error = models.CharField(max_length=500, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class MailboxReader(models.Model):
    """Someone other than the owner who may read a mailbox (a shared box's team)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="readers")
    user = _user()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "user"], name="mailbox_reader_once")
        ]

    def __str__(self) -> str:
        return f"reader {self.user_id} of mailbox {self.mailbox_id}"


class MailFolder(models.Model):
    """Where the sync of one IMAP folder stands: a new UIDVALIDITY means the server renumbered
    the folder, so the sync starts it over (messages already kept are matched by Message-ID)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=300)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="mail_folder_once")]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """One thread with a customer on one channel, on the client, contact person and deal it
    is about. ``awaiting_reply``: the last word was the customer's (the inbox's list)."""

    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.CASCADE, null=True, blank=True, related_name="conversations"
    )
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    counterpart = models.CharField(_("with"), max_length=320, blank=True)
    # The channel's own id of the conversation where it has one: a Telegram chat's id.
    external_id = models.CharField(max_length=64, blank=True, default="")
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    deal = models.ForeignKey(
        Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    awaiting_reply = models.BooleanField(default=False)
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_inbound_at = models.DateTimeField(null=True, blank=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["mailbox", "awaiting_reply", "waiting_since"], name="conv_inbox"),
            models.Index(fields=["client", "-last_message_at"], name="conv_client"),
            models.Index(fields=["contact", "-last_message_at"], name="conv_contact"),
            models.Index(fields=["deal", "-last_message_at"], name="conv_deal"),
            models.Index(fields=["channel", "external_id"], name="conv_external"),
            models.Index(
                fields=["channel", "awaiting_reply", "waiting_since"], name="conv_waiting"
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.counterpart


def _raw_path(instance: Message, filename: str) -> str:
    return f"mail/raw/{timezone.now():%Y/%m}/{filename}"


class Message(models.Model):
    """One message of a conversation. E-mail keeps its headers for threading and replies; a
    message that could not be read whole keeps its raw source (``raw``) and what went wrong."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not sent")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    folder = models.ForeignKey(
        MailFolder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uid = models.BigIntegerField(null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    from_name = models.CharField(max_length=300, blank=True)
    to = ArrayField(models.CharField(max_length=320), default=list, blank=True)
    cc = ArrayField(models.CharField(max_length=320), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    is_read = models.BooleanField(default=False)
    # An auto-reply or a list mailing (Auto-Submitted, Precedence): never answered
    # automatically and never made into a request.
    is_automatic = models.BooleanField(default=False)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.RECEIVED)
    problem = models.CharField(max_length=500, blank=True)
    raw = models.FileField(upload_to=_raw_path, max_length=500, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    author = _user()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["sent_at", "id"]
        indexes = [
            models.Index(fields=["mailbox", "message_id"], name="message_by_id"),
            models.Index(fields=["conversation", "sent_at"], name="message_thread"),
        ]

    def __str__(self) -> str:
        return self.subject


def _attachment_path(instance: MessageAttachment, filename: str) -> str:
    return f"mail/files/{timezone.now():%Y/%m}/{filename}"


class MessageAttachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=500)
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class MailTemplate(models.Model):
    """A reusable letter; {client}, {deal}, {manager}… are filled in when it is used."""

    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("letter template")
        verbose_name_plural = _("letter templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
