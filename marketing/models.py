"""Marketing inside one company's CRM: segments of contact persons, their consent to receive
mailings, e-mail campaigns with their recipients, and the addresses never to write to again.

A segment is either dynamic (a saved view of the clients or contact persons lists, evaluated
by the list's own filters when a campaign goes out) or a static list of contact persons. Only
a person with a consent in force, whose address is not suppressed (unsubscribed, bounced,
complained), receives a campaign.

Users are global (public schema): a row naming a user keeps only the id, as in crm_core.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_core.models import Contact, SavedView, _user


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic (a saved view)")
        STATIC = "static", _("Static list")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.STATIC)
    # The saved view of the clients or contact persons list a dynamic segment follows: its
    # filters are re-read when a campaign is sent, so the segment is who matches *then*.
    view = models.ForeignKey(
        SavedView,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saved view"),
    )
    owner = _user(verbose_name=_("owner"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A contact person on a static list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = _user()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segment_member_once")
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} in segment {self.segment_id}"


class Consent(models.Model):
    """A contact person's consent to receive mailings (152-ФЗ art. 9; e-mail practice): where
    it was given, when, and the exact text agreed to; withdrawn, it stays as the record of
    what was agreed and when it ended. ``email`` is the address it was given for (a web form
    names one before the contact person exists)."""

    class Source(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        MANUAL = "manual", _("Entered by an employee")
        IMPORT = "import", _("Import")
        API = "api", _("API")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="consents"
    )
    email = models.EmailField(_("e-mail"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    details = models.CharField(_("where exactly"), max_length=300, blank=True)
    text = models.TextField(_("text agreed to"))
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    recorded_by = _user()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "withdrawn_at"], name="consent_contact_idx"),
            models.Index(Lower("email"), "withdrawn_at", name="consent_email_idx"),
        ]

    def __str__(self) -> str:
        return f"consent of {self.contact_id or self.email}"


class Suppression(models.Model):
    """An address no campaign writes to again: the person unsubscribed, the address bounced
    hard, or the person marked a campaign as spam. Kept lower-case, once per address."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        # Several letters in a row came back "try later" (a full mailbox, a server down).
        SOFT_BOUNCED = "soft_bounced", _("Bounced temporarily again and again")
        COMPLAINED = "complained", _("Marked as spam")

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    campaign = models.ForeignKey(
        "Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")

    def __str__(self) -> str:
        return self.email


def _webhook_secret() -> str:
    return secrets.token_urlsafe(24)


class SendingSettings(models.Model):
    """How this company's campaigns go out: through one of its mailboxes (SMTP) or a
    transactional provider (django-anymail), and how fast. One row per company."""

    class Channel(models.TextChoices):
        MAILBOX = "mailbox", _("The company's mailbox (SMTP)")
        PROVIDER = "provider", _("A transactional e-mail provider")

    class Provider(models.TextChoices):
        UNISENDER_GO = "unisender_go", "Unisender Go"
        MAILGUN = "mailgun", "Mailgun"
        POSTMARK = "postmark", "Postmark"
        SENDGRID = "sendgrid", "SendGrid"
        BREVO = "brevo", "Brevo"
        MAILJET = "mailjet", "Mailjet"
        RESEND = "resend", "Resend"

    channel = models.CharField(
        _("send through"), max_length=10, choices=Channel.choices, default=Channel.MAILBOX
    )
    mailbox = models.ForeignKey(
        "communications.Mailbox",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mailbox"),
    )
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices, blank=True)
    # Fernet tokens (marketing.credentials); never shown, logged or exported.
    provider_key = models.TextField(blank=True)
    provider_signing_key = models.TextField(blank=True)
    from_email = models.EmailField(_("from address"), blank=True)
    from_name = models.CharField(_("from name"), max_length=200, blank=True)
    rate_per_minute = models.PositiveIntegerField(_("letters per minute"), default=60)
    # The password of the provider's webhook (HTTP basic auth, as anymail checks it).
    webhook_secret = models.CharField(max_length=64, default=_webhook_secret)

    class Meta:
        verbose_name = _("sending settings")
        verbose_name_plural = _("sending settings")

    def __str__(self) -> str:
        return self.get_channel_display()


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", pgettext_lazy("campaign", "Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")
        # The worker gave up after its retries (the server kept refusing): the queue is kept,
        # and "resume" goes on from the first letter not yet sent.
        STOPPED = "stopped", _("Stopped: sending failed")

    name = models.CharField(_("name"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    # [{"kind": "heading"|"text"|"button"|"image"|"divider", "text": …, "url": …}, …]
    blocks = models.JSONField(_("blocks"), default=list, blank=True)
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("segment"),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, default=Decimal(0))
    # Why sending stopped (the last error of the channel), shown on the campaign page.
    stopped_reason = models.CharField(max_length=500, blank=True, default="")
    # What the links' utm_campaign says; requests that carry it are this campaign's.
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    # The company host as the sender saw it ("https://acme.relata.ru"): the letters' tracked
    # links and unsubscribe address are built on it by the worker, which has no request.
    base_url = models.CharField(max_length=300, blank=True)
    created_by = _user()
    sent_by = _user()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due_idx")]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One letter of a campaign to one address, and what became of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email = models.EmailField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    message_id = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # The letter came back "try later" (a full mailbox); soft bounces of several letters in a
    # row suppress the address (marketing.services.tracking).
    soft_bounced_at = models.DateTimeField(null=True, blank=True)
    # What the receiving server said when the letter bounced, hard or soft.
    bounce_detail = models.CharField(max_length=500, blank=True, default="")
    complained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "email"], name="recipient_once")]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="recipient_queue_idx"),
            models.Index(fields=["message_id"], name="recipient_message_idx"),
        ]

    def __str__(self) -> str:
        return self.email


class CampaignLink(models.Model):
    """A link of a campaign's letter: the tracked redirect names it by id, never by address,
    so the redirect can only lead where the campaign's author pointed."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=2000)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "url"], name="link_once")]

    def __str__(self) -> str:
        return self.url
