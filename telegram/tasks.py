"""Celery tasks that talk to Telegram, run in the company's schema (tenant-schemas-celery)
after the transaction that asked for them has committed."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from relata.celery import app
from relata.db import connection
from telegram import botapi

log = logging.getLogger(__name__)

# Telegram could not be reached, is overloaded or rate-limits us: worth trying again.
RETRIED = {0, 429, 500, 502, 503, 504}


def _absolute(path: str) -> str:
    company = getattr(connection, "tenant", None)
    domain = company.get_primary_domain() if company is not None else None
    if not path or domain is None:
        return ""
    return f"{settings.SITE_SCHEME}://{domain.domain}{path}"


@app.task(name="telegram.tasks.send_notice", bind=True, ignore_result=True, max_retries=3)
def send_notice(self: Any, notification_id: int) -> bool:
    """One in-app notice, also sent to its member's linked chat. A member who blocked the bot
    (403) is unlinked without fuss; they can link again from their page."""
    from crm_core.models import Notification
    from telegram.models import StaffLink
    from telegram.services.connection import current_bot, token_of

    notice = Notification.objects.filter(pk=notification_id).first()
    bot = current_bot()
    link = StaffLink.objects.filter(user_id=notice.user.pk).first() if notice else None
    if notice is None or bot is None or link is None:
        return False
    url = _absolute(notice.url)
    text = f"{notice.text}\n{url}" if url else notice.text
    try:
        botapi.send_message(token_of(bot), link.chat_id, text)
    except botapi.BotApiError as exc:
        if exc.code == 403:
            StaffLink.objects.filter(pk=link.pk, chat_id=link.chat_id).delete()
            log.info("telegram: member %s blocked the bot, unlinked", notice.user_id)
            return False
        if exc.code in RETRIED:
            raise self.retry(countdown=30 * (self.request.retries + 1)) from None
        log.warning("telegram sendMessage refused: %s %s", exc.code, exc.description)
        return False
    return True


@app.task(name="telegram.tasks.reply", bind=True, ignore_result=True, max_retries=3)
def reply(self: Any, chat_id: int, text: str, ask_phone: bool = False) -> bool:
    """The bot's own answer in a chat (linked, a request for the phone number)."""
    from telegram.services.connection import current_bot, token_of

    bot = current_bot()
    if bot is None:
        return False
    markup = None
    if ask_phone:
        markup = {
            "keyboard": [[{"text": str(text_share_phone()), "request_contact": True}]],
            "one_time_keyboard": True,
            "resize_keyboard": True,
        }
    try:
        botapi.send_message(token_of(bot), chat_id, text, reply_markup=markup)
    except botapi.BotApiError as exc:
        if exc.code in RETRIED:
            raise self.retry(countdown=30 * (self.request.retries + 1)) from None
        log.warning("telegram sendMessage refused: %s %s", exc.code, exc.description)
        return False
    return True


def text_share_phone() -> str:
    from django.utils.translation import gettext

    return gettext("Share my phone number")
