"""The live exchange with the company's 1C, kept in the company's own schema.

1C logs in with the company's exchange login (not a person's), opens a session, uploads files
in chunks, asks Relata to import them, and takes Relata's orders back. Every table here is the
exchange's own bookkeeping: what 1C sent lands in the CRM through the importer (onboarding).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.documents.models import Document
from crm_core.models import Deal
from onboarding.models import ImportBatch


class ExchangeSettings(models.Model):
    """One row per company: whether 1C may connect, and with which login and password."""

    enabled = models.BooleanField(_("exchange switched on"), default=False)
    login = models.CharField(_("login"), max_length=100)
    # Django's password hash; the password itself is shown once, when it is generated.
    password_hash = models.CharField(max_length=256, blank=True)
    password_set_at = models.DateTimeField(null=True, blank=True)
    # Won deals and invoices from this moment on go to 1C (not years of history at once).
    orders_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("exchange with 1C")
        verbose_name_plural = _("exchange with 1C")

    def __str__(self) -> str:
        return self.login


class ExchangeSession(models.Model):
    """One run of 1C's exchange, from `checkauth` on: its cookie, its files, its outcome."""

    class Kind(models.TextChoices):
        CATALOG = "catalog", _("Catalogue")
        SALE = "sale", _("Orders and payments")

    class Status(models.TextChoices):
        OPEN = "open", _("In progress")
        DONE = "done", _("Success")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # sha256 of the cookie 1C was given: a leaked table gives no live session.
    token_hash = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last request"), default=timezone.now)
    expires_at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(
        _("result"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    message = models.TextField(_("details"), blank=True)

    class Meta:
        verbose_name = _("exchange session")
        verbose_name_plural = _("exchange sessions")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class ReceivedFile(models.Model):
    """A file 1C uploaded in this session, kept as the chunks it came in until imported."""

    class Status(models.TextChoices):
        RECEIVING = "receiving", _("Receiving")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        UNPACKED = "unpacked", _("Unpacked")

    session = models.ForeignKey(ExchangeSession, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("file"), max_length=200)
    # Storage names of the chunks, in the order they arrived (storage has no append).
    parts = models.JSONField(default=list, blank=True)
    size = models.BigIntegerField(default=0)
    # sha256 of the whole file: the same file sent again is not imported twice.
    digest = models.CharField(max_length=64, blank=True, db_index=True)
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When an `import` request took it: a claim whose request died is taken over later.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "name"], name="exchange1c_file_per_session")
        ]

    def __str__(self) -> str:
        return self.name


class OutboundOrder(models.Model):
    """A won deal or an issued invoice as the order 1C receives, until 1C confirms it.

    One per invoice; a won deal without an invoice is sent as an order of its own.
    """

    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(
        Document, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    offered_in = models.ForeignKey(
        ExchangeSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    times_offered = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # What 1C said about it later (its own order status, payment and shipment).
    status_in_1c = models.CharField(max_length=200, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(invoice__isnull=False),
                name="exchange1c_order_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["deal"],
                condition=models.Q(invoice__isnull=True),
                name="exchange1c_order_per_won_deal",
            ),
        ]
        indexes = [
            models.Index(
                fields=["confirmed_at"],
                condition=models.Q(confirmed_at__isnull=True),
                name="exchange1c_unconfirmed_idx",
            )
        ]

    def __str__(self) -> str:
        return str(self.guid)
