"""Customer service: tickets (обращения), their conversation, queues, SLA policies and the
satisfaction survey. Every table lives in the company's own schema.

A ``Ticket`` is one matter a customer raised, from whatever channel (a support mailbox, the
help centre's request form, Telegram, a call, the API or typed in by hand). What was said is
its ``TicketMessage`` rows: the customer's messages, public replies (sent to the customer by
e-mail or Telegram) and internal notes (seen only by the company). Queues are the company's
teams (``crm_core.Team``); a ``Queue`` row says how a team's tickets are assigned.

Users are global (public schema): a row naming a user keeps only the id, as in crm_core.
"""

from __future__ import annotations

from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communications.models import Conversation, Mailbox
from communications.models import Message as MailMessage
from crm_core.models import Client, Contact, Team, _user


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Queue(models.Model):
    """A team taking tickets, and how a new ticket finds its person."""

    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("In turn (round-robin)")
        MANUAL = "manual", _("By hand")

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="ticket_queue", verbose_name=_("team")
    )
    assignment = models.CharField(
        _("assignment"), max_length=12, choices=Assignment.choices, default=Assignment.ROUND_ROBIN
    )
    # The member the last ticket went to: round-robin gives the next one to whoever follows.
    last_assignee = _user()

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["team__name", "id"]

    def __str__(self) -> str:
        return self.team.name


class ServiceSettings(models.Model):
    """One row per company: the help centre's look and which channels make tickets."""

    class Calls(models.TextChoices):
        OFF = "off", _("No")
        MISSED = "missed", _("Missed calls")
        ALL = "all", _("Every incoming call")

    help_requests = models.BooleanField(
        _("the help centre takes requests"),
        default=False,
        help_text=_("Open the public page where customers submit requests and follow them."),
    )
    reply_mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mailbox for replies and surveys"),
        help_text=_("Tickets that did not come by e-mail are answered from this mailbox."),
    )
    default_queue = models.ForeignKey(
        Queue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("queue of new tickets"),
    )
    telegram_tickets = models.BooleanField(
        _("Telegram messages from clients become tickets (instead of requests)"), default=False
    )
    call_tickets = models.CharField(
        _("calls become tickets"), max_length=8, choices=Calls.choices, default=Calls.OFF
    )
    surveys = models.BooleanField(_("ask for a rating when a ticket is solved"), default=True)

    class Meta:
        verbose_name = _("customer service settings")

    def __str__(self) -> str:
        return "customer service settings"

    @classmethod
    def current(cls) -> ServiceSettings:
        row = cls.objects.order_by("pk").first()
        return row or cls.objects.create()


class SupportMailbox(models.Model):
    """A mailbox whose incoming letters become tickets (support@)."""

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, related_name="support", verbose_name=_("mailbox")
    )
    queue = models.ForeignKey(
        Queue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("queue"),
    )

    class Meta:
        verbose_name = _("support mailbox")
        verbose_name_plural = _("support mailboxes")

    def __str__(self) -> str:
        return f"support {self.mailbox_id}"


class SlaPolicy(models.Model):
    """How fast tickets are answered and solved, in the company's working time. The most
    specific active policy applies: this client and this priority, this client, this priority,
    then the general one."""

    name = models.CharField(_("name"), max_length=200)
    priority = models.CharField(
        _("priority"),
        max_length=8,
        choices=Priority.choices,
        blank=True,
        help_text=_("Empty: any priority."),
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
        help_text=_("Empty: every client."),
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within, working minutes"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("solved within, working minutes"),
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 365)],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


LIVE = models.Q(merged_into__isnull=True)
OPEN_LIVE = models.Q(status__in=["new", "open", "waiting"], merged_into__isnull=True)


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for the customer")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        EMAIL = "email", _("E-mail")
        HELP_CENTRE = "help_centre", _("Help centre")
        TELEGRAM = "telegram", _("Telegram")
        CALL = "call", _("Call")
        API = "api", "API"
        MANUAL = "manual", _("By hand")

    # What customers quote ("[#123]" in a letter's subject). Not unique in the database: an
    # archive restored into a company that already has tickets brings its own numbers along.
    number = models.PositiveBigIntegerField(_("number"), null=True, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=500)
    client = models.ForeignKey(
        Client,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("client"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("contact person"),
    )
    requester_email = models.EmailField(_("customer's e-mail"), blank=True)
    requester_name = models.CharField(_("customer's name"), max_length=300, blank=True)
    requester_phone = models.CharField(_("customer's phone"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    queue = models.ForeignKey(
        Queue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("queue"),
    )
    assignee = _user(verbose_name=_("assignee"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    # Where replies go: the e-mail thread (and its mailbox), or the Telegram chat.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    telegram_chat_id = models.BigIntegerField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    # SLA: the policy and its deadlines (company working time), whether each was warned about,
    # missed and escalated. ``sla_check_at`` is the next moment the timer engine must look.
    sla_policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warned = models.BooleanField(default=False)
    resolution_warned = models.BooleanField(default=False)
    first_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    sla_check_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_at = models.DateTimeField(null=True, blank=True)
    created_by = _user()
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at", "-id"]
        # The list's pages walk one of these in order and stop after a page (no sort of
        # 200,000 rows): open tickets (the default), every ticket, a queue's or a person's
        # open ones, and the SLA-due order; a status of its own uses the status index.
        indexes = [
            models.Index(
                fields=["-updated_at", "-id"], name="ticket_open_idx", condition=OPEN_LIVE
            ),
            models.Index(fields=["-updated_at", "-id"], name="ticket_live_idx", condition=LIVE),
            models.Index(
                fields=["queue", "-updated_at", "-id"],
                name="ticket_queue_open_idx",
                condition=OPEN_LIVE,
            ),
            models.Index(
                fields=["assignee", "-updated_at", "-id"],
                name="ticket_assignee_open_idx",
                condition=OPEN_LIVE,
            ),
            models.Index(fields=["sla_check_at", "id"], name="ticket_due_idx", condition=OPEN_LIVE),
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_idx"),
            models.Index(fields=["client", "-created_at"], name="ticket_client_idx"),
            models.Index(fields=["requester_email"], name="ticket_requester_idx"),
            models.Index(fields=["conversation"], name="ticket_conversation_idx"),
            models.Index(
                fields=["sla_check_at"],
                name="ticket_sla_due_idx",
                condition=models.Q(sla_check_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.NEW, self.Status.OPEN, self.Status.WAITING}


class TicketMessage(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        REPLY = "reply", _("Reply")
        NOTE = "note", _("Internal note")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    author = _user()
    author_name = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    # The letter this is (a customer's e-mail, or the reply as sent): its files and delivery.
    mail = models.ForeignKey(
        MailMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    problem = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_message_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class Survey(models.Model):
    """The one question asked after a ticket is solved: how did we do (1–5), and a comment."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    sent_at = models.DateTimeField(default=timezone.now)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")

    def __str__(self) -> str:
        return f"survey of {self.ticket_id}"
