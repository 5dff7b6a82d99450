"""Writes on tickets: open one, the customer's messages, replies and notes, status, priority,
queue and assignee, merge and split. Each takes the company and (for a member's action) the
acting membership explicitly, runs in one transaction, and writes the audit log.

A reply is kept before it is sent: a mail server's refusal leaves it on the ticket marked "not
sent" with the reason (communications' sending does the same for its copy), nothing typed is
lost.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communications.html_letter import text_to_html
from communications.models import Conversation, Mailbox
from communications.models import Message as MailMessage
from communications.services import sending
from communications.services.matching import match_addresses
from crm_core.access import require_write
from crm_core.automation.services.notify import is_active_member, notify
from crm_core.models import Client, Contact, Employee
from crm_core.services import limits
from crm_core.services.audit import record
from service.models import Priority, Queue, ServiceSettings, SupportMailbox, Ticket, TicketMessage
from service.services import sla
from tenants.models import Company, Membership

log = logging.getLogger(__name__)
MAX_TEXT = 100_000
OPEN = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)


@dataclass
class Requester:
    email: str = ""
    name: str = ""
    phone: str = ""


def _subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationError({"subject": [_("Say what the ticket is about.")]})
    return subject[:500]


def _text(text: str, field: str = "text") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: [_("The message is empty.")]})
    if len(text) > MAX_TEXT:
        raise ValidationError({field: [_("At most %(n)s characters.") % {"n": MAX_TEXT}]})
    return text


def _email(email: str) -> str:
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                {"requester_email": [_("%(value)s is not an e-mail address.") % {"value": email}]}
            ) from None
    return email


def next_assignee(company: Company, queue: Queue) -> int | None:
    """Round-robin: the queue's next active member after the last one given a ticket (the
    queue row is locked, so two tickets at once go to two people)."""
    locked = Queue.objects.select_for_update().select_related("team").get(pk=queue.pk)
    members = sorted(
        set(Employee.objects.filter(team=locked.team).values_list("user_id", flat=True))
    )
    members = [m for m in members if is_active_member(company, m)]
    if not members:
        return None
    after = locked.last_assignee_id or 0
    chosen = next((m for m in members if m > after), members[0])
    Queue.objects.filter(pk=locked.pk).update(last_assignee_id=chosen)
    return chosen


@transaction.atomic
def open_ticket(
    *,
    company: Company,
    subject: str,
    text: str,
    source: str,
    actor: Membership | None = None,
    requester: Requester | None = None,
    client: Client | None = None,
    contact: Contact | None = None,
    priority: str = Priority.NORMAL,
    queue: Queue | None = None,
    assignee_id: int | None = None,
    conversation: Conversation | None = None,
    mailbox: Mailbox | None = None,
    mail: MailMessage | None = None,
    telegram_chat_id: int | None = None,
) -> Ticket:
    """A new ticket with its first message, its SLA deadlines and its assignee (the queue's
    round-robin when nobody is named). Raises ValidationError before writing anything."""
    if actor is not None:
        require_write(actor)
    requester = requester or Requester()
    email = _email(requester.email)
    subject, body = _subject(subject), _text(text)
    if source not in Ticket.Source.values:
        raise ValidationError({"source": [_("Unknown source.")]})
    if priority not in Priority.values:
        raise ValidationError({"priority": [_("Unknown priority.")]})
    if contact is None and client is None and email:
        match = match_addresses([email])
        contact, client = match.contact, match.client
    if contact is not None and client is None:
        client = contact.client
    settings_row = ServiceSettings.current()
    queue = queue or settings_row.default_queue
    if assignee_id is not None and not is_active_member(company, assignee_id):
        raise ValidationError({"assignee": [_("Choose a member of the company.")]})
    if (
        assignee_id is None
        and queue is not None
        and queue.assignment == Queue.Assignment.ROUND_ROBIN
    ):
        assignee_id = next_assignee(company, queue)
    now = timezone.now()
    ticket = Ticket.objects.create(
        subject=subject,
        client=client,
        contact=contact,
        requester_email=email,
        requester_name=requester.name.strip()[:300],
        requester_phone=requester.phone.strip()[:64],
        priority=priority,
        queue=queue,
        assignee_id=assignee_id,
        source=source,
        conversation=conversation,
        mailbox=mailbox or (conversation.mailbox if conversation else None),
        telegram_chat_id=telegram_chat_id,
        created_by=actor.user if actor else None,
        created_at=now,
        updated_at=now,
        last_customer_at=now,
    )
    ticket.number = _next_number()
    Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.CUSTOMER,
        author=actor.user if actor else None,
        author_name=ticket.requester_name or email or ticket.requester_phone,
        text=body,
        mail=mail,
        created_at=now,
    )
    sla.start(company, ticket)
    if actor is not None:
        record(actor, ticket, "create", {"subject": (None, subject)})
    if assignee_id and (actor is None or actor.user_id != assignee_id):
        with translation.override(company.language or "ru"):
            notify(company, assignee_id, _("New ticket: %(t)s") % {"t": str(ticket)}, url(ticket))
    return ticket


def _next_number() -> int:
    """The next ticket number of this company: one more than the highest (an index probe),
    serialised per company until the transaction ends so two tickets never share one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"ticket-number:{getattr(connection, 'schema_name', '')}"],
        )
    highest = Ticket.objects.aggregate(m=Max("number"))["m"]
    return int(highest or 0) + 1


