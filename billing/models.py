"""Plans, each company's subscription, seat changes sent to Stripe, and Stripe's events.

All of it lives in the public schema: billing is about companies, not inside one.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Company, User


class Plan(models.Model):
    """What a seat costs per month, and what comes with it. Operators edit these rows."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(
        _("name in English"), max_length=100, blank=True, help_text=_("Empty: the same as name.")
    )
    price_per_seat = models.DecimalField(
        _("price per seat per month"), max_digits=10, decimal_places=2
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    stripe_price_id = models.CharField(_("Stripe price id"), max_length=100, blank=True)
    seat_cap = models.PositiveIntegerField(
        _("seat cap"), null=True, blank=True, help_text=_("Empty: no limit on paid seats.")
    )
    trial_days = models.PositiveIntegerField(_("trial days"), default=14)
    features = models.JSONField(
        _("features"), default=list, blank=True, help_text=_("A list of short phrases.")
    )
    # Whole numbers by key; a key that is absent means "no limit". The keys are listed in
    # LIMIT_KEYS (and docs/decisions.md); the CRM enforces them, billing only states them.
    limits = models.JSONField(
        _("limits"),
        default=dict,
        blank=True,
        help_text=_(
            "Whole numbers; a missing key means no limit. Keys: storage_mb, pipelines, "
            'automation_rules, custom_fields. E.g. {"storage_mb": 1024, "pipelines": 1}.'
        ),
    )
    is_public = models.BooleanField(_("shown on the pricing page"), default=True)
    is_default = models.BooleanField(_("given to new companies"), default=False)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["sort_order", "price_per_seat", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="plan_one_default",
            ),
            models.CheckConstraint(
                condition=models.Q(price_per_seat__gte=Decimal(0)), name="plan_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        problems = limit_problems(self.limits)
        if problems:
            raise ValidationError({"limits": problems})

    def display_name(self, language: str) -> str:
        """The plan's name for a page in ``language`` (the Russian name is the plan's own)."""
        return self.name_en if language.startswith("en") and self.name_en else self.name


# The limits a plan may set; the CRM checks them (a key absent from a plan: no limit).
LIMIT_KEYS = ("storage_mb", "pipelines", "automation_rules", "custom_fields")


def limit_problems(limits: object) -> list[str]:
    """Why ``limits`` is not a valid plan limits object (empty when it is)."""
    if not isinstance(limits, dict):
        return [str(_('Limits must be an object, e.g. {"pipelines": 3}.'))]
    problems = []
    for key, value in limits.items():
        if key not in LIMIT_KEYS:
            problems.append(
                str(_("Unknown limit %(key)s; known: %(known)s."))
                % {"key": key, "known": ", ".join(LIMIT_KEYS)}
            )
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(str(_("Limit %(key)s must be a whole number ≥ 0.")) % {"key": key})
    return problems


class Subscription(models.Model):
    """A company's subscription: our copy of what Stripe says, plus the trial before Stripe."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, null=True, blank=True)
    trial_ends_at = models.DateTimeField(_("trial ends"), null=True, blank=True)
    # An operator's gift: nothing is charged and access is full until then.
    free_until = models.DateTimeField(_("free until"), null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    # The subscription item that carries the seat quantity. Kept, not looked up before each
    # change, so that a retried change sends exactly the same request (same idempotency key,
    # same parameters) even if the first attempt went through and its answer was lost.
    stripe_item_id = models.CharField(max_length=100, blank=True)
    # The status string Stripe last reported for the subscription (trialing, active, past_due,
    # unpaid, canceled, incomplete…); the company's own status is derived from it.
    stripe_status = models.CharField(max_length=32, blank=True)
    paid_seats = models.PositiveIntegerField(_("paid seats"), default=0)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # The company asked to stop at the end of the paid period (it can still resume until then).
    cancel_at_period_end = models.BooleanField(default=False)
    last_payment_at = models.DateTimeField(_("last payment"), null=True, blank=True)
    failed_payments = models.PositiveIntegerField(_("failed payments"), default=0)
    # Seat changes are applied in the order they were made; an older one never overwrites a
    # newer quantity (see billing.services.seats).
    last_seat_change_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.company} ({self.stripe_status or 'trial'})"


class SeatChange(models.Model):
    """One change of the number of paid seats, to be sent to Stripe.

    Its id is our operation id: the Stripe idempotency key is derived from it, so a retried
    task replays the first answer instead of changing the subscription twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        SUPERSEDED = "superseded", _("Superseded by a later change")
        NOT_BILLED = "not_billed", _("Not billed (no paid subscription)")
        FAILED = "failed", _("Failed")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="seat_changes")
    quantity = models.PositiveIntegerField(_("paid seats after the change"))
    reason = models.CharField(_("reason"), max_length=200)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("seat change")
        verbose_name_plural = _("seat changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="seatchange_state_idx")]

    def __str__(self) -> str:
        return f"{self.company} → {self.quantity} ({self.state})"

    @property
    def idempotency_key(self) -> str:
        return f"relata-seat-change-{self.pk}"


class StripeEvent(models.Model):
    """Every webhook event Stripe delivered, stored once (Stripe sends some twice)."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Not needed")
        UNKNOWN_CUSTOMER = "unknown_customer", _("Unknown customer")
        FAILED = "failed", _("Failed")

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class FailedPayment(models.Model):
    """One failed attempt to pay one invoice. Stripe announces it with an event that may be
    delivered twice, processed twice (a retried task) or even resent under a new event id;
    the unique (invoice, attempt) pair makes every copy count once."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="failed_payment_attempts"
    )
    invoice_id = models.CharField(max_length=100)
    attempt = models.PositiveIntegerField(default=0)
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)
    event_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("failed payment")
        verbose_name_plural = _("failed payments")
        ordering = ["-failed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_id", "attempt"], name="failed_payment_once_per_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company} {self.invoice_id} #{self.attempt}"


