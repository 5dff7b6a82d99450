"""Reactions to the CRM's own events."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from relata.db import connection


def forward_notification(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A new in-app notice for a member with a linked chat is sent to Telegram too, once the
    transaction that made it has committed (a rolled-back notice is never sent)."""
    from telegram.models import Bot, StaffLink

    if not created or kwargs.get("raw") or connection.schema_name == "public":
        return
    if not StaffLink.objects.filter(user_id=instance.user_id).exists():
        return
    if not Bot.objects.exists():
        return
    from telegram.tasks import send_notice

    notice_id = instance.pk
    transaction.on_commit(lambda: send_notice.delay(notice_id))