def url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.pk}/"


def _live(ticket: Ticket) -> Ticket:
    """A merged ticket's conversation goes on in the one it was merged into."""
    seen = set()
    while ticket.merged_into_id is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


@transaction.atomic
def customer_wrote(
    *,
    company: Company,
    ticket: Ticket,
    text: str,
    author_name: str = "",
    mail: MailMessage | None = None,
) -> Ticket:
    """The customer's next message: a solved ticket opens again, a waiting one's SLA clock
    runs again. A closed ticket stays closed: the message opens a follow-up ticket instead."""
    ticket = Ticket.objects.select_for_update().get(pk=_live(ticket).pk)
    body = _text(text)
    now = timezone.now()
    if ticket.status == Ticket.Status.CLOSED:
        return open_ticket(
            company=company,
            subject=ticket.subject,
            text=body,
            source=ticket.source,
            requester=Requester(ticket.requester_email, author_name or ticket.requester_name),
            client=ticket.client,
            contact=ticket.contact,
            priority=ticket.priority,
            queue=ticket.queue,
            assignee_id=ticket.assignee_id if _active(company, ticket.assignee_id) else None,
            conversation=ticket.conversation,
            mailbox=ticket.mailbox,
            mail=mail,
            telegram_chat_id=ticket.telegram_chat_id,
        )
    TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.CUSTOMER,
        author_name=author_name or ticket.requester_name or ticket.requester_email,
        text=body,
        mail=mail,
        created_at=now,
    )
    was = ticket.status
    if was == Ticket.Status.WAITING:
        ticket.status = Ticket.Status.OPEN
        sla.resume(company, ticket, now)
    elif was == Ticket.Status.SOLVED:
        ticket.status = Ticket.Status.OPEN
        ticket.solved_at = None
        # The clock runs again from the customer's message for what was left of it.
        ticket.resolution_breached = ticket.resolution_warned = False
        sla.resume(company, ticket, now)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=ticket.status,
        solved_at=ticket.solved_at,
        resolution_breached=ticket.resolution_breached,
        resolution_warned=ticket.resolution_warned,
        last_customer_at=now,
        updated_at=now,
    )
    if was == Ticket.Status.SOLVED and ticket.assignee_id:
        with translation.override(company.language or "ru"):
            notify(
                company,
                ticket.assignee_id,
                _("Reopened by the customer: %(t)s") % {"t": str(ticket)},
                url(ticket),
            )
    return ticket


