"""Connecting and disconnecting the company's bot (owners and admins)."""

from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_admin
from telegram import botapi
from telegram.models import Bot, new_secret_token
from telegram.vault import seal, unseal
from tenants.models import Membership

log = logging.getLogger(__name__)

# What BotFather hands out: "<bot id>:<35 characters>".
TOKEN_SHAPE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,60}$")


def current_bot() -> Bot | None:
    return Bot.objects.order_by("id").first()


def token_of(bot: Bot) -> str:
    return unseal(bot.token_encrypted)


def secret_of(bot: Bot) -> str:
    return unseal(bot.secret_encrypted)


def connect(*, membership: Membership, token: str, webhook_url: str) -> Bot:
    """Check the token with getMe, point the bot's webhook at the company's host with a fresh
    secret, and keep both encrypted. Raises ValidationError with a message for the admin."""
    require_admin(membership)
    token = token.strip()
    if not TOKEN_SHAPE.match(token):
        raise ValidationError(
            _("This is not a bot token. Copy the whole token BotFather gave you."), code="token"
        )
    try:
        me = botapi.get_me(token)
    except botapi.BotApiError as exc:
        log.warning("telegram getMe refused: %s %s", exc.code, exc.description)
        raise ValidationError(
            _("Telegram did not accept this token (%(reason)s).")
            % {"reason": exc.description or exc.code},
            code="token",
        ) from None
    if not me.get("is_bot") or not me.get("username"):
        raise ValidationError(_("This token does not belong to a bot."), code="token")
    secret = new_secret_token()
    try:
        botapi.set_webhook(token, webhook_url, secret)
    except botapi.BotApiError as exc:
        log.warning("telegram setWebhook refused: %s %s", exc.code, exc.description)
        raise ValidationError(
            _("Telegram did not accept the webhook address (%(reason)s).")
            % {"reason": exc.description or exc.code},
            code="token",
        ) from None
    with transaction.atomic():
        Bot.objects.all().delete()
        bot = Bot.objects.create(
            token_encrypted=seal(token),
            secret_encrypted=seal(secret),
            token_hint=token[-4:],
            bot_id=int(me.get("id") or token.split(":", 1)[0]),
            username=str(me["username"])[:64],
            connected_by_id=membership.user_id,
        )
    log.info("telegram bot @%s connected", bot.username)
    return bot


def disconnect(*, membership: Membership) -> None:
    """Stop the webhook and forget the token. If Telegram cannot be reached, the bot is
    forgotten anyway: without its secret every update it sends is refused."""
    require_admin(membership)
    bot = current_bot()
    if bot is None:
        return
    try:
        botapi.delete_webhook(token_of(bot))
    except botapi.BotApiError as exc:
        log.warning("telegram deleteWebhook refused: %s %s", exc.code, exc.description)
    bot.delete()
    log.info("telegram bot @%s disconnected", bot.username)
