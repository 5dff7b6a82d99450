"""Updates the webhook accepted: a member linking their chat, or a client writing to the bot.

A client's message is kept (TelegramMessage) and matched to a contact person by the phone they
shared with the bot. An unknown sender is asked for their phone once; when they share it and are
still unknown, their messages become a request through the capture pipeline (channel
"telegram"), with its manager and SLA like any web-form request.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_core.automation.models import RequestForm
from crm_core.automation.services.capture import (
    Inbound,
    RefusedError,
    find_client,
    receive,
    region_of,
    register_channel,
)
from crm_core.models import Contact
from crm_core.normalise import parse_phone
from telegram.models import TelegramMessage, Update
from telegram.services import chats, staff
from telegram.signals import client_message
from tenants.models import Company

log = logging.getLogger(__name__)

TELEGRAM = register_channel("telegram", "Telegram")


class MalformedUpdateError(Exception):
    pass


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedUpdateError("not an integer")
    return value


def handle(company: Company, update: Any) -> str:
    """What became of the update: linked, link_refused, message, duplicate or ignored."""
    if not isinstance(update, dict):
        raise MalformedUpdateError("not an object")
    update_id = _int(update.get("update_id"))
    message = update.get("message")
    if message is not None and not isinstance(message, dict):
        raise MalformedUpdateError("message is not an object")
    with translation.override(company.language or "ru"), transaction.atomic():
        try:
            with transaction.atomic():
                Update.objects.create(update_id=update_id)
        except IntegrityError:
            return "duplicate"
        if message is None:
            return "ignored"
        chat = message.get("chat") or {}
        sender = message.get("from") or {}
        if not isinstance(chat, dict) or not isinstance(sender, dict):
            raise MalformedUpdateError("chat or from is not an object")
        chat_id = _int(chat.get("id"))
        if chat.get("type", "private") != "private":
            return "ignored"
        raw_text = message.get("text")
        text = raw_text if isinstance(raw_text, str) else ""
        if text == "/start" or text.startswith("/start "):
            return _start(chat_id, text.removeprefix("/start").strip())
        if staff.is_staff_chat(chat_id):
            return "ignored"
        return _client_message(company, update_id, chat_id, sender, message, text)


def _start(chat_id: int, code: str) -> str:
    from telegram.tasks import reply

    if code and staff.link_by_code(code, chat_id) is not None:
        answer = _("Done: your Relata notices will come here.")
        transaction.on_commit(lambda: reply.delay(chat_id, answer))
        return "linked"
    if code:
        answer = _("This link has expired. Open a new one from your notifications page.")
        transaction.on_commit(lambda: reply.delay(chat_id, answer))
        return "link_refused"
    # A plain /start from a client opening the bot: an ordinary first message.
    return "ignored"


def _client_message(  # noqa: PLR0917  (one private step of handle)
    company: Company,
    update_id: int,
    chat_id: int,
    sender: dict[str, Any],
    message: dict[str, Any],
    text: str,
) -> str:
    from telegram.tasks import reply

    from_id = _int(sender.get("id"))
    name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name") if sender.get(k))[
        :200
    ]
    shared = message.get("contact") if isinstance(message.get("contact"), dict) else None
    phone = None
    # Only the sender's own number identifies them (a forwarded card is someone else's).
    if shared and shared.get("user_id") == from_id and shared.get("phone_number"):
        try:
            phone = parse_phone(str(shared["phone_number"]), region=region_of(company))
        except ValidationError:
            phone = None
    earlier = TelegramMessage.objects.filter(from_id=from_id).order_by("-id")
    known = earlier.exclude(contact=None, client=None, lead=None).first()
    contact = client = lead = None
    if phone is not None:
        contact = Contact.objects.filter(phones__e164=phone.e164).order_by("id").first()
        client = contact.client if contact else find_client(phone=phone, email="")
    elif known is not None:
        contact, client, lead = known.contact, known.client, known.lead
    first = not earlier.exists()
    stored = TelegramMessage.objects.create(
        update_id=update_id,
        chat_id=chat_id,
        from_id=from_id,
        from_name=name,
        from_username=str(sender.get("username") or "")[:64],
        text=text[:10000],
        phone=phone.e164 if phone else "",
        sent_at=_date(message.get("date")),
        contact=contact,
        client=client,
        lead=lead,
    )
    if contact is not None or client is not None:
        earlier.filter(contact=None, client=None).update(contact=contact, client=client)
    # Customer service may take the message over as a ticket (the company's choice); the
    # ticket is then where it is answered, not the inbox.
    if any(
        taken for _r, taken in client_message.send(TelegramMessage, company=company, message=stored)
    ):
        return "message"
    chats.record_incoming(stored)
    if contact is not None or client is not None:
        return "message"
    if phone is not None and known is None:
        _request(company, stored, name, phone.e164)
        return "message"
    if first and known is None:
        ask = _("Hello! Please share your phone number so that we can answer you.")
        transaction.on_commit(lambda: reply.delay(chat_id, ask, ask_phone=True))
    return "message"


def _date(value: Any) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return timezone.now()


def _request(company: Company, stored: TelegramMessage, name: str, e164: str) -> None:
    """The unknown sender's messages so far, as one request through the capture pipeline."""
    form = RequestForm.objects.filter(name="Telegram").order_by("id").first()
    if form is None:
        form = RequestForm.objects.create(name="Telegram")
    texts = TelegramMessage.objects.filter(from_id=stored.from_id).exclude(text="")
    body = "\n".join(texts.values_list("text", flat=True))
    inbound = Inbound(
        values={"name": name or e164, "phone": e164, "message": body},
        ip=f"telegram:{stored.from_id}",
    )
    try:
        with transaction.atomic():
            captured = receive(company=company, form=form, channel=TELEGRAM, inbound=inbound)
    except RefusedError as exc:
        # The messages stay; the refusal (closed form, limits) is the admin's to see.
        log.warning("telegram request refused: %s", exc.code)
        return
    client = captured.deal.client if captured.deal is not None else None
    TelegramMessage.objects.filter(from_id=stored.from_id).update(lead=captured.lead, client=client)
    chats.match_chat(stored.chat_id)
