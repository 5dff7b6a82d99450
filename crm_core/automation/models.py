"""Automation inside one company: request forms, stage rules, SLA timers, outgoing webhooks.

Every table lives in the company's schema. Users are global, so a row that names a person
keeps only the user's id (no constraint into ``public``), as crm_core does.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.automation.origins import validate_sites
from crm_core.models import Deal, Pipeline, Stage, Task, Team


def _user(**kwargs: object) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        **kwargs,  # type: ignore[arg-type]
    )


def new_public_id() -> str:
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    return secrets.token_hex(32)


class AutomationSettings(models.Model):
    """One row per company: the webhook signing secret, how SLA escalation waits, and how long
    a repeat request from the same person joins the deal the first one opened."""

    webhook_secret = models.CharField(max_length=64, default=new_secret)
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate to the head after, minutes"), default=15
    )
    # A day: people re-send a form when nobody has called back yet, and later the same day about
    # the same thing; a new need after that gets its own deal. 0 switches joining off.
    repeat_window_minutes = models.PositiveIntegerField(
        _("repeat requests join the open deal within, minutes"), default=24 * 60
    )

    def __str__(self) -> str:
        return "automation settings"

    @classmethod
    def current(cls) -> AutomationSettings:
        row = cls.objects.order_by("pk").first()
        return row or cls.objects.create()


class RequestForm(models.Model):
    """A way for the company's customers to leave a request: a hosted/embedded form or the API."""

    class Target(models.TextChoices):
        LEAD = "lead", _("A request in the inbox")
        DEAL = "deal", _("A deal at the first stage")

    class Assign(models.TextChoices):
        FIXED = "fixed", _("A fixed person")
        ROUND_ROBIN = "round_robin", _("In turn among a team")
        CLIENT_MANAGER = "client_manager", _("The client's responsible manager")

    name = models.CharField(_("name"), max_length=200)
    # In the public URL of the form (not a secret: it is on the company's website anyway).
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id)
    # The API key is shown once; only its SHA-256 is kept.
    api_key_hash = models.CharField(max_length=64, blank=True, db_index=True)
    is_active = models.BooleanField(_("accepting requests"), default=True)
    # A list of {key, label, required}; the keys name, phone, email, company and message map to
    # the request's own fields, any other key is kept with the message.
    fields = models.JSONField(_("fields"), default=list)
    target = models.CharField(
        _("creates"), max_length=8, choices=Target.choices, default=Target.DEAL
    )
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("pipeline")
    )
    assign = models.CharField(
        _("assign to"), max_length=16, choices=Assign.choices, default=Assign.FIXED
    )
    assignee = _user(verbose_name=_("person"))
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("team")
    )
    # Round-robin position; moved under a row lock so two requests never get the same person.
    turn = models.PositiveBigIntegerField(default=0)
    allowed_sites = models.TextField(
        _("sites that may embed the form"),
        blank=True,
        help_text=_("One address per line, e.g. https://okna.example; empty allows any site."),
        validators=[validate_sites],
    )
    per_ip_per_hour = models.PositiveIntegerField(_("requests per address per hour"), default=10)
    per_form_per_hour = models.PositiveIntegerField(_("requests per hour in all"), default=300)
    thanks_text = models.CharField(
        _("thank-you text"), max_length=300, default=_("Thank you! We will call you back soon.")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("request form")
        verbose_name_plural = _("request forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CapturedRequest(models.Model):
    """Every request that reached us through any channel, as it came, with what became of it.

    Kept even when the request was refused for bad input, so nothing a customer sent is lost.
    """

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        INVALID = "invalid", _("Refused: bad input")

    form = models.ForeignKey(RequestForm, on_delete=models.CASCADE, related_name="requests")
    channel = models.CharField(max_length=20)
    payload = models.JSONField(default=dict)
    source = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices)
    errors = models.JSONField(default=dict, blank=True)
    lead = models.ForeignKey(
        "crm_core.Lead", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deal = models.ForeignKey(
        Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} request {self.pk}"


class StageRule(models.Model):
    """When something happens to a deal at a stage, do the rule's actions."""

    class Trigger(models.TextChoices):
        ENTERS = "enters", _("The deal enters the stage (moved or created there)")
        CREATED = "created", _("The deal is created at the stage")
        STAYS = "stays", _("The deal stays at the stage longer than")

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="+", verbose_name=_("stage")
    )
    name = models.CharField(_("name"), max_length=200)
    trigger = models.CharField(_("when"), max_length=8, choices=Trigger.choices)
    stays_minutes = models.PositiveIntegerField(_("minutes at the stage"), default=0)
    is_active = models.BooleanField(_("switched on"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stage rule")
        verbose_name_plural = _("stage rules")
        ordering = ["stage__pipeline", "stage__position", "id"]

    def __str__(self) -> str:
        return self.name


class RuleAction(models.Model):
    class Kind(models.TextChoices):
        TASK = "task", _("Create a task")
        NOTIFY = "notify", _("Notify in the CRM and by e-mail")
        EMAIL_CLIENT = "email_client", _("Send the client an e-mail")
        SET_FIELD = "set_field", _("Change a field")
        WEBHOOK = "webhook", _("Call a webhook")

    class Who(models.TextChoices):
        MANAGER = "manager", _("The deal's manager")
        PERSON = "person", _("A named person")
        ROLE = "role", _("Someone with a role")
        HEAD = "head", _("The head of the manager's team")

    rule = models.ForeignKey(StageRule, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("action"), max_length=16, choices=Kind.choices)
    who = models.CharField(_("for whom"), max_length=8, choices=Who.choices, default=Who.MANAGER)
    person = _user(verbose_name=_("person"))
    role = models.CharField(_("role"), max_length=16, blank=True)
    title = models.CharField(_("task or subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    task_kind = models.CharField(
        _("task type"), max_length=16, choices=Task.Kind.choices, default=Task.Kind.CALL
    )
    due_minutes = models.PositiveIntegerField(_("due in, minutes"), default=60)
    # A task with an SLA: when its deadline passes, the assignee and then the head are told.
    sla = models.BooleanField(_("SLA: escalate when overdue"), default=False)
    field = models.CharField(_("field"), max_length=60, blank=True)
    value = models.CharField(_("value"), max_length=300, blank=True)
    url = models.URLField(_("webhook address"), blank=True, max_length=500)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title or self.url or self.field}"


class Timer(models.Model):
    """Something to do at ``due_at``: the rows beat scans. A row is claimed with
    ``SELECT … FOR UPDATE SKIP LOCKED`` and marked fired in the same transaction as its action,
    so a deadline is acted on once, by one worker, and survives restarts."""

    class Kind(models.TextChoices):
        STAYS = "stays", _("Deal stays at a stage")
        SLA_OVERDUE = "sla_overdue", _("SLA deadline")
        SLA_ESCALATE = "sla_escalate", _("SLA escalation")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    due_at = models.DateTimeField()
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, null=True, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, null=True, related_name="+")
    rule = models.ForeignKey(StageRule, on_delete=models.CASCADE, null=True, related_name="+")
    # For "stays": the stage entry this timer belongs to (a later re-entry is a new timer).
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="timer_pending_idx",
                condition=models.Q(fired_at__isnull=True),
            ),
            models.Index(fields=["task", "kind"], name="timer_task_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.due_at:%Y-%m-%d %H:%M}"


class WorkingHours(models.Model):
    """Hours the company works on a weekday; SLA clocks run only inside them when any are set."""

    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [models.UniqueConstraint(fields=["weekday"], name="working_hours_day")]

    def __str__(self) -> str:
        return f"{self.weekday}: {self.opens}–{self.closes}"


class Holiday(models.Model):
    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}"


def _subscription_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    """An integration's standing order: "POST these CRM events to this address". Managed by
    the company's admins (settings page or the API); deliveries share the stage rules' queue,
    retries and log. Switched off rather than deleted, so its deliveries keep their history."""

    class Event(models.TextChoices):
        DEAL_CREATED = "deal.created", _("Deal created")
        DEAL_STAGE_CHANGED = "deal.stage_changed", _("Deal moved to another stage")
        DEAL_UPDATED = "deal.updated", _("Deal changed")
        CONTACT_CREATED = "contact.created", _("Contact person created")
        CONTACT_UPDATED = "contact.updated", _("Contact person changed")
        TASK_CREATED = "task.created", _("Task created")
        TASK_COMPLETED = "task.completed", _("Task done")

    url = models.URLField(_("address"), max_length=500)
    events = ArrayField(
        models.CharField(max_length=40, choices=Event.choices), verbose_name=_("events")
    )
    # Signs this subscription's deliveries (same scheme as the stage rules' webhooks).
    secret = models.CharField(max_length=64, default=_subscription_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [GinIndex(fields=["events"], name="webhook_sub_events")]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"


class WebhookDelivery(models.Model):
    """One event sent to one address, with every attempt's answer: what the admin sees."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        RETRYING = "retrying", _("Failed, will retry")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    url = models.URLField(max_length=500)
    event = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    rule = models.ForeignKey(
        StageRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While "sending": until when the worker that claimed the attempt holds it. A claim past
    # this time belongs to a worker that died; the next attempt may take it over.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.status})"