def _active(company: Company, user_id: int | None) -> bool:
    return bool(user_id) and is_active_member(company, int(user_id or 0))


def reply_mailbox(ticket: Ticket) -> Mailbox | None:
    """Where a reply by e-mail goes out from: the ticket's own mailbox, the company's mailbox
    for replies, or its first support mailbox."""
    if ticket.mailbox_id is not None:
        return ticket.mailbox
    chosen = ServiceSettings.current().reply_mailbox
    if chosen is not None:
        return chosen
    support = SupportMailbox.objects.select_related("mailbox").order_by("id").first()
    return support.mailbox if support else None


def mail_subject(ticket: Ticket) -> str:
    """The ticket's number in the subject: a customer's answer that lost its thread headers
    still finds its ticket."""
    return f"[#{ticket.number}] {ticket.subject}"[:500]


class ReplyError(Exception):
    """The reply is kept on the ticket but did not reach the customer; ``str()`` says why."""


def _uploads(company: Company, files: Sequence[UploadedFile]) -> list[sending.Upload]:
    """The reply's files, checked before anything is written: none empty, together within the
    company's limit per letter (settings.MAX_ATTACHMENT_MB) and its storage plan."""
    if not files:
        return []
    limit_mb = settings.MAX_ATTACHMENT_MB
    total = sum(f.size or 0 for f in files)
    if total > limit_mb * 1024 * 1024:
        raise ValidationError(
            {
                "attachments": [
                    _("The files come to %(got)s MB; a reply takes at most %(mb)s MB.")
                    % {"got": f"{total / 1024 / 1024:.1f}", "mb": limit_mb}
                ]
            }
        )
    uploads = []
    for file in files:
        # Only the base name: a path in the name must never reach the letter or the storage.
        name = PurePath(file.name or "file").name[:200] or "file"
        if not file.size:
            raise ValidationError(
                {"attachments": [_("The file %(name)s is empty.") % {"name": name}]}
            )
        kind = file.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        if "/" not in kind:
            kind = "application/octet-stream"
        uploads.append(sending.Upload(name=name, content_type=kind, data=file.read()))
    limits.check_storage(company, total)
    return uploads


def reply(
    *,
    company: Company,
    actor: Membership,
    ticket: Ticket,
    text: str,
    then: str = Ticket.Status.WAITING,
    files: Sequence[UploadedFile] = (),
) -> TicketMessage:
    """A public reply to the customer, by e-mail (through the ticket's mailbox, in its thread,
    its text and an HTML version, with the files) or in Telegram, then the status the manager
    chose. Raises ValidationError for bad input (nothing written) and ReplyError when the
    channel refused it (the reply is kept)."""
    require_write(actor)
    body = _text(text)
    if then not in (Ticket.Status.OPEN, Ticket.Status.WAITING, Ticket.Status.SOLVED):
        raise ValidationError({"then": [_("Choose what happens to the ticket.")]})
    mailbox = reply_mailbox(ticket)
    if ticket.telegram_chat_id is None and not (mailbox and ticket.requester_email):
        raise ValidationError(
            _("The customer has no e-mail address, or the company has no mailbox to reply from.")
        )
    if files and ticket.telegram_chat_id is not None:
        raise ValidationError({"attachments": [_("Files go to the customer by e-mail only.")]})
    uploads = _uploads(company, files)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        message = TicketMessage.objects.create(
            ticket=locked,
            kind=TicketMessage.Kind.REPLY,
            author=actor.user,
            author_name=actor.user.get_full_name(),
            text=body,
            problem=_("Sending…"),
        )
        now = timezone.now()
        if locked.first_responded_at is None:
            locked.first_responded_at = now
            Ticket.objects.filter(pk=locked.pk).update(first_responded_at=now)
        if locked.assignee_id is None:
            locked.assignee_id = actor.user_id
            Ticket.objects.filter(pk=locked.pk).update(assignee_id=actor.user_id)
        _set_status(company, actor, locked, then, now)
    problem = ""
    try:
        if locked.telegram_chat_id is not None:
            _telegram(locked.telegram_chat_id, body)
        else:
            assert mailbox is not None
            sent = sending.send(
                sender=actor.user,
                mailbox=mailbox,
                outgoing=sending.Outgoing(
                    to=[locked.requester_email],
                    subject=mail_subject(locked),
                    text=body,
                    html=text_to_html(body),
                    uploads=uploads,
                ),
                conversation=locked.conversation,
            )
            TicketMessage.objects.filter(pk=message.pk).update(mail=sent)
            if locked.conversation_id != sent.conversation_id:
                Ticket.objects.filter(pk=locked.pk).update(
                    conversation=sent.conversation_id, mailbox=mailbox
                )
    except sending.SendError as exc:
        problem = str(exc) or _("not sent")
    TicketMessage.objects.filter(pk=message.pk).update(problem=problem[:500])
    message.refresh_from_db()
    if problem:
        raise ReplyError(problem)
    return message


