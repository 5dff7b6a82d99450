"""Tickets from the channels the company already has: a support mailbox's letters, Telegram
messages from clients, calls. Each is a receiver of a signal its app sends (those apps do not
know this one), running inside that app's transaction.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from communications.models import Mailbox
from communications.models import Message as MailMessage
from service.models import ServiceSettings, SupportMailbox, Ticket
from service.services.tickets import Requester, customer_wrote, open_ticket
from tenants.models import Company

log = logging.getLogger(__name__)
NUMBER_IN_SUBJECT = re.compile(r"\[#(\d{1,18})\]")


def _ticket_of_mail(message: MailMessage) -> Ticket | None:
    """The ticket this letter answers: the one on its thread (the newest, a closed ticket's
    follow-up included), else a "[#123]" in the subject from the same address."""
    ticket = Ticket.objects.filter(conversation_id=message.conversation_id).order_by("-id").first()
    if ticket is not None:
        return ticket
    found = NUMBER_IN_SUBJECT.search(message.subject or "")
    if found and message.from_address:
        return Ticket.objects.filter(
            number=int(found.group(1)), requester_email=message.from_address.lower()
        ).first()
    return None


def mail_stored(
    sender: Any, *, company: Company, mailbox: Mailbox, message: MailMessage, **kwargs: Any
) -> None:
    """A support mailbox's incoming letter: a new ticket, or the next message of its ticket
    (which opens a solved ticket again). Auto-replies and our own letters make nothing."""
    if message.direction != MailMessage.Direction.IN or message.is_automatic:
        return
    support = SupportMailbox.objects.filter(mailbox=mailbox).select_related("queue").first()
    if support is None or not message.from_address:
        return
    text = message.text.strip() or _("(no text)")
    with translation.override(company.language or "ru"):
        ticket = _ticket_of_mail(message)
        if ticket is not None:
            customer_wrote(
                company=company,
                ticket=ticket,
                text=text,
                author_name=message.from_name or message.from_address,
                mail=message,
            )
            return
        conversation = message.conversation
        open_ticket(
            company=company,
            subject=message.subject or _("(no subject)"),
            text=text,
            source=Ticket.Source.EMAIL,
            requester=Requester(message.from_address, message.from_name),
            client=conversation.client,
            contact=conversation.contact,
            queue=support.queue,
            conversation=conversation,
            mailbox=mailbox,
            mail=message,
        )


def telegram_message(sender: Any, *, company: Company, message: Any, **kwargs: Any) -> bool:
    """A client's Telegram message becomes (or goes on) a ticket when the company chose so;
    True tells Telegram the message is taken (no request is made of it)."""
    settings_row = ServiceSettings.current()
    if not settings_row.telegram_tickets or not message.text.strip():
        return False
    with translation.override(company.language or "ru"):
        ticket = (
            Ticket.objects.filter(telegram_chat_id=message.chat_id)
            .filter(Q(merged_into__isnull=True))
            .order_by("-id")
            .first()
        )
        if ticket is not None:
            customer_wrote(
                company=company, ticket=ticket, text=message.text, author_name=message.from_name
            )
            return True
        first_line = message.text.strip().splitlines()[0]
        open_ticket(
            company=company,
            subject=first_line[:120],
            text=message.text,
            source=Ticket.Source.TELEGRAM,
            requester=Requester(
                name=message.from_name or message.from_username, phone=message.phone
            ),
            client=message.client,
            contact=message.contact,
            telegram_chat_id=message.chat_id,
        )
    return True


def call_logged(sender: Any, *, company: Company, call: Any, **kwargs: Any) -> None:
    """An incoming call the company wants as a ticket (missed ones, or every one)."""
    choice = ServiceSettings.current().call_tickets
    if choice == ServiceSettings.Calls.OFF or call.direction != "incoming":
        return
    missed = call.status == "missed"
    if choice == ServiceSettings.Calls.MISSED and not missed:
        return
    with translation.override(company.language or "ru"):
        subject = (_("Missed call from %(n)s") if missed else _("Call from %(n)s")) % {
            "n": call.number or "—"
        }
        open_ticket(
            company=company,
            subject=subject,
            text=subject,
            source=Ticket.Source.CALL,
            requester=Requester(phone=call.number),
            client=call.client,
            contact=call.contact,
            priority="high" if missed else "normal",
        )