class Invoice(models.Model):
    """Our copy of one Stripe invoice of a company, refreshed from Stripe on every invoice
    event (and after Checkout), so the billing page lists invoices even while Stripe is slow
    or down."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invoices")
    stripe_invoice_id = models.CharField(max_length=100, unique=True)
    number = models.CharField(_("number"), max_length=100, blank=True)
    # Stripe's invoice status: draft, open, paid, uncollectible, void.
    status = models.CharField(_("status"), max_length=20)
    total = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    amount_paid = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(_("date"))
    paid_at = models.DateTimeField(_("paid on"), null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=1000, blank=True)
    invoice_pdf = models.URLField(max_length=1000, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "-created_at"], name="invoice_company_idx")]

    def __str__(self) -> str:
        return f"{self.company} {self.number or self.stripe_invoice_id} {self.status}"


class SeatSnapshot(models.Model):
    """Seats across all companies on one day, taken by the nightly task: the console's
    "seats over time" chart reads these rows instead of rebuilding history."""

    day = models.DateField(unique=True)
    seats_in_use = models.PositiveIntegerField(_("seats in use"))
    paid_seats = models.PositiveIntegerField(_("paid seats"))
    companies = models.PositiveIntegerField(_("companies"))

    class Meta:
        verbose_name = _("seat snapshot")
        verbose_name_plural = _("seat snapshots")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.seats_in_use} in use, {self.paid_seats} paid"


class BillingLogEntry(models.Model):
    """What billing changed on its own (webhooks, reconciliation) or failed to do, for operators."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status changed")
        SEATS = "seats", _("Seats changed")
        DRIFT = "drift", _("Drift repaired")
        FAILURE = "failure", _("Failure")
        OPERATOR = "operator", _("Operator action")

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="billing_log"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField()
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("billing log entry")
        verbose_name_plural = _("billing log")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind}: {self.message}"