def _telegram(chat_id: int, text: str) -> None:
    from telegram.tasks import reply as telegram_reply

    transaction.on_commit(lambda: telegram_reply.delay(chat_id, text))


@transaction.atomic
def add_note(*, actor: Membership, ticket: Ticket, text: str) -> TicketMessage:
    """An internal note: seen by the company only, never sent to the customer."""
    require_write(actor)
    note = TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.NOTE,
        author=actor.user,
        author_name=actor.user.get_full_name(),
        text=_text(text),
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return note


def _set_status(
    company: Company, actor: Membership | None, ticket: Ticket, status: str, now: object
) -> None:
    """Status with its consequences: the clock pauses while waiting, a solved ticket is
    surveyed (after commit), a reopened one runs its clock again."""
    assert isinstance(now, type(timezone.now()))
    was = ticket.status
    if status == was:
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
        sla.replan(company, ticket)
        return
    ticket.status = status
    if status == Ticket.Status.SOLVED:
        ticket.solved_at = now
    elif status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    else:
        ticket.solved_at = None
        ticket.closed_at = None
    if status == Ticket.Status.WAITING:
        sla.pause(company, ticket, now)
    elif was == Ticket.Status.WAITING:
        sla.resume(company, ticket, now)
    else:
        sla.replan(company, ticket)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, solved_at=ticket.solved_at, closed_at=ticket.closed_at, updated_at=now
    )
    if actor is not None:
        record(actor, ticket, "update", {"status": (was, status)})
    if status == Ticket.Status.SOLVED and ServiceSettings.current().surveys:
        from service.tasks import send_survey

        ticket_id = ticket.pk
        transaction.on_commit(lambda: send_survey.delay(ticket_id))


