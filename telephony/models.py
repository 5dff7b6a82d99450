"""Telephone calls of one company. Every table lives in the company's own schema.

A user is global (public schema): a row that names a person keeps only the user's id, as
crm_core does. The provider's keys are kept encrypted (``telephony.vault``), never in clear.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.automation.models import RequestForm
from crm_core.models import Activity, Client, Contact, Lead, Task


def _user(**kwargs: object) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        **kwargs,  # type: ignore[arg-type]
    )


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class Provider(models.TextChoices):
    # Relata's own signed format: any PBX (or a middleware such as an Asterisk script) can post it.
    RELATA = "relata", _("Another PBX (Relata's own format)")
    MANGO = "mango", _("Mango Office")
    ZADARMA = "zadarma", _("Zadarma")


class PbxConnection(models.Model):
    """The company's virtual PBX: which provider, its keys (encrypted) and how calls are handled.

    One row per company. ``webhook_secret`` signs events in Relata's own format; the provider's
    keys sign theirs (Mango: API key + salt; Zadarma: key + secret) and call its API.
    """

    provider = models.CharField(
        _("provider"), max_length=16, choices=Provider.choices, default=Provider.RELATA
    )
    is_active = models.BooleanField(_("connected"), default=True)
    # Fernet tokens (telephony.vault); shown back only as their last four characters.
    api_key_encrypted = models.TextField(blank=True)
    api_secret_encrypted = models.TextField(blank=True)
    api_key_hint = models.CharField(max_length=8, blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    callback_minutes = models.PositiveIntegerField(
        _("call back a missed call within, minutes"), default=15
    )
    # Whose rules a request from an unknown caller follows (pipeline, who gets it); made on
    # first use when none is chosen.
    request_form = models.ForeignKey(
        RequestForm,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requests from unknown callers follow the form"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("PBX connection")
        verbose_name_plural = _("PBX connections")

    def __str__(self) -> str:
        return self.get_provider_display()


class Extension(models.Model):
    """A PBX extension ("101") and the member whose phone it is."""

    number = models.CharField(_("PBX extension"), max_length=32, unique=True)
    user = _user(verbose_name=_("member"))

    class Meta:
        verbose_name = _("PBX extension")
        verbose_name_plural = _("PBX extensions")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class Call(models.Model):
    """One telephone call as the PBX reported it, whatever the order its events came in."""

    class Direction(models.TextChoices):
        INCOMING = "incoming", _("Incoming")
        OUTGOING = "outgoing", _("Outgoing")

    class Status(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        ENDED = "ended", _("Finished")
        MISSED = "missed", _("Missed")

    provider = models.CharField(max_length=16, choices=Provider.choices)
    # The provider's id of the whole call (Mango's entry_id, Zadarma's pbx_call_id).
    external_id = models.CharField(max_length=128)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.INCOMING
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RINGING
    )
    # The other party: E.164 when it parses, else as the PBX sent it.
    number = models.CharField(_("number"), max_length=64, blank=True)
    line_number = models.CharField(_("company's line"), max_length=64, blank=True)
    extension = models.CharField(_("PBX extension"), max_length=32, blank=True)
    manager = _user(verbose_name=_("manager"))
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("talk time, seconds"), default=0)
    # A provider's link (Relata's format) or recording id (Mango, Zadarma); played through
    # telephony's own address, which checks who asks.
    recording_ref = models.CharField(max_length=1000, blank=True)
    # How the call ended, in the provider's code (Mango's disconnect_reason: 1110 the caller
    # hung up…); the calls page reads it through the provider's adapter.
    end_reason = models.CharField(_("how it ended"), max_length=16, blank=True)
    # What the call left behind: set once, when it first ends (so a retried "ended" adds nothing).
    activity = models.OneToOneField(
        Activity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    callback_task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the ended call was written on the card (activity, call-back task, request): once.
    logged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="call_once_per_id")
        ]
        indexes = [
            models.Index(fields=["client", "-started_at"], name="call_client_idx"),
            models.Index(fields=["number", "-started_at"], name="call_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.number} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.ENDED, self.Status.MISSED}


class CallEvent(models.Model):
    """A webhook already taken: the provider's retries and replays find their key here and write
    nothing. Kept a month for the record of what the PBX sent (each ended call prunes a batch
    of older ones: no periodic visit of every company)."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    key = models.CharField(max_length=300)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, null=True, related_name="events")
    kind = models.CharField(max_length=16)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.UniqueConstraint(fields=["provider", "key"], name="call_event_once")]
        indexes = [models.Index(fields=["received_at"], name="call_event_age_idx")]

    def __str__(self) -> str:
        return f"{self.provider} {self.key}"
