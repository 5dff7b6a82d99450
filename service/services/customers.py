"""What the company's customers do without an account: submit a request in the help centre,
follow their tickets through a magic link, answer there, and rate a solved ticket.

Letters to customers (the magic link, the survey) go out through the company's own mailbox
(communications' SMTP sending), so they come from the company's address and sit in its Sent
folder like any letter.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications.models import Mailbox
from communications.services import sending
from crm_core.automation.services.capture import _within
from service.models import Survey, Ticket
from service.services import links
from service.services.tickets import (
    Requester,
    _email,
    customer_wrote,
    mail_subject,
    open_ticket,
    reply_mailbox,
)
from tenants.models import Company, Membership, User

log = logging.getLogger(__name__)
PER_ADDRESS_PER_HOUR = 10
PER_COMPANY_PER_HOUR = 500


class RefusedError(Exception):
    """Too many requests from one place (the web forms' limits): say so, keep nothing."""


def _sender(company: Company, mailbox: Mailbox, ticket: Ticket | None = None) -> User | None:
    """Whose name the letter carries: the ticket's assignee, the mailbox's owner, or the
    company's owner."""
    for user_id in (ticket.assignee_id if ticket else None, mailbox.owner_id):
        if user_id:
            user = User.objects.filter(pk=user_id).first()
            if user is not None:
                return user
    owner = (
        Membership.objects.filter(company=company, role=Membership.Role.OWNER, is_active=True)
        .select_related("user")
        .first()
    )
    return owner.user if owner else None


def _send(company: Company, ticket: Ticket, subject: str, text: str) -> bool:
    mailbox = reply_mailbox(ticket)
    if mailbox is None or not ticket.requester_email:
        log.warning("service: no mailbox or address for a customer letter", extra={"t": ticket.pk})
        return False
    user = _sender(company, mailbox, ticket)
    if user is None:
        return False
    try:
        sending.send(
            sender=user,
            mailbox=mailbox,
            outgoing=sending.Outgoing(to=[ticket.requester_email], subject=subject, text=text),
            conversation=ticket.conversation,
        )
    except (sending.SendError, ValidationError) as exc:
        log.warning("service: customer letter not sent: %s", exc, extra={"t": ticket.pk})
        return False
    return True


def submit_request(
    *, company: Company, name: str, email: str, subject: str, text: str, ip: str, honeypot: str
) -> Ticket | None:
    """A request from the help centre: the web forms' spam trap and hourly limits, then a
    ticket, and a letter with the magic link to follow it. None: a bot filled the trap (it is
    thanked and nothing is kept). Raises ValidationError (fields) or RefusedError (limits)."""
    if honeypot:
        return None
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Fill in your name.")]
    elif len(name) > 300:
        errors["name"] = [_("At most %(n)s characters.") % {"n": 300}]
    try:
        address = _email(email)
    except ValidationError:
        address = ""
        errors["email"] = [_("%(value)s is not an e-mail address.") % {"value": email[:320]}]
    if not address and "email" not in errors:
        errors["email"] = [_("Leave your e-mail so that we can answer.")]
    if errors:
        raise ValidationError(errors)
    if not _within(f"help:ip:{ip}", PER_ADDRESS_PER_HOUR) or not _within(
        "help:all", PER_COMPANY_PER_HOUR
    ):
        raise RefusedError(_("Too many requests from here. Please try again in an hour."))
    with transaction.atomic():
        ticket = open_ticket(
            company=company,
            subject=subject,
            text=text,
            source=Ticket.Source.HELP_CENTRE,
            requester=Requester(address, name.strip()),
        )
    transaction.on_commit(lambda: send_magic_link(company, ticket))
    return ticket


def send_magic_link(company: Company, ticket: Ticket) -> bool:
    with translation.override(company.language or "ru"):
        url = links.absolute(
            company, reverse("help_my", args=[links.magic_token(ticket.requester_email)])
        )
        text = _(
            "We have your request #%(n)s: %(subject)s\n\n"
            "Follow it and answer us here (no password needed):\n%(url)s\n\n%(company)s"
        ) % {"n": ticket.number, "subject": ticket.subject, "url": url, "company": company.name}
        return _send(company, ticket, mail_subject(ticket), text)


def resend_link(*, company: Company, email: str, ip: str, honeypot: str) -> None:
    """ "Send me my link": a letter with the magic link to the address, when it has tickets
    here. The page answers the same either way (nobody learns whose address is known); the
    web forms' hourly limits keep it from being a way to flood someone's mailbox."""
    if honeypot:
        return
    address = _email(email)
    if not address:
        raise ValidationError({"email": [_("Leave your e-mail so that we can answer.")]})
    if not _within(f"help:link:{ip}", PER_ADDRESS_PER_HOUR) or not _within(
        f"help:link:{address}", 3
    ):
        raise RefusedError(_("Too many requests from here. Please try again in an hour."))
    latest = tickets_of(address)[:1]
    if latest:
        send_magic_link(company, latest[0])


def tickets_of(email: str) -> list[Ticket]:
    return list(
        Ticket.objects.filter(requester_email=email.lower(), merged_into__isnull=True).order_by(
            "-created_at", "-id"
        )[:100]
    )


def customer_reply(*, company: Company, email: str, ticket: Ticket, text: str) -> Ticket:
    """The customer answers from the magic-link page (their own ticket only)."""
    if ticket.requester_email != email.lower():
        raise ValidationError(_("This is not your ticket."))
    return customer_wrote(company=company, ticket=ticket, text=text, author_name=email)


def send_survey(company: Company, ticket: Ticket) -> Survey | None:
    """Ask once how it went: a letter (or a Telegram message) with a link to rate it. A ticket
    reopened and solved again is not asked twice."""
    if ticket.status != Ticket.Status.SOLVED or Survey.objects.filter(ticket=ticket).exists():
        return None
    with translation.override(company.language or "ru"):
        url = links.absolute(company, reverse("help_survey", args=[links.survey_token(ticket.pk)]))
        text = _(
            "Your request #%(n)s is solved: %(subject)s\n\n"
            "How did we do? One click to rate us:\n%(url)s\n\n%(company)s"
        ) % {"n": ticket.number, "subject": ticket.subject, "url": url, "company": company.name}
        if ticket.telegram_chat_id is not None:
            from telegram.tasks import reply as telegram_reply

            chat = ticket.telegram_chat_id
            transaction.on_commit(lambda: telegram_reply.delay(chat, text))
        elif not _send(company, ticket, mail_subject(ticket), text):
            return None
    return Survey.objects.create(ticket=ticket)


def answer_survey(*, ticket: Ticket, rating: int, comment: str) -> Survey:
    """The customer's answer; a second answer replaces the first (they changed their mind)."""
    if rating not in range(1, 6):
        raise ValidationError({"rating": [_("Choose from 1 to 5.")]})
    if len(comment) > 5000:
        raise ValidationError({"comment": [_("At most %(n)s characters.") % {"n": 5000}]})
    survey, _made = Survey.objects.get_or_create(ticket=ticket)
    survey.rating, survey.comment, survey.answered_at = rating, comment.strip(), timezone.now()
    survey.save(update_fields=["rating", "comment", "answered_at"])
    return survey
