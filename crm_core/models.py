"""The company's CRM data. Every table here lives in the company's own schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Client(models.Model):
    """A customer of the company: a legal entity, a sole trader or a person."""

    name = models.CharField(_("name"), max_length=300)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Users are global (public schema); the CRM keeps their id and never a copy of their data.
    # No database constraint and no cascade across schemas: deleting an account must not
    # reach into every company's tables (and Citus forbids such references).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
