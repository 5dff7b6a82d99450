"""API tokens: per company (they live in the company's schema), acting as the member who
made them. Only a hash of the token is kept; the token itself is shown once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    class Access(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    class Resource(models.TextChoices):
        CLIENTS = "clients", _("Clients")
        CONTACTS = "contacts", _("Contact persons")
        DEALS = "deals", _("Deals")
        TASKS = "tasks", _("Tasks")
        PRODUCTS = "products", _("Products")
        REQUESTS = "requests", _("Requests")
        WEBHOOKS = "webhooks", _("Webhook subscriptions")
        # Customer service's resource (service/api.py); only its name is known here.
        TICKETS = "tickets", _("Tickets")

    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, to tell tokens apart in the list (not a secret).
    prefix = models.CharField(max_length=16, unique=True)
    # sha256 of the whole token: the token has 256 random bits, so a fast hash is safe here
    # (there is nothing to brute-force), and the look-up stays one index probe per request.
    key_hash = models.CharField(max_length=64, unique=True)
    access = models.CharField(
        _("access"), max_length=5, choices=Access.choices, default=Access.READ
    )
    # Empty: every resource.
    resources = ArrayField(
        models.CharField(max_length=16, choices=Resource.choices),
        default=list,
        blank=True,
        verbose_name=_("resources"),
    )
    # The member the token acts as (a global user: an id, no constraint across schemas).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # The owner or admin who made the token. A token is only as good as that person's say-so:
    # when they leave the company or stop being an owner/admin, their tokens stop working
    # (null only for tokens made before this was kept; those answer to the acting member alone).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, resource: str, *, write: bool) -> bool:
        if self.revoked_at is not None:
            return False
        if write and self.access != self.Access.WRITE:
            return False
        return not self.resources or resource in self.resources


class IdempotentRequest(models.Model):
    """A create sent with an ``Idempotency-Key`` header, and the answer it got, kept 24 hours:
    the same key from the same token gets the same answer instead of a second record (a client
    retrying after a timeout, a double submission), as Stripe's API does."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: in progress
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotent_request_once")
        ]
        indexes = [models.Index(fields=["token", "created_at"], name="idempotent_request_age")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'in progress'})"