@transaction.atomic
def change(
    *,
    company: Company,
    actor: Membership,
    ticket: Ticket,
    status: str | None = None,
    priority: str | None = None,
    queue: Queue | bool | None = False,
    assignee_id: int | bool | None = False,
    client: Client | bool | None = False,
) -> Ticket:
    """Change what the manager changed; ``False`` for "leave as it is" (None clears). A new
    priority or client may bring another SLA policy: the deadlines are counted again."""
    require_write(actor)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    now = timezone.now()
    changes: dict[str, tuple[object, object]] = {}
    recount = False
    if priority is not None and priority != ticket.priority:
        if priority not in Priority.values:
            raise ValidationError({"priority": [_("Unknown priority.")]})
        changes["priority"] = (ticket.priority, priority)
        ticket.priority, recount = priority, True
    if queue is not False and queue != ticket.queue:
        assert queue is None or isinstance(queue, Queue)
        changes["queue"] = (str(ticket.queue or ""), str(queue or ""))
        ticket.queue = queue
    if assignee_id is not False and assignee_id != ticket.assignee_id:
        if assignee_id is not None and not is_active_member(company, int(assignee_id)):
            raise ValidationError({"assignee": [_("Choose a member of the company.")]})
        changes["assignee"] = (ticket.assignee_id, assignee_id)
        ticket.assignee_id = int(assignee_id) if assignee_id else None
    if client is not False and client != ticket.client:
        assert client is None or isinstance(client, Client)
        changes["client"] = (str(ticket.client or ""), str(client or ""))
        ticket.client, recount = client, True
    Ticket.objects.filter(pk=ticket.pk).update(
        priority=ticket.priority,
        queue=ticket.queue,
        assignee_id=ticket.assignee_id,
        client=ticket.client,
        updated_at=now,
    )
    if changes:
        record(actor, ticket, "update", changes)
    if "assignee" in changes and ticket.assignee_id and ticket.assignee_id != actor.user_id:
        with translation.override(company.language or "ru"):
            notify(
                company,
                ticket.assignee_id,
                _("Ticket for you: %(t)s") % {"t": str(ticket)},
                url(ticket),
            )
    if recount:
        sla.start(company, ticket)
    if status is not None:
        if status not in Ticket.Status.values:
            raise ValidationError({"status": [_("Unknown status.")]})
        _set_status(company, actor, ticket, status, now)
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def merge(*, company: Company, actor: Membership, ticket: Ticket, into: Ticket) -> Ticket:
    """The ticket's conversation moves into ``into``; the ticket is closed, pointing there.
    A customer's later answer in the old thread lands in ``into`` as well."""
    require_write(actor)
    if ticket.pk == into.pk:
        raise ValidationError(_("A ticket cannot be merged into itself."))
    if into.merged_into_id is not None or into.status == Ticket.Status.CLOSED:
        raise ValidationError(_("Choose an open ticket to merge into."))
    now = timezone.now()
    TicketMessage.objects.filter(ticket=ticket).update(ticket=into)
    TicketMessage.objects.create(
        ticket=into,
        kind=TicketMessage.Kind.NOTE,
        author=actor.user,
        author_name=actor.user.get_full_name(),
        text=_("Ticket #%(n)s was merged into this one.") % {"n": ticket.number},
        created_at=now,
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        merged_into=into,
        status=Ticket.Status.CLOSED,
        closed_at=now,
        updated_at=now,
        sla_check_at=None,
    )
    Ticket.objects.filter(pk=into.pk).update(updated_at=now)
    record(actor, ticket, "merge", {"merged_into": (None, into.number)})
    return into


@transaction.atomic
def split(*, company: Company, actor: Membership, message: TicketMessage, subject: str) -> Ticket:
    """A customer's message that raises another matter becomes a ticket of its own (with
    the same customer, queue and channel); the original keeps a note where it went."""
    require_write(actor)
    if message.kind != TicketMessage.Kind.CUSTOMER:
        raise ValidationError(_("Only a customer's message can start a new ticket."))
    old = message.ticket
    new = open_ticket(
        company=company,
        subject=subject or old.subject,
        text=message.text,
        source=old.source,
        actor=actor,
        requester=Requester(old.requester_email, old.requester_name, old.requester_phone),
        client=old.client,
        contact=old.contact,
        priority=old.priority,
        queue=old.queue,
        conversation=old.conversation,
        mailbox=old.mailbox,
        mail=message.mail,
        telegram_chat_id=old.telegram_chat_id,
    )
    message.delete()
    TicketMessage.objects.create(
        ticket=old,
        kind=TicketMessage.Kind.NOTE,
        author=actor.user,
        author_name=actor.user.get_full_name(),
        text=_("A message was moved to ticket #%(n)s.") % {"n": new.number},
    )
    return new


def check_may_act(actor: Membership) -> None:
    if actor.role == Membership.Role.READ_ONLY:
        raise PermissionDenied("read-only members change nothing")
