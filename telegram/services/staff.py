"""Members' Telegram chats: linking once by a deep link, and their notices sent there."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from telegram.models import Bot, LinkCode, StaffLink

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(hours=1)


def deep_link(bot: Bot, user_id: int) -> str:
    """A fresh one-time link for this member; the codes they had before stop working."""
    with transaction.atomic():
        LinkCode.objects.filter(user_id=user_id, used_at__isnull=True).delete()
        # 32 URL-safe characters: within Telegram's 64-character limit for the start parameter.
        code = LinkCode.objects.create(user_id=user_id, code=secrets.token_urlsafe(24)).code
    return f"https://t.me/{bot.username}?start={code}"


def link_by_code(code: str, chat_id: int) -> int | None:
    """The member the code belongs to, now linked to ``chat_id``; None for an unknown, used or
    expired code (codes live in the company's own schema: another company's code is unknown)."""
    now = timezone.now()
    with transaction.atomic():
        found = (
            LinkCode.objects.select_for_update()
            .filter(code=code, used_at__isnull=True, created_at__gte=now - CODE_LIFETIME)
            .first()
        )
        if found is None:
            return None
        found.used_at = now
        found.save(update_fields=["used_at"])
        StaffLink.objects.update_or_create(
            user_id=found.user_id, defaults={"chat_id": chat_id, "linked_at": now}
        )
    return found.user_id


def unlink(user_id: int) -> bool:
    return StaffLink.objects.filter(user_id=user_id).delete()[0] > 0


def is_staff_chat(chat_id: int) -> bool:
    return StaffLink.objects.filter(chat_id=chat_id).exists()
