"""What operators do to a company. Each action is one transaction with its audit entry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import stripe_gateway
from billing.models import BillingLogEntry, Plan
from billing.services.subscriptions import (
    billing_status,
    end_subscription_now,
    ensure_subscription,
    paying_through_stripe,
    reopen,
    set_company_status,
    sync_from_stripe,
)
from tenants.models import Company, User

Status = Company.Status


def _audit(company: Company, operator: User, message: str) -> None:
    BillingLogEntry.objects.create(
        company=company, kind=BillingLogEntry.Kind.OPERATOR, actor=operator, message=message
    )


def _days(value: int) -> int:
    if not 1 <= value <= 366:
        raise ValidationError(_("Give a number of days from 1 to 366."))
    return value


def extend_trial(*, operator: User, company: Company, days: int) -> None:
    days = _days(days)
    with transaction.atomic():
        subscription = ensure_subscription(company)
        start = max(subscription.trial_ends_at or timezone.now(), timezone.now())
        subscription.trial_ends_at = start + timedelta(days=days)
        subscription.save(update_fields=["trial_ends_at", "updated_at"])
        if company.status == Status.SUSPENDED and not subscription.stripe_subscription_id:
            set_company_status(company, Status.TRIALING, why="trial extended", actor=operator)
        _audit(
            company,
            operator,
            f"trial extended by {days} days to {subscription.trial_ends_at:%Y-%m-%d}",
        )


def change_plan(*, operator: User, company: Company, plan: Plan) -> None:
    """The plan for future billing. A company already paying through Stripe changes its price
    in Stripe (Portal or dashboard); here only the local plan and seat cap change."""
    with transaction.atomic():
        subscription = ensure_subscription(company)
        old = subscription.plan
        subscription.plan = plan
        subscription.save(update_fields=["plan", "updated_at"])
        _audit(company, operator, f"plan {old} → {plan}")


def grant_free_period(*, operator: User, company: Company, days: int) -> None:
    """Free access until a date. A company paying through Stripe gets it as a trial end on
    its subscription (the next charge moves; Stripe stays the truth), keyed on the audit row."""
    days = _days(days)
    with transaction.atomic():
        subscription = ensure_subscription(company)
        start = max(subscription.free_until or timezone.now(), timezone.now())
        subscription.free_until = start + timedelta(days=days)
        subscription.save(update_fields=["free_until", "updated_at"])
        entry = BillingLogEntry.objects.create(
            company=company,
            kind=BillingLogEntry.Kind.OPERATOR,
            actor=operator,
            message=f"free until {subscription.free_until:%Y-%m-%d}",
        )
        if paying_through_stripe(subscription) and stripe_gateway.live():
            remote = stripe_gateway.free_until(
                subscription_id=subscription.stripe_subscription_id,
                until=int(subscription.free_until.timestamp()),
                key=f"relata-free-period-{entry.pk}",
            )
            sync_from_stripe(subscription, remote, why="free period")
        elif company.status == Status.SUSPENDED:
            set_company_status(company, Status.TRIALING, why="free period", actor=operator)


MAX_CREDIT = Decimal(1_000_000)


def grant_credit(*, operator: User, company: Company, amount: Decimal, operation: str) -> str:
    """Money off the company's next invoices, as a Stripe customer balance credit (Stripe
    applies it to invoices itself; nothing here pretends to). ``operation`` comes from the
    console's form: the idempotency key is derived from it, so a repeated submission or a
    retry after a lost answer credits once. Returns Stripe's transaction id."""
    if not operation or len(operation) > 64:
        raise ValidationError(_("Reload the page and try again."))
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_CREDIT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValidationError(_("Give an amount greater than zero, with at most two decimals."))
    subscription = ensure_subscription(company)
    if not subscription.stripe_customer_id or not stripe_gateway.live():
        raise ValidationError(
            _("The company pays nothing through Stripe yet: grant a free period instead.")
        )
    marker = f"(operation {operation})"
    if BillingLogEntry.objects.filter(company=company, message__endswith=marker).exists():
        raise ValidationError(_("This credit was already granted."))
    currency = subscription.plan.currency if subscription.plan else "RUB"
    transaction_ = stripe_gateway.credit_customer(
        customer=subscription.stripe_customer_id,
        cents=int(amount * 100),
        currency=currency,
        description=f"Relata credit by {operator.email}",
        key=f"relata-credit-{company.pk}-{operation}",
    )
    _audit(
        company,
        operator,
        f"credit {amount} {currency.upper()} granted (Stripe {transaction_['id']}) {marker}",
    )
    return str(transaction_["id"])


def suspend(*, operator: User, company: Company) -> None:
    if company.status == Status.CANCELED:
        raise ValidationError(_("A canceled company cannot be suspended."))
    with transaction.atomic():
        set_company_status(company, Status.SUSPENDED, why="operator", actor=operator)
        _audit(company, operator, "suspended")


def restore(*, operator: User, company: Company) -> None:
    if company.status != Status.SUSPENDED:
        raise ValidationError(_("Only a suspended company can be restored."))
    with transaction.atomic():
        target = billing_status(ensure_subscription(company))
        if target == Status.SUSPENDED:
            raise ValidationError(
                _(
                    "The company has no subscription or trial that lets it work: it comes back "
                    "when it subscribes again, or give it a free period."
                )
            )
        set_company_status(company, target, why="operator", actor=operator)
        _audit(company, operator, "restored")


def schedule_deletion(*, operator: User, company: Company) -> None:
    """Cancel the company now (and its Stripe subscription); the final export is made and
    deletion scheduled after the retention period (the same path as a subscription canceled
    in Stripe)."""
    if company.status == Status.CANCELED:
        raise ValidationError(_("Deletion is already scheduled."))
    # Stripe first: a company closed by an operator is charged no further, not even until
    # its period ends. If Stripe refuses, nothing here changes and the operator sees why.
    end_subscription_now(company, why=f"deletion scheduled by {operator.email}", actor=operator)
    with transaction.atomic():
        set_company_status(company, Status.CANCELED, why="operator", actor=operator)
        _audit(company, operator, "deletion scheduled")


def cancel_deletion(*, operator: User, company: Company) -> None:
    if company.status != Status.CANCELED:
        raise ValidationError(_("No deletion is scheduled."))
    with transaction.atomic():
        status = reopen(company, why="deletion canceled by an operator", actor=operator)
        _audit(company, operator, f"deletion canceled; the company is {status}")


def sync_seats_now(*, operator: User, company: Company) -> None:
    """Send the current number of paid seats to Stripe at once (after a failed change), as a
    new seat change with its own idempotency key. Raises if Stripe still refuses."""
    from billing.services import seats

    with transaction.atomic():
        change = seats.record_change(company, reason=f"operator {operator.email}: sync now")
        _audit(company, operator, f"seat sync requested (change #{change.pk})")
    seats.apply_change(change.pk)


def open_support_session(*, operator: User, company: Company, ip: str | None) -> str:
    """Record a support session (the company must allow it) and audit it; returns the
    single-use token that carries the operator into the company's host."""
    from tenants.services import support

    with transaction.atomic():
        session, token = support.open_session(operator=operator, company=company, ip=ip)
        _audit(company, operator, f"support session #{session.pk} opened from {ip or '?'}")
    return token
